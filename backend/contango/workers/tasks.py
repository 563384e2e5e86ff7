"""Celery tasks: take a job id, never a job; running a task twice is harmless.

A task claims the job's next attempt with a conditional UPDATE; if the job is not queued (it
runs elsewhere under a live lease, or it ended), the task has nothing to do. Each worker
process keeps one event loop and one service context for its life (opened on first use); they
hold connections, not job state, so a job's result never depends on what ran before it.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import uuid
from typing import Any

import redis
from celery.signals import worker_ready
from sqlalchemy.exc import OperationalError

from contango.db.models import Job
from contango.research.config import ResearchConfig
from contango.services import jobs
from contango.services.backtest_data import load_data
from contango.services.context import ServiceContext, open_context
from contango.services.job_runner import run_attempt
from contango.services.job_specs import JobKind
from contango.services.jobs import Recovered
from contango.settings import Settings, get_settings
from contango.workers.celery_app import (
    PRIORITY_NEW,
    PRIORITY_RECOVERED,
    RUN_JOB,
    SWEEP_CHUNK,
    app,
    queue_of,
)
from contango.workers.leases import recover_forever, worker_name
from contango.workers.progress import channel, encode
from contango.workers.sandbox import sandboxed_targets
from contango.workers.sweep_chunks import CeleryFanOut, ChunkStore, chunk_folder, run_stored_chunk

log = logging.getLogger("contango.jobs")
_process: dict[str, Any] = {}  # this worker process's loop and context (see the docstring)


def _context() -> tuple[asyncio.AbstractEventLoop, ServiceContext]:
    if "context" not in _process:
        loop = asyncio.new_event_loop()
        context = loop.run_until_complete(open_context(get_settings(), migrate=False))
        _process.update(loop=loop, context=context)
    return _process["loop"], _process["context"]


def _publisher(url: str) -> Any:
    client = redis.Redis.from_url(url)

    def publish(event: dict[str, Any]) -> None:
        try:
            client.publish(channel(str(event["job_id"])), encode(event))
        except redis.RedisError:
            log.warning("could not publish a progress event of job %s", event.get("job_id"))

    return publish


def _fan_out(settings: Settings, job: Job) -> CeleryFanOut | None:
    """How a sweep job spreads its chunks over the workers (None for other kinds)."""
    if job.kind != JobKind.SWEEP:
        return None
    size, job_id = settings.sweep_chunk_size, str(job.id)

    def dispatch(index: int) -> None:
        app.send_task(
            SWEEP_CHUNK, args=[job_id, index, size], queue=queue_of(job.kind), priority=PRIORITY_NEW
        )

    store = ChunkStore(chunk_folder(settings.results_dir, job.id), size)
    return CeleryFanOut(store=store, dispatch=dispatch, quiet_seconds=settings.lease_seconds)


async def _run(context: ServiceContext, job_id: uuid.UUID) -> str:
    settings = context.settings
    async with context.database.transaction() as session:
        job = await jobs.claim(session, job_id, worker_name(), settings.lease_seconds)
    if job is None:
        return "not queued: nothing to do"
    status = await run_attempt(
        context,
        job,
        _publisher(settings.redis_url),
        sandboxed_targets(settings),
        _fan_out(settings, job),
    )
    if status is not None:  # the job ended for good: its chunks served their purpose
        shutil.rmtree(chunk_folder(settings.results_dir, job.id), ignore_errors=True)
    return f"attempt {job.attempt}: {status.value if status else 'stale, refused'}"


async def _chunk(context: ServiceContext, job_id: uuid.UUID, index: int, size: int) -> str:
    async with context.database.transaction() as session:
        job = await jobs.running_job(session, job_id, JobKind.SWEEP)
    if job is None:
        return "the sweep is not running: nothing to do"
    config = ResearchConfig.model_validate(job.config)
    store = ChunkStore(chunk_folder(context.settings.results_dir, job_id), size)
    if store.has(index):
        return f"chunk {index} already stored"
    loaded = await asyncio.to_thread(load_data, config.backtest)
    return await asyncio.to_thread(run_stored_chunk, config, loaded, store, index)


@app.task(  # type: ignore[untyped-decorator]
    name=RUN_JOB,
    autoretry_for=(OperationalError, ConnectionError),
    retry_backoff=True,
    max_retries=5,
)
def run_job(job_id: str) -> str:
    """Run the next attempt of job ``job_id`` if it is queued."""
    loop, context = _context()
    return loop.run_until_complete(_run(context, uuid.UUID(job_id)))


@app.task(  # type: ignore[untyped-decorator]
    name=SWEEP_CHUNK,
    autoretry_for=(OperationalError, ConnectionError),
    retry_backoff=True,
    max_retries=5,
)
def run_sweep_chunk(job_id: str, index: int, chunk_size: int) -> str:
    """Run chunk ``index`` of sweep job ``job_id`` if the sweep runs and the chunk is not
    stored (idempotent by job id and chunk index: see ``contango.workers.sweep_chunks``)."""
    loop, context = _context()
    return loop.run_until_complete(_chunk(context, uuid.UUID(job_id), index, chunk_size))


def dispatch(item: Recovered) -> None:
    """Send a requeued job to its domain queue, ahead of the jobs waiting there."""
    app.send_task(
        RUN_JOB, args=[str(item.job_id)], queue=queue_of(item.kind), priority=PRIORITY_RECOVERED
    )


def _recover_in_background() -> None:
    async def main() -> None:
        context = await open_context(get_settings(), migrate=False)
        try:
            await recover_forever(context, dispatch)
        finally:
            await context.close()

    asyncio.run(main())


@worker_ready.connect  # type: ignore[untyped-decorator]
def start_recovery(**_: Any) -> None:
    """Every worker (main process) recovers expired leases: killed workers cannot."""
    threading.Thread(target=_recover_in_background, name="lease-recovery", daemon=True).start()
