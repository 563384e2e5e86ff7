"""The API's side of Celery: dispatch submitted jobs, relay Redis progress to WebSockets.

The API also recovers expired leases (as every worker does), so a job whose workers all died
is queued again as soon as any worker returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as aioredis
from celery import Celery

from contango.services import jobs
from contango.services.context import ServiceContext
from contango.services.jobs import Recovered
from contango.workers.celery_app import (
    PRIORITY_NEW,
    PRIORITY_RECOVERED,
    RUN_JOB,
    make_celery,
    queue_of,
)
from contango.workers.leases import recover_forever, recovery_seconds
from contango.workers.progress import CHANNEL_PREFIX, ProgressHub, decode

log = logging.getLogger("contango.jobs")


class CeleryBackend:
    """Jobs run by Celery workers; events come back over Redis pub/sub."""

    def __init__(self, context: ServiceContext) -> None:
        self.context = context
        self.hub = ProgressHub()
        self.celery: Celery = make_celery(context.settings)
        self._depth = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Relay events, recover leases, count the queue."""
        self.hub.bind(asyncio.get_running_loop())
        self._tasks = [
            asyncio.create_task(self._relay()),
            asyncio.create_task(recover_forever(self.context, self._dispatch)),
            asyncio.create_task(self._count()),
        ]

    async def stop(self) -> None:
        """Stop relaying (the workers keep running their jobs)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def submitted(self, job_id: str, kind: str, priority: int = PRIORITY_NEW) -> None:
        """Send the job to its domain queue."""
        self.celery.send_task(RUN_JOB, args=[job_id], queue=queue_of(kind), priority=priority)

    def depth(self) -> int:
        """Queued jobs, as last counted."""
        return self._depth

    def _dispatch(self, item: Recovered) -> None:
        self.submitted(str(item.job_id), item.kind, PRIORITY_RECOVERED)

    async def _count(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                async with self.context.database.transaction() as session:
                    _, self._depth = await jobs.next_queued(session)
            await asyncio.sleep(recovery_seconds(self.context.settings.lease_seconds))

    async def _relay(self) -> None:
        while True:
            try:
                client = aioredis.Redis.from_url(self.context.settings.redis_url)
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
                    async for message in pubsub.listen():
                        if message.get("type") == "pmessage":
                            event = decode(message["data"])
                            if event is not None:
                                self.hub.publish(event)
            except Exception:
                log.exception("the Redis event relay failed; reconnecting")
                await asyncio.sleep(1.0)
