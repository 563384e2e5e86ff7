"""Job leases in the database (SQLite and PostgreSQL): claim, heartbeat, stale writes refused,
expired leases recovered, quarantine after the capped attempts, one audited end per job."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from app_support import count_audited
from contango.db.models import Job, JobStatus, Team, User
from contango.services import jobs
from contango.services.context import ServiceContext, open_context
from contango.settings import Settings

LEASE = 30.0


def run(settings: Settings, body: Callable[[ServiceContext, uuid.UUID], Awaitable[None]]) -> None:
    """Run ``body(context, job_id)`` on a fresh database holding one queued job."""

    async def main() -> None:
        context = await open_context(settings)
        try:
            async with context.database.transaction() as session:
                team = Team(name="desk-a")
                session.add(team)
                await session.flush()
                user = User(email="a@x.example", display_name="a", role="analyst", team_id=team.id)
                session.add(user)
                await session.flush()
                job = Job(kind="backtest", name="t", config={}, config_hash="0" * 64,
                          owner_id=user.id, team_id=team.id, max_attempts=2)  # fmt: skip
                session.add(job)
                await session.flush()
                job_id = job.id
            await body(context, job_id)
        finally:
            await context.close()

    asyncio.run(main())


async def _expire(context: ServiceContext, job_id: uuid.UUID) -> None:
    async with context.database.transaction() as session:
        past = datetime.now(UTC) - timedelta(seconds=1)
        await session.execute(update(Job).where(Job.id == job_id).values(lease_expires_at=past))


async def _claim(context: ServiceContext, job_id: uuid.UUID, worker: str) -> Job | None:
    async with context.database.transaction() as session:
        return await jobs.claim(session, job_id, worker, LEASE)


async def _ends(context: ServiceContext, job_id: uuid.UUID) -> int:
    """Audited job ends (entries still in the intake and those already chained)."""
    return await count_audited(context, f"job:{job_id}", "backtest.%")


def test_claim_takes_a_lease_and_only_once(data_dir: Path, database_url: str) -> None:
    async def body(context: ServiceContext, job_id: uuid.UUID) -> None:
        before = datetime.now(UTC)
        job = await _claim(context, job_id, "w1")
        assert job is not None
        assert (job.status, job.attempt, job.lease_owner) == ("running", 1, "w1")
        assert job.lease_expires_at is not None
        lease = (job.lease_expires_at - before).total_seconds()
        assert LEASE - 1 <= lease <= LEASE + 5
        assert await _claim(context, job_id, "w2") is None  # running: nobody else claims it

    run(Settings(data_dir=data_dir, database_url=database_url), body)


def test_a_stale_attempt_can_neither_renew_nor_store(data_dir: Path, database_url: str) -> None:
    async def body(context: ServiceContext, job_id: uuid.UUID) -> None:
        await _claim(context, job_id, "w1")
        await _expire(context, job_id)
        async with context.database.transaction() as session:
            recovered = await jobs.recover_expired(session)
        assert [(r.job_id, r.outcome) for r in recovered] == [(job_id, "requeued")]
        second = await _claim(context, job_id, "w2")
        assert second is not None
        assert second.attempt == 2
        async with context.database.transaction() as session:
            stale = await jobs.heartbeat(session, job_id, 1, LEASE, progress=0.9)
            assert not stale.held
            assert not await jobs.finish(session, job_id, 1, JobStatus.SUCCEEDED, message="x")
            live = await jobs.heartbeat(session, job_id, 2, LEASE, progress=0.5, message="half")
            assert live.held
            assert not live.cancel_requested
            assert await jobs.finish(session, job_id, 2, JobStatus.SUCCEEDED, message="done")
            assert not await jobs.finish(session, job_id, 2, JobStatus.SUCCEEDED, message="again")
        async with context.database.transaction() as session:
            job = await session.get(Job, job_id)
            assert job is not None
            assert (job.status, job.message, job.progress) == ("succeeded", "done", 1.0)
            assert job.lease_owner is None
        assert await _ends(context, job_id) == 1

    run(Settings(data_dir=data_dir, database_url=database_url), body)


def test_a_job_that_keeps_dying_is_quarantined(data_dir: Path, database_url: str) -> None:
    async def body(context: ServiceContext, job_id: uuid.UUID) -> None:
        outcomes = []
        for worker in ("w1", "w2"):  # max_attempts = 2
            assert await _claim(context, job_id, worker) is not None
            await _expire(context, job_id)
            async with context.database.transaction() as session:
                outcomes += [r.outcome for r in await jobs.recover_expired(session)]
        assert outcomes == ["requeued", "quarantined"]
        assert await _claim(context, job_id, "w3") is None
        async with context.database.transaction() as session:
            job = await session.get(Job, job_id)
            assert job is not None
            assert job.status == "failed"
            assert job.message.startswith("quarantined after 2 attempts")

    run(Settings(data_dir=data_dir, database_url=database_url), body)


def test_the_max_attempts_setting_caps_a_jobs_own_limit(data_dir: Path, database_url: str) -> None:
    async def body(context: ServiceContext, job_id: uuid.UUID) -> None:
        assert await _claim(context, job_id, "w1") is not None  # the row allows 2 attempts
        await _expire(context, job_id)
        async with context.database.transaction() as session:
            recovered = await jobs.recover_expired(session, max_attempts=1)
        assert [r.outcome for r in recovered] == ["quarantined"]
        async with context.database.transaction() as session:
            job = await session.get(Job, job_id)
            assert job is not None
            assert (job.status, job.attempt) == ("failed", 1)
            assert job.message.startswith("quarantined after 1 attempts")

    run(Settings(data_dir=data_dir, database_url=database_url), body)


def test_a_live_lease_is_not_recovered_and_a_cancelled_one_ends(
    data_dir: Path, database_url: str
) -> None:
    async def body(context: ServiceContext, job_id: uuid.UUID) -> None:
        await _claim(context, job_id, "w1")
        async with context.database.transaction() as session:
            assert await jobs.recover_expired(session) == []
            await session.execute(update(Job).where(Job.id == job_id).values(cancel_requested=True))
            assert (await jobs.heartbeat(session, job_id, 1, LEASE)).cancel_requested
        await _expire(context, job_id)
        async with context.database.transaction() as session:
            assert [r.outcome for r in await jobs.recover_expired(session)] == ["cancelled"]
            assert await jobs.release(session, ["w1"]) == 0

    run(Settings(data_dir=data_dir, database_url=database_url), body)
