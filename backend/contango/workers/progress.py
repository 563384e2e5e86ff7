"""Live job events for WebSocket listeners, within the API process and across processes.

Workers publish events (progress, then a final status); the API process fans them out to the
WebSocket connections following that job through a :class:`ProgressHub`. The local pool hands
events over a process queue, Celery workers over Redis pub/sub (channel ``contango:jobs:<id>``).
Events are a convenience for the eye: the database row stays the truth, and a listener that
missed an event reads the row again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, Protocol

log = logging.getLogger("contango.jobs")
CHANNEL_PREFIX = "contango:jobs:"
QUEUE_SIZE = 256


def channel(job_id: str) -> str:
    """The Redis pub/sub channel of one job's events."""
    return f"{CHANNEL_PREFIX}{job_id}"


class ProgressHub:
    """Subscribers per job id, fed from any thread of the API process."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listeners: defaultdict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver events on ``loop`` (the API's event loop)."""
        self._loop = loop

    @contextlib.contextmanager
    def subscribe(self, job_id: str) -> Iterator[asyncio.Queue[dict[str, Any]]]:
        """A queue of ``job_id``'s events while the ``with`` block lasts."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._listeners[job_id].add(queue)
        try:
            yield queue
        finally:
            self._listeners[job_id].discard(queue)
            if not self._listeners[job_id]:
                del self._listeners[job_id]

    def publish(self, event: dict[str, Any]) -> None:
        """Hand ``event`` to its job's listeners; safe from any thread, never blocks."""
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._deliver, event)

    def _deliver(self, event: dict[str, Any]) -> None:
        for queue in list(self._listeners.get(str(event.get("job_id")), ())):
            if queue.full():  # a slow listener loses old progress, never the final status
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)


class JobBackend(Protocol):
    """What the API needs of whatever runs its jobs."""

    hub: ProgressHub

    async def start(self) -> None:
        """Start running (or dispatching) jobs."""

    async def stop(self) -> None:
        """Stop; jobs in flight are recovered by their leases."""

    def submitted(self, job_id: str, kind: str) -> None:
        """A job was queued (and committed): start it soon."""

    def depth(self) -> int:
        """Queued jobs, as last counted."""
        ...


def encode(event: dict[str, Any]) -> str:
    """An event as sent over Redis."""
    return json.dumps(event, separators=(",", ":"), default=str)


def decode(data: bytes | str) -> dict[str, Any] | None:
    """An event read from Redis (None if it is not one)."""
    try:
        value = json.loads(data)
    except ValueError:
        log.warning("ignored a malformed job event on Redis")
        return None
    return value if isinstance(value, dict) else None
