"""One attempt of a job, run by whatever worker claimed it (a local pool process or a Celery task).

The work runs in a thread; this coroutine meanwhile renews the attempt's lease, writes its
progress to the database and publishes it (for the WebSocket). Results are written to a
staging folder of the attempt and moved to the job's results folder only in the transaction
whose conditional UPDATE accepted the attempt's end, so a stale attempt (its lease expired and
another attempt took over) stores nothing, and a job's results folder is written once.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contango.db.models import Job, JobStatus, Strategy
from contango.services import jobs
from contango.services.context import ServiceContext
from contango.services.job_execution import (
    CustomTargets,
    JobCancelledError,
    JobFailedError,
    SweepFanOut,
    execute,
)
from contango.services.job_specs import JobKind

log = logging.getLogger("contango.jobs")
PUBLISH_SECONDS = 0.5  # live progress cadence (events, not database writes)
DB_PROGRESS_SECONDS = 1.0  # progress written to the row at most this often (also the lease)

Publish = Callable[[dict[str, Any]], None]


def event(job: Job, status: str, progress: float, message: str, **extra: Any) -> dict[str, Any]:
    """A progress or status event as published to WebSocket listeners."""
    return {
        "job_id": str(job.id),
        "kind": job.kind,
        "attempt": job.attempt,
        "status": status,
        "progress": progress,
        "message": message,
        **extra,
    }


@dataclass
class _Live:
    """Progress handed from the work thread to the event loop, and the stop signal back."""

    fraction: float = 0.0
    message: str = "started"
    stop: threading.Event = field(default_factory=threading.Event)
    lease_lost: bool = False

    def progress(self, fraction: float | None, message: str) -> None:
        if self.stop.is_set():
            raise JobCancelledError
        if fraction is not None:
            self.fraction = fraction
        self.message = message


def staging_folder(context: ServiceContext, job: Job) -> Path:
    """Where ``job``'s current attempt writes its results before they are accepted."""
    return context.settings.results_dir / f".{job.id}.attempt-{job.attempt}"


def results_folder(context: ServiceContext, job: Job) -> Path:
    """Where a job's accepted results live."""
    return context.settings.results_dir / str(job.id)


async def custom_code(context: ServiceContext, job: Job) -> str | None:
    """The custom strategy code a job runs (None for a template strategy)."""
    if job.strategy_id is None:
        return None
    async with context.database.transaction() as session:
        strategy = await session.get(Strategy, job.strategy_id)
    if strategy is None:
        raise JobFailedError(
            "the custom strategy was deleted", f"strategy {job.strategy_id} no longer exists"
        )
    return strategy.code


async def _follow(
    context: ServiceContext, job: Job, work: asyncio.Task[Any], live: _Live, publish: Publish
) -> None:
    """Renew the lease and report progress until the work ends."""
    settings = context.settings
    every = min(settings.heartbeat_seconds, DB_PROGRESS_SECONDS)
    last_write = time.monotonic()
    while not work.done():
        await asyncio.wait({work}, timeout=PUBLISH_SECONDS)
        publish(event(job, "running", live.fraction, live.message))
        if time.monotonic() - last_write < every:
            continue
        last_write = time.monotonic()
        async with context.database.transaction() as session:
            state = await jobs.heartbeat(
                session,
                job.id,
                job.attempt,
                settings.lease_seconds,
                progress=live.fraction,
                message=live.message,
            )
        if not state.held:
            log.warning("job %s attempt %d lost its lease; stopping it", job.id, job.attempt)
            live.lease_lost = True
            live.stop.set()
        elif state.cancel_requested:
            live.stop.set()


async def run_attempt(
    context: ServiceContext,
    job: Job,
    publish: Publish,
    sandbox: CustomTargets | None = None,
    fan_out: SweepFanOut | None = None,
) -> JobStatus | None:
    """Run a claimed attempt to its end; the recorded status, or None if the attempt turned out
    stale (nothing of it was stored). ``sandbox`` runs custom strategy code (workers pass it;
    without it such a job fails closed); ``fan_out`` spreads a sweep's chunks over workers."""
    live = _Live()
    staging = staging_folder(context, job)
    started = time.perf_counter()
    publish(event(job, "running", 0.0, "started"))
    try:
        code = await custom_code(context, job)
    except JobFailedError as error:
        return await _end(context, job, staging, publish, outcome=error, started=started)
    custom = None if code is None else (code, sandbox)
    work = asyncio.create_task(
        asyncio.to_thread(
            execute,
            JobKind(job.kind),
            job.config,
            staging,
            live.progress,
            custom=custom,
            stop=live.stop,
            fan_out=fan_out,
        )
    )
    await _follow(context, job, work, live, publish)
    if live.lease_lost:
        shutil.rmtree(staging, ignore_errors=True)
        return None
    outcome: dict[str, Any] | BaseException = work.exception() or work.result()
    return await _end(context, job, staging, publish, outcome=outcome, started=started)


def _promote(staging: Path, final: Path) -> None:
    """Move an accepted attempt's results into place (replacing what a crashed attempt may have
    moved there without its end being committed)."""
    if final.exists():
        shutil.rmtree(final)
    if staging.exists():
        staging.replace(final)
    else:
        final.mkdir(parents=True)


def _ending(outcome: dict[str, Any] | BaseException) -> tuple[JobStatus, dict[str, Any]]:
    """The status and the columns to record for a finished piece of work."""
    if isinstance(outcome, dict):
        return JobStatus.SUCCEEDED, {"message": "finished", "summary": outcome}
    if isinstance(outcome, JobCancelledError):
        return JobStatus.CANCELLED, {"message": "cancelled"}
    if isinstance(outcome, JobFailedError):
        return JobStatus.FAILED, {"message": str(outcome), "error": outcome.detail}
    detail = f"{type(outcome).__name__}: {outcome}"
    return JobStatus.FAILED, {"message": f"the worker failed: {detail}", "error": detail}


async def _end(
    context: ServiceContext,
    job: Job,
    staging: Path,
    publish: Publish,
    *,
    outcome: dict[str, Any] | BaseException,
    started: float,
) -> JobStatus | None:
    """Record the attempt's end if the attempt still holds the job."""
    status, columns = _ending(outcome)
    final = results_folder(context, job)
    async with context.database.transaction() as session:
        if status is JobStatus.SUCCEEDED:
            columns["result_dir"] = str(final)
        accepted = await jobs.finish(session, job.id, job.attempt, status, **columns)
        if accepted and status is JobStatus.SUCCEEDED:
            _promote(staging, final)
    shutil.rmtree(staging, ignore_errors=True)
    if not accepted:
        log.warning("job %s attempt %d is stale; its end was refused", job.id, job.attempt)
        return None
    summary = columns.get("summary") or {}
    publish(
        event(
            job,
            status.value,
            1.0 if status is JobStatus.SUCCEEDED else 0.0,
            columns["message"],
            seconds=time.perf_counter() - started,
            throughput=summary.get("throughput", {}),
        )
    )
    return status
