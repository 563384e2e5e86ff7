"""The embedded job runner: runs queued jobs in this process, one at a time per slot.

``contango serve`` starts it with the API. The queue is the jobs table itself: a worker claims
the oldest queued job with a conditional UPDATE, so a job submitted by any process is found,
and a wake-up from :meth:`LocalJobRunner.notify` only saves the wait for the next poll (it may
arrive before the submitting transaction commits; the poll then finds the job). The heavy work
runs in a thread (the engine releases the GIL in its kernels); progress and cancellation travel
through the database. Jobs a stopped process left running are queued again on start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contango.db.models import JobStatus
from contango.observability.metrics import Metrics
from contango.services import jobs
from contango.services.context import ServiceContext
from contango.services.job_execution import JobCancelledError, JobFailedError, execute
from contango.services.job_specs import JobKind

log = logging.getLogger("contango.jobs")
PROGRESS_INTERVAL_SECONDS = 0.5
POLL_SECONDS = 1.0


@dataclass
class _Live:
    """Progress handed from the worker thread to the event loop."""

    fraction: float = 0.0
    message: str = "started"
    cancelled: threading.Event = field(default_factory=threading.Event)


class LocalJobRunner:
    """Runs jobs from an in-process queue on ``slots`` concurrent workers."""

    def __init__(
        self, context: ServiceContext, slots: int = 1, metrics: Metrics | None = None
    ) -> None:
        self.context = context
        self.slots = slots
        self.metrics = metrics
        self.worker_name = f"{socket.gethostname()}:{os.getpid()}"
        self._wake = asyncio.Event()
        self._depth = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Queue again what a previous process left running, then start the workers."""
        async with self.context.database.transaction() as session:
            requeued = await jobs.requeue_interrupted(session)
        if requeued:
            log.warning("requeued %d job(s) left running by a stopped process", requeued)
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.slots)]

    async def stop(self) -> None:
        """Stop taking jobs (a job in flight is requeued on the next start)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def depth(self) -> int:
        """Queued jobs, as last counted by a worker."""
        return self._depth

    def notify(self) -> None:
        """A job was submitted: wake an idle worker now rather than at its next poll."""
        self._wake.set()

    async def _work(self) -> None:
        while True:
            try:
                async with self.context.database.transaction() as session:
                    job_id, self._depth = await jobs.next_queued(session)
                if job_id is not None:
                    await self.run_one(job_id)
                    continue
            except Exception:
                log.exception("the job runner failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    async def run_one(self, job_id: uuid.UUID) -> None:
        """Claim and run one job to its end."""
        async with self.context.database.transaction() as session:
            job = await jobs.claim(session, job_id, self.worker_name)
        if job is None:
            return  # cancelled or taken meanwhile
        folder = self.context.settings.results_dir / str(job.id)
        live = _Live()

        def progress(fraction: float | None, message: str) -> None:
            if live.cancelled.is_set():
                raise JobCancelledError
            if fraction is not None:
                live.fraction = fraction
            live.message = message

        started = time.perf_counter()
        work = asyncio.create_task(
            asyncio.to_thread(execute, JobKind(job.kind), job.config, folder, progress)
        )
        while not work.done():
            await asyncio.wait({work}, timeout=PROGRESS_INTERVAL_SECONDS)
            async with self.context.database.transaction() as session:
                if await jobs.report_progress(session, job.id, live.fraction, live.message):
                    live.cancelled.set()
        status = await self._record_end(job.id, work, folder)
        if self.metrics is not None:
            self.metrics.jobs_finished.labels(job.kind, status.value).inc()
            self.metrics.job_seconds.labels(job.kind).observe(time.perf_counter() - started)
            if status is JobStatus.SUCCEEDED:
                counts = work.result().get("throughput", {})
                self.metrics.bars_simulated.inc(counts.get("bars", 0))
                self.metrics.backtests_run.inc(counts.get("backtests", 0))

    async def _record_end(
        self, job_id: uuid.UUID, work: asyncio.Task[dict[str, Any]], folder: Path
    ) -> JobStatus:
        error = work.exception()
        async with self.context.database.transaction() as session:
            if error is None:
                await jobs.finish(
                    session,
                    job_id,
                    JobStatus.SUCCEEDED,
                    message="finished",
                    summary=work.result(),
                    result_dir=str(folder),
                )
                return JobStatus.SUCCEEDED
            if isinstance(error, JobCancelledError):
                await jobs.finish(session, job_id, JobStatus.CANCELLED, message="cancelled")
                return JobStatus.CANCELLED
            if isinstance(error, JobFailedError):
                await jobs.finish(
                    session, job_id, JobStatus.FAILED, message=str(error), error=error.detail
                )
                return JobStatus.FAILED
            raise error
