"""Jobs in the metadata database: submit, list, read, cancel, and the runner's state changes.

The database is the source of truth of a job: the runner moves it through queued -> running ->
succeeded / failed / cancelled, and every change a user asks for is audited in the same
transaction. Reads apply the object rule: a job of another team is "not found".
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contango.audit import record_event
from contango.auth.rbac import FIRM_WIDE, Permission, Principal, Role, can_reach
from contango.auth.tokens import TokenError, TokenService
from contango.db.models import AuthSession, Job, JobStatus, User
from contango.errors import (
    ConflictError,
    NotAuthenticatedError,
    NotFoundError,
    PermissionDeniedError,
)
from contango.services.job_specs import (
    JobKind,
    check_job_config,
    config_hash,
    custom_strategy_id,
    job_name,
    parse_job_config,
)
from contango.services.strategies import get_strategy


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
    max_attempts: int | None = None,
) -> Job:
    """Validate the configuration and queue a job owned by the caller and their team;
    ``max_attempts`` (the ``max_attempts`` setting) bounds its attempts before quarantine."""
    model = parse_job_config(kind, config)
    check_job_config(kind, model)
    strategy_id = custom_strategy_id(model)
    if strategy_id is not None:
        if not caller.can(Permission.STRATEGIES_CODE):
            raise PermissionDeniedError(
                "running custom strategy code needs the strategies.code permission"
            )
        await get_strategy(session, caller, strategy_id)  # NotFoundError if not reachable
    normalized = model.model_dump(mode="json")
    job = Job(
        kind=kind.value,
        name=name or job_name(model),
        status=JobStatus.QUEUED.value,
        config=normalized,
        config_hash=config_hash(normalized),
        owner_id=caller.user_id,
        team_id=caller.team_id,
        strategy_id=strategy_id,
        message="queued",
    )
    if max_attempts is not None:
        job.max_attempts = max_attempts
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


async def job_for_listener(
    session: AsyncSession, tokens: TokenService, token: str | None, job_id: uuid.UUID
) -> Job:
    """The job a WebSocket listener may follow: its access token (cookie or query parameter)
    must belong to a live session of an active user who may read jobs and reach this one."""
    if not token:
        raise NotAuthenticatedError("log in first: send the session cookie or ?token=")
    try:
        claims = tokens.verify_access(token)
    except TokenError as error:
        raise NotAuthenticatedError(f"access token refused: {error}") from error
    live = await session.get(AuthSession, claims.session_id)
    user = await session.get(User, claims.user_id)
    if (
        live is None
        or live.revoked_at is not None
        or live.expires_at <= datetime.now(UTC)
        or user is None
        or not user.is_active
        or live.user_id != user.id
    ):
        raise NotAuthenticatedError("the session has ended; log in again")
    caller = Principal(user_id=user.id, team_id=user.team_id, role=Role(user.role))
    if not caller.can(Permission.BACKTESTS_READ):
        raise PermissionDeniedError("following a job needs the backtests.read permission")
    return await get_job(session, caller, job_id)


# --- state changes made by workers (not by a user) -------------------------------------------
#
# Every write of a worker names the attempt it belongs to and is a conditional UPDATE on
# (id, attempt, status running): once the lease of an attempt expired and the job was queued
# again (attempt + 1), whatever the old attempt still writes matches no row and is refused.


@dataclass(frozen=True)
class LeaseState:
    """What a heartbeat learned: whether the attempt still holds the job, and whether a user
    asked to cancel it."""

    held: bool
    cancel_requested: bool


@dataclass(frozen=True)
class Recovered:
    """A job a runner acted on: its lease had expired and it was queued again, quarantined or
    cancelled; or its queue message was due to be sent again (``redispatched``)."""

    job_id: uuid.UUID
    kind: str
    outcome: str  # requeued | quarantined | cancelled | redispatched


def _lease_end(lease_seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=lease_seconds)


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


async def claim(
    session: AsyncSession, job_id: uuid.UUID, worker: str, lease_seconds: float
) -> Job | None:
    """Start the next attempt of a queued job for ``worker``, holding a lease that ends in
    ``lease_seconds`` unless renewed; None if another worker was faster or the job is not
    queued (the conditional UPDATE decides, so two workers never share an attempt)."""
    claimed = await session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            Job.status == JobStatus.QUEUED.value,
            Job.attempt < Job.max_attempts,
        )
        .values(
            status=JobStatus.RUNNING.value,
            started_at=datetime.now(UTC),
            attempt=Job.attempt + 1,
            lease_owner=worker,
            lease_expires_at=_lease_end(lease_seconds),
            message="started",
        )
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await session.get(Job, job_id, populate_existing=True)


async def running_job(session: AsyncSession, job_id: uuid.UUID, kind: JobKind) -> Job | None:
    """The job if it is a ``kind`` job that runs now (a helper task of it has work to do)."""
    job = await session.get(Job, job_id)
    if job is None or job.kind != kind.value or job.status != JobStatus.RUNNING.value:
        return None
    return job


async def heartbeat(
    session: AsyncSession,
    job_id: uuid.UUID,
    attempt: int,
    lease_seconds: float,
    *,
    progress: float | None = None,
    message: str | None = None,
) -> LeaseState:
    """Renew the lease of ``attempt`` (and record its progress); refused for a stale attempt."""
    values: dict[str, Any] = {"lease_expires_at": _lease_end(lease_seconds)}
    if progress is not None:
        values["progress"] = progress
    if message is not None:
        values["message"] = message
    renewed = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.attempt == attempt, Job.status == JobStatus.RUNNING.value)
        .values(**values)
    )
    held = renewed.rowcount == 1  # type: ignore[attr-defined]
    cancel = await session.scalar(select(Job.cancel_requested).where(Job.id == job_id))
    return LeaseState(held=held, cancel_requested=bool(cancel))


async def finish(
    session: AsyncSession,
    job_id: uuid.UUID,
    attempt: int,
    status: JobStatus,
    *,
    message: str,
    error: str | None = None,
    summary: dict[str, Any] | None = None,
    result_dir: str | None = None,
) -> bool:
    """Record the end of ``attempt``; False (nothing written) if the attempt is stale.

    An accepted end is audited in the same transaction, so the audit log holds exactly one
    end per job: the proof that a result was stored once.
    """
    ended = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.attempt == attempt, Job.status == JobStatus.RUNNING.value)
        .values(
            status=status.value,
            finished_at=datetime.now(UTC),
            progress=1.0 if status is JobStatus.SUCCEEDED else Job.progress,
            message=message,
            error=error,
            summary=summary,
            result_dir=result_dir,
            lease_owner=None,
            lease_expires_at=None,
        )
    )
    if ended.rowcount != 1:  # type: ignore[attr-defined]
        return False
    kind = await session.scalar(select(Job.kind).where(Job.id == job_id))
    await record_event(
        session,
        action=f"{kind}.{status.value}",
        actor_id=None,
        actor="worker",
        target=f"job:{job_id}",
        outcome="success" if status is JobStatus.SUCCEEDED else "failure",
        details={"attempt": attempt, "message": message[:500]},
    )
    return True


def _recovery(job: Job, cap: int | None) -> tuple[JobStatus, str, str]:
    """What becomes of a job whose attempt's lease expired: (status, message, outcome).
    ``cap`` (the recovering process's ``max_attempts`` setting) lowers the job's own limit."""
    if job.cancel_requested:
        return JobStatus.CANCELLED, "cancelled (its worker stopped)", "cancelled"
    if job.attempt >= min(job.max_attempts, cap or job.max_attempts):
        message = (
            f"quarantined after {job.attempt} attempts: the worker stopped (killed or crashed) "
            "during every attempt"
        )
        return JobStatus.FAILED, message, "quarantined"
    return JobStatus.QUEUED, f"requeued: the lease of attempt {job.attempt} expired", "requeued"


async def recover_expired(
    session: AsyncSession, limit: int = 100, *, max_attempts: int | None = None
) -> list[Recovered]:
    """Queue again (or quarantine, once attempts are spent) the running jobs whose lease
    expired; each change is conditional on the attempt, so concurrent recoverers never both
    act on one job. ``max_attempts`` caps every job's attempts (the deployment's setting)."""
    now = datetime.now(UTC)
    expired = await session.scalars(
        select(Job)
        .where(Job.status == JobStatus.RUNNING.value, Job.lease_expires_at < now)
        .order_by(Job.lease_expires_at)
        .limit(limit)
    )
    recovered: list[Recovered] = []
    for job in list(expired):
        status, message, outcome = _recovery(job, max_attempts)
        final = status.is_final
        changed = await session.execute(
            update(Job)
            .where(
                Job.id == job.id,
                Job.attempt == job.attempt,
                Job.status == JobStatus.RUNNING.value,
                Job.lease_expires_at < now,
            )
            .values(
                status=status.value,
                message=message,
                error=message if outcome == "quarantined" else None,
                lease_owner=None,
                lease_expires_at=None,
                finished_at=now if final else None,
                dispatched_at=None if final else now,  # the recoverer sends it right away
            )
        )
        if changed.rowcount == 1:  # type: ignore[attr-defined]
            recovered.append(Recovered(job.id, job.kind, outcome))
    return recovered


async def release(session: AsyncSession, owners: Sequence[str]) -> int:
    """Queue again, without spending an attempt, the jobs held by workers that were stopped on
    purpose (a shutdown is not the job's fault); returns how many."""
    if not owners:
        return 0
    result = await session.execute(
        update(Job)
        .where(Job.status == JobStatus.RUNNING.value, Job.lease_owner.in_(list(owners)))
        .values(
            status=JobStatus.QUEUED.value,
            attempt=Job.attempt - 1,
            message="requeued after a shutdown",
            lease_owner=None,
            lease_expires_at=None,
            dispatched_at=None,  # not sent: a Celery deployment's runners send it again
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
