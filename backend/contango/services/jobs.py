"""Jobs in the metadata database: submit, list, read, cancel, and the runner's state changes.

The database is the source of truth of a job: the runner moves it through queued -> running ->
succeeded / failed / cancelled, and every change a user asks for is audited in the same
transaction. Reads apply the object rule: a job of another team is "not found".
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contango.audit import record_event
from contango.auth.rbac import FIRM_WIDE, Principal, can_reach
from contango.db.models import Job, JobStatus
from contango.errors import ConflictError, NotFoundError
from contango.services.job_specs import (
    JobKind,
    check_job_config,
    config_hash,
    job_name,
    parse_job_config,
)


@dataclass(frozen=True)
class JobPage:
    """One page of a job listing."""

    items: Sequence[Job]
    total: int


async def submit_job(
    session: AsyncSession,
    caller: Principal,
    kind: JobKind,
    config: dict[str, Any],
    *,
    name: str | None = None,
) -> Job:
    """Validate the configuration and queue a job owned by the caller and their team."""
    model = parse_job_config(kind, config)
    check_job_config(kind, model)
    normalized = model.model_dump(mode="json")
    job = Job(
        kind=kind.value,
        name=name or job_name(model),
        status=JobStatus.QUEUED.value,
        config=normalized,
        config_hash=config_hash(normalized),
        owner_id=caller.user_id,
        team_id=caller.team_id,
        message="queued",
    )
    session.add(job)
    await session.flush()
    await record_event(
        session,
        action=f"{kind.value}.submit",
        actor_id=caller.user_id,
        actor=str(caller.user_id),
        target=f"job:{job.id}",
        details={"name": job.name, "config_hash": job.config_hash},
    )
    return job


def _visible(caller: Principal) -> list[ColumnElement[bool]]:
    """The filter of the jobs ``caller`` may see (none for firm-wide roles)."""
    if caller.role in FIRM_WIDE:
        return []
    return [(Job.owner_id == caller.user_id) | (Job.team_id == caller.team_id)]


async def list_jobs(
    session: AsyncSession,
    caller: Principal,
    *,
    kind: JobKind | None,
    status: JobStatus | None,
    limit: int,
    offset: int,
) -> JobPage:
    """The caller's and their team's jobs, newest first."""
    where = _visible(caller)
    if kind is not None:
        where.append(Job.kind == kind.value)
    if status is not None:
        where.append(Job.status == status.value)
    total = await session.scalar(select(func.count()).select_from(Job).where(*where))
    rows = await session.scalars(
        select(Job)
        .where(*where)
        .order_by(Job.submitted_at.desc(), Job.id)
        .limit(limit)
        .offset(offset)
    )
    return JobPage(items=list(rows), total=int(total or 0))


async def get_job(
    session: AsyncSession, caller: Principal, job_id: uuid.UUID, kind: JobKind | None = None
) -> Job:
    """A job the caller may see; NotFoundError otherwise (another team's job is not revealed)."""
    job = await session.get(Job, job_id)
    if (
        job is None
        or (kind is not None and job.kind != kind.value)
        or not can_reach(caller, job.owner_id, job.team_id)
    ):
        raise NotFoundError(f"no {kind.value if kind else 'job'} {job_id}")
    return job


async def cancel_job(
    session: AsyncSession, caller: Principal, job_id: uuid.UUID, kind: JobKind | None = None
) -> Job:
    """Ask a queued or running job to stop; a queued one is cancelled at once."""
    job = await get_job(session, caller, job_id, kind)
    if JobStatus(job.status).is_final:
        raise ConflictError(f"job {job_id} has already {job.status}")
    job.cancel_requested = True
    if job.status == JobStatus.QUEUED:
        job.status = JobStatus.CANCELLED.value
        job.finished_at = datetime.now(UTC)
        job.message = "cancelled before it started"
    await record_event(
        session,
        action=f"{job.kind}.cancel",
        actor_id=caller.user_id,
        actor=str(caller.user_id),
        target=f"job:{job.id}",
        details={"status": job.status},
    )
    return job


# --- state changes made by the runner (not by a user; no audit entry of a user action) ---


async def next_queued(session: AsyncSession) -> tuple[uuid.UUID | None, int]:
    """The oldest queued job (None if there is none) and how many jobs are queued."""
    depth = await session.scalar(
        select(func.count()).select_from(Job).where(Job.status == JobStatus.QUEUED.value)
    )
    oldest = await session.scalar(
        select(Job.id)
        .where(Job.status == JobStatus.QUEUED.value)
        .order_by(Job.submitted_at, Job.id)
        .limit(1)
    )
    return oldest, int(depth or 0)


async def claim(session: AsyncSession, job_id: uuid.UUID, worker: str) -> Job | None:
    """Move a queued job to running for ``worker``; None if another worker was faster or the
    job was cancelled meanwhile (the conditional UPDATE decides, so two workers never share)."""
    now = datetime.now(UTC)
    claimed = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
        .values(
            status=JobStatus.RUNNING.value,
            started_at=now,
            attempt=Job.attempt + 1,
            lease_owner=worker,
            message="started",
        )
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await session.get(Job, job_id, populate_existing=True)


async def report_progress(
    session: AsyncSession, job_id: uuid.UUID, progress: float, message: str
) -> bool:
    """Record progress of a running job; returns whether a cancel was requested."""
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.RUNNING.value)
        .values(progress=progress, message=message)
    )
    return bool(await session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))


async def finish(
    session: AsyncSession,
    job_id: uuid.UUID,
    status: JobStatus,
    *,
    message: str,
    error: str | None = None,
    summary: dict[str, Any] | None = None,
    result_dir: str | None = None,
) -> None:
    """Record the end of a running job."""
    await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.RUNNING.value)
        .values(
            status=status.value,
            finished_at=datetime.now(UTC),
            progress=1.0 if status is JobStatus.SUCCEEDED else Job.progress,
            message=message,
            error=error,
            summary=summary,
            result_dir=result_dir,
            lease_owner=None,
        )
    )


async def requeue_interrupted(session: AsyncSession) -> int:
    """Jobs a stopped process left running go back to the queue; returns how many."""
    result = await session.execute(
        update(Job)
        .where(Job.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.QUEUED.value, message="requeued after a restart", lease_owner=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
