"""The API's side of Celery: dispatch submitted jobs, relay Redis progress to WebSockets.

The API also recovers expired leases (as every worker does), so a job whose workers all died
is queued again as soon as any worker returns, and sends again the queue messages of jobs
whose message was never sent or was lost by the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import redis.asyncio as aioredis
from celery import Celery

from contango.services import jobs
from contango.services.context import ServiceContext
from contango.services.job_dispatch import mark_dispatched
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
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        """Relay events, recover leases, count the queue."""
        self._loop = asyncio.get_running_loop()
        self.hub.bind(self._loop)
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

    def submitted(self, job_id: str, kind: str) -> None:
        """Send a newly queued job to its domain queue, then record that it was sent (called
        after the job was committed, from a worker thread of the server). If the send fails
        or this process stops first, the recovery loop sends it a lease later."""
        self._send(job_id, kind, PRIORITY_NEW)
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._mark(job_id), self._loop)

    def _send(self, job_id: str, kind: str, priority: int) -> None:
        self.celery.send_task(RUN_JOB, args=[job_id], queue=queue_of(kind), priority=priority)

    async def _mark(self, job_id: str) -> None:
        try:
            async with self.context.database.transaction() as session:
                await mark_dispatched(session, uuid.UUID(job_id))
        except Exception:  # the recovery loop sends the job again: one spare message
            log.warning("could not record that job %s was sent", job_id, exc_info=True)

    def depth(self) -> int:
        """Queued jobs, as last counted."""
        return self._depth

    def _dispatch(self, item: Recovered) -> None:
        """Send a job the recovery loop took (its ``dispatched_at`` is set already), ahead of
        the jobs waiting in its queue."""
        self._send(str(item.job_id), item.kind, PRIORITY_RECOVERED)

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
