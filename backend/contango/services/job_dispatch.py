"""Which queued jobs need their queue message sent (again).

A job is committed to the database first and its queue message sent after; between the two the
API can stop, and a broker restarted without persistence forgets the messages it held. Either
way the job would wait in ``queued`` for ever, although nothing is wrong with it. The jobs
table remembers when each job's message was last sent (``dispatched_at``); the job runners
periodically send again the messages of jobs never known to be sent (after a grace period, so
that the API's own send comes first) and of jobs sent long ago and still not taken.

A second message for a job is harmless: the first worker to claim the job wins (a conditional
UPDATE), and the other finds it no longer queued. Each resend is itself claimed by a
conditional UPDATE of ``dispatched_at``, so several runners never send one job twice at once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contango.db.models import Job, JobStatus
from contango.services.jobs import Recovered


async def mark_dispatched(session: AsyncSession, job_id: uuid.UUID) -> bool:
    """Record that the queue message of queued job ``job_id`` was just sent."""
    marked = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED.value)
        .values(dispatched_at=datetime.now(UTC))
    )
    return bool(marked.rowcount == 1)  # type: ignore[attr-defined]


async def due_for_dispatch(
    session: AsyncSession, *, never_sent_after: float, resend_after: float, limit: int = 100
) -> list[Recovered]:
    """The queued jobs whose message must be sent now, each taken for sending by this caller:
    never sent and submitted more than ``never_sent_after`` seconds ago, or sent more than
    ``resend_after`` seconds ago and still queued. Oldest first, at most ``limit``."""
    now = datetime.now(UTC)
    never_sent = Job.dispatched_at.is_(None) & (
        Job.submitted_at < now - timedelta(seconds=never_sent_after)
    )
    stale = Job.dispatched_at < now - timedelta(seconds=resend_after)
    due = await session.execute(
        select(Job.id, Job.kind, Job.dispatched_at)
        .where(Job.status == JobStatus.QUEUED.value, never_sent | stale)
        .order_by(Job.submitted_at, Job.id)
        .limit(limit)
    )
    taken: list[Recovered] = []
    for job_id, kind, sent_at in due.all():
        same = Job.dispatched_at.is_(None) if sent_at is None else Job.dispatched_at == sent_at
        changed = await session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED.value, same)
            .values(dispatched_at=now)
        )
        if changed.rowcount == 1:  # type: ignore[attr-defined]
            taken.append(Recovered(job_id, kind, "redispatched"))
    return taken
