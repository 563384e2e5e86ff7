"""Queue messages lost on the way (SQLite and PostgreSQL): a queued job never known to be sent,
or sent long ago and not taken, is sent again by the recovery loop, once per due time however
many runners look; a taken or finished job never is."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from test_jobs_leases import LEASE, _claim, _expire, run

from contango.db.models import Job
from contango.services import jobs
from contango.services.context import ServiceContext
from contango.services.job_dispatch import due_for_dispatch, mark_dispatched
from contango.services.jobs import Recovered
from contango.settings import Settings
from contango.workers.leases import recover_once

RESEND = 300.0


async def _age(context: ServiceContext, job_id: uuid.UUID, *, submitted: float,
               dispatched: float | None) -> None:  # fmt: skip
    """Make the job look submitted (and last sent) that many seconds ago."""
    now = datetime.now(UTC)
    sent = None if dispatched is None else now - timedelta(seconds=dispatched)
    async with context.database.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(submitted_at=now - timedelta(seconds=submitted), dispatched_at=sent)
        )


async def _due(context: ServiceContext) -> list[Recovered]:
    async with context.database.transaction() as session:
        return await due_for_dispatch(session, never_sent_after=LEASE, resend_after=RESEND)


async def _dispatched_at(context: ServiceContext, job_id: uuid.UUID) -> datetime | None:
    async with context.database.transaction() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job.dispatched_at


def test_a_job_never_sent_is_sent_after_a_lease_and_only_once(
    data_dir: Path, database_url: str
) -> None:
    async def body(context: ServiceContext, job_id: uuid.UUID) -> None:
        await _age(context, job_id, submitted=LEASE / 2, dispatched=None)
        assert await _due(context) == []  # the submitter's own send still has time
        await _age(context, job_id, submitted=LEASE + 5, dispatched=None)
        assert await _due(context) == [Recovered(job_id, "backtest", "redispatched")]
        assert await _dispatched_at(context, job_id) is not None
        assert await _due(context) == []  # taken for sending: another runner finds nothing

    run(Settings(data_dir=data_dir, database_url=database_url), body)


def test_a_message_sent_long_ago_and_not_taken_is_sent_again(
    data_dir: Path, database_url: str
) -> None:
    async def body(context: ServiceContext, job_id: uuid.UUID) -> None:
        await _age(context, job_id, submitted=2 * RESEND, dispatched=RESEND - 20)
        assert await _due(context) == []  # waiting in a busy queue is not being lost
        await _age(context, job_id, submitted=2 * RESEND, dispatched=RESEND + 20)
        before = datetime.now(UTC)
        assert [r.job_id for r in await _due(context)] == [job_id]
        sent = await _dispatched_at(context, job_id)
        assert sent is not None
        assert sent >= before - timedelta(seconds=1)
        assert await _due(context) == []

    run(Settings(data_dir=data_dir, database_url=database_url), body)


def test_taken_and_finished_jobs_are_never_sent_again(data_dir: Path, database_url: str) -> None:
    async def body(context: ServiceContext, job_id: uuid.UUID) -> None:
        await _age(context, job_id, submitted=2 * RESEND, dispatched=None)
        assert await _claim(context, job_id, "w1") is not None
        assert await _due(context) == []  # running
        async with context.database.transaction() as session:
            assert not await mark_dispatched(session, job_id)  # only a queued job is marked
            await jobs.finish(session, job_id, 1, jobs.JobStatus.FAILED, message="x")
        assert await _due(context) == []  # ended

    run(Settings(data_dir=data_dir, database_url=database_url), body)


def test_a_requeued_job_counts_as_sent_by_its_recoverer(data_dir: Path, database_url: str) -> None:
    async def body(context: ServiceContext, job_id: uuid.UUID) -> None:
        await _age(context, job_id, submitted=2 * RESEND, dispatched=None)
        await _claim(context, job_id, "w1")
        await _expire(context, job_id)
        sent: list[Recovered] = []
        recovered = await recover_once(context, sent.append)
        # requeued and sent once by the recoverer, not a second time as "never sent"
        assert [(r.job_id, r.outcome) for r in recovered] == [(job_id, "requeued")]
        assert [(r.job_id, r.outcome) for r in sent] == [(job_id, "requeued")]
        assert await _dispatched_at(context, job_id) is not None
        assert await recover_once(context, sent.append) == []
        assert len(sent) == 1

    run(Settings(data_dir=data_dir, database_url=database_url), body)


def test_runners_without_a_queue_do_not_touch_dispatch(data_dir: Path, database_url: str) -> None:
    async def body(context: ServiceContext, job_id: uuid.UUID) -> None:
        await _age(context, job_id, submitted=2 * RESEND, dispatched=None)
        assert await recover_once(context) == []  # the local pool polls the table instead
        assert await _dispatched_at(context, job_id) is None
        sent: list[Recovered] = []
        assert [r.outcome for r in await recover_once(context, sent.append)] == ["redispatched"]
        assert [r.job_id for r in sent] == [job_id]

    run(Settings(data_dir=data_dir, database_url=database_url), body)
