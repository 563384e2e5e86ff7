"""The embedded default: a pool of worker processes that ``contango serve`` starts with the API.

Jobs run in separate processes (not threads of the API), so a job that crashes or is killed
takes only its worker down: the supervisor in the API process notices the dead process, starts
another, and the lease recovery queues the job again. The queue is the jobs table itself; a
worker claims the oldest queued job with a conditional UPDATE. Worker processes are started
when the first job is queued, so an API that runs no jobs starts no processes.

Events (progress, final status) travel from the workers over a process queue to the API's
:class:`~contango.workers.progress.ProgressHub` (for the WebSocket) and its metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import queue
import threading
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from contango.observability.metrics import Metrics
from contango.services import jobs
from contango.services.context import ServiceContext, open_context
from contango.services.job_runner import run_attempt
from contango.settings import Settings
from contango.workers.leases import recover_once, recovery_seconds, worker_name
from contango.workers.progress import ProgressHub
from contango.workers.sandbox import sandboxed_targets

log = logging.getLogger("contango.jobs")
IDLE_POLL_SECONDS = 1.0
STOP_GRACE_SECONDS = 3.0


class LocalWorkerPool:
    """Up to ``slots`` worker processes, a lease recoverer, and the event relay."""

    def __init__(
        self, context: ServiceContext, slots: int | None = None, metrics: Metrics | None = None
    ) -> None:
        self.context = context
        self.slots = slots or context.settings.worker_slots
        self.metrics = metrics
        self.hub = ProgressHub()
        self._spawn = multiprocessing.get_context("spawn")
        self._events: multiprocessing.Queue[dict[str, Any] | None] = self._spawn.Queue()
        self._wake = self._spawn.Event()
        self._processes: list[SpawnProcess] = []
        self._kick = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._depth = 0
        self._task: asyncio.Task[None] | None = None
        self._relay: threading.Thread | None = None

    async def start(self) -> None:
        """Start supervising (worker processes follow when jobs are queued)."""
        self._loop = asyncio.get_running_loop()
        self.hub.bind(self._loop)
        self._relay = threading.Thread(target=self._relay_events, name="job-events", daemon=True)
        self._relay.start()
        self._task = asyncio.create_task(self._supervise())

    async def stop(self) -> None:
        """Stop the workers; jobs they held go back to the queue without spending an attempt."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        owners = [worker_name(p.pid) for p in self._processes]
        await asyncio.to_thread(self._terminate)
        try:
            async with self.context.database.transaction() as session:
                released = await jobs.release(session, owners)
        except SQLAlchemyError:
            # Releasing only saves an attempt: the leases expire and the next start recovers
            # the jobs anyway, so a busy database must not turn a shutdown into a crash.
            log.warning("could not requeue the jobs of stopped workers; their leases will expire")
            released = 0
        if released:
            log.info("requeued %d job(s) held by stopped workers", released)
        self._events.put(None)
        if self._relay is not None:
            await asyncio.to_thread(self._relay.join, STOP_GRACE_SECONDS)
        self._events.close()

    def submitted(self, job_id: str, kind: str) -> None:  # noqa: ARG002 - any worker takes any kind
        """A job was queued: start a worker if none runs, and wake an idle one. Called from a
        thread of the server (after the job was committed), so the supervisor is woken through
        its event loop: an asyncio event set from another thread may wake nobody."""
        if self._loop is not None:
            # A closed loop: the server is stopping, and its next start finds the job queued.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._kick.set)
        self._wake.set()

    def depth(self) -> int:
        """Queued jobs, as last counted by the supervisor."""
        return self._depth

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers."""
        return [p.pid for p in self._processes if p.pid is not None and p.is_alive()]

    async def _supervise(self) -> None:
        every = recovery_seconds(self.context.settings.lease_seconds)
        while True:
            try:
                await self._tick()
            except Exception:
                log.exception("the worker pool supervisor failed; retrying")
            self._kick.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), every)

    async def _tick(self) -> None:
        recovered = await recover_once(self.context)
        async with self.context.database.transaction() as session:
            _, self._depth = await jobs.next_queued(session)
        for process in [p for p in self._processes if not p.is_alive()]:
            log.warning("worker process %s exited with %s", process.pid, process.exitcode)
            process.join(0)
            self._processes.remove(process)
        if self._depth or recovered:
            while len(self._processes) < self.slots:
                self._processes.append(self._start_worker())
            self._wake.set()

    def _start_worker(self) -> SpawnProcess:
        process = self._spawn.Process(
            target=worker_main,
            args=(self.context.settings, self._events, self._wake, os.getpid()),
            name="contango-worker",
            daemon=True,
        )
        process.start()
        log.info("started worker process %s", process.pid)
        return process

    def _terminate(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.join(STOP_GRACE_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        self._processes = []

    def _relay_events(self) -> None:
        """Thread: events from the workers to the hub and the metrics."""
        while True:
            try:
                item = self._events.get()
            except (EOFError, OSError):
                return
            if item is None:
                return
            self.hub.publish(item)
            self._count(item)

    def _count(self, item: dict[str, Any]) -> None:
        if self.metrics is None or item.get("status") in {"running", "queued"}:
            return
        kind, status = str(item.get("kind")), str(item.get("status"))
        self.metrics.jobs_finished.labels(kind, status).inc()
        self.metrics.job_seconds.labels(kind).observe(float(item.get("seconds", 0.0)))
        counts = item.get("throughput") or {}
        self.metrics.bars_simulated.inc(counts.get("bars", 0))
        self.metrics.backtests_run.inc(counts.get("backtests", 0))


# ---------------------------------------------------------------- the worker process


def worker_main(
    settings: Settings,
    events: multiprocessing.Queue[dict[str, Any] | None],
    wake: ProcessEvent,
    parent: int,
) -> None:
    """Entry point of a worker process: claim and run jobs until the parent goes away."""
    logging.basicConfig(level=settings.log_level)
    asyncio.run(_serve(settings, events, wake, parent))


async def _serve(
    settings: Settings,
    events: multiprocessing.Queue[dict[str, Any] | None],
    wake: ProcessEvent,
    parent: int,
) -> None:
    context = await open_context(settings, migrate=False)
    name = worker_name()
    sandbox = sandboxed_targets(settings)

    def publish(event: dict[str, Any]) -> None:
        with contextlib.suppress(queue.Full, ValueError, OSError):
            events.put_nowait(event)

    try:
        while os.getppid() == parent:  # an orphan (the API was killed) stops
            async with context.database.transaction() as session:
                job_id, _ = await jobs.next_queued(session)
                job = None
                if job_id is not None:
                    job = await jobs.claim(session, job_id, name, settings.lease_seconds)
            if job is not None:
                await run_attempt(context, job, publish, sandbox)
            elif job_id is None:
                await asyncio.to_thread(wake.wait, IDLE_POLL_SECONDS)
                wake.clear()
    finally:
        await context.close()
