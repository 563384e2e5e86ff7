"""The two-stage log on SQLite and PostgreSQL: concurrent writers and sealers, guards, leftovers.

Writers record events on connections of their own while two sealers (each with its own engine,
as two API processes would have) chain them; the chain must come out without a fork or a gap,
with every committed event exactly once and no rolled-back one.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from test_audit_chain import run

from contango.audit import Check, Sealed, record_event, run_sealer, seal_pending, verify_audit_log
from contango.audit.seal import seal_batch
from contango.db.base import utcnow
from contango.db.models.audit import AuditEntry, AuditIntake
from contango.db.session import Database
from contango.settings import Settings

WRITERS = 4
PER_WRITER = 30
SEAL_LIMIT = 7  # small batches: many turns at the chain lock for the two sealers


class _Context:
    """The part of a service context a sealer uses."""

    def __init__(self, database: Database) -> None:
        self.database = database


async def _writer(url: str, number: int, committed: list[tuple[int, int]]) -> None:
    database = Database(url)
    try:
        for index in range(PER_WRITER):
            try:
                async with database.transaction() as session:
                    await record_event(
                        session,
                        action="backtest.submit",
                        actor_id=None,
                        actor=f"writer-{number}",
                        details={"index": index},
                    )
                    if index % 5 == 4:
                        raise LookupError("the change failed")  # rolls the event back too
            except LookupError:
                continue
            committed.append((number, index))
    finally:
        await database.dispose()


def test_concurrent_writers_and_two_sealers_neither_fork_nor_lose_nor_duplicate(
    database_url: str, data_dir: Path
) -> None:
    async def work(database: Database, settings: Settings) -> dict[str, Any]:
        committed: list[tuple[int, int]] = []
        batches: list[Sealed] = []
        engines = [Database(database_url) for _ in range(2)]
        sealers = [
            asyncio.create_task(
                run_sealer(
                    _Context(engine),
                    every=timedelta(milliseconds=5),
                    limit=SEAL_LIMIT,
                    on_sealed=batches.append,
                )
            )
            for engine in engines
        ]
        try:
            await asyncio.gather(*(_writer(database_url, n, committed) for n in range(WRITERS)))
            for _ in range(400):  # the running sealers finish the work (up to 20 s)
                if sum(batch.count for batch in batches) >= len(committed):
                    break
                await asyncio.sleep(0.05)
        finally:
            for task in sealers:
                task.cancel()
            await asyncio.gather(*sealers, return_exceptions=True)
            for engine in engines:
                await engine.dispose()
        report = await verify_audit_log(database, settings)
        async with database.transaction() as session:
            rows = list((await session.execute(select(AuditEntry).order_by("seq"))).scalars())
            left = list((await session.execute(select(AuditIntake.id))).scalars())
        return {
            "committed": committed,
            "batches": batches,
            "rows": rows,
            "left": left,
            "ok": report,
        }

    result = run(work, database_url, data_dir)
    rows: list[AuditEntry] = result["rows"]
    committed = result["committed"]
    assert len(committed) == WRITERS * PER_WRITER * 4 // 5
    assert [row.seq for row in rows] == list(range(1, len(committed) + 1))  # no gap
    assert len({row.prev_hash for row in rows}) == len(rows)  # no fork
    events = [(int(row.actor.removeprefix("writer-")), row.details["index"]) for row in rows]
    assert sorted(events) == sorted(committed)  # each committed event once, no rolled-back one
    assert all(index % 5 != 4 for _, index in events)
    for number in range(WRITERS):  # one writer's events keep their order
        mine = [index for writer, index in events if writer == number]
        assert mine == sorted(mine)
    sealed_ids = [intake for batch in result["batches"] for intake in batch.intake_ids]
    assert sorted(sealed_ids) == sorted(row.intake_id for row in rows)  # sealed exactly once
    assert all(0 < batch.count <= SEAL_LIMIT for batch in result["batches"])
    assert result["left"] == []
    assert result["ok"].ok, result["ok"].problems


async def _record(database: Database, actor: str) -> int:
    async with database.transaction() as session:
        pending = await record_event(session, action="job.cancel", actor_id=None, actor=actor)
    return pending.intake_id


def test_batches_follow_intake_order_and_respect_their_limit(
    database_url: str, data_dir: Path
) -> None:
    async def work(database: Database, _settings: Settings) -> tuple[list[int], list[Any]]:
        ids = [await _record(database, f"user-{index}") for index in range(5)]
        counts = [(await seal_batch(database, limit=2)).count for _ in range(4)]
        async with database.transaction() as session:
            rows = (await session.execute(select(AuditEntry).order_by("seq"))).scalars()
            return counts, [(row.seq, row.intake_id, row.actor) for row in rows] + [ids]

    counts, rows = run(work, database_url, data_dir)
    *entries, ids = rows
    assert counts == [2, 2, 1, 0]
    assert entries == [(i + 1, ids[i], f"user-{i}") for i in range(5)]


async def _poison(database: Database) -> None:
    """An intake row written around record_event, holding an integer canonical JSON refuses."""
    async with database.transaction() as session:
        await session.execute(
            insert(AuditIntake).values(
                occurred_at=utcnow() - timedelta(minutes=5),
                actor="mallory",
                action="x.poison",
                outcome="success",
                details={"n": 2**53 + 1},
            )
        )


def test_an_intake_row_that_cannot_be_hashed_is_skipped_and_reported_unsealed(
    database_url: str, data_dir: Path
) -> None:
    async def work(database: Database, settings: Settings) -> tuple[Any, Any, list[str]]:
        await _record(database, "before")
        await _poison(database)
        await _record(database, "after")
        strict = await verify_audit_log(database, settings, unsealed_after=timedelta(minutes=1))
        lenient = await verify_audit_log(database, settings, unsealed_after=timedelta(hours=1))
        async with database.transaction() as session:
            actors = (await session.execute(select(AuditEntry.actor).order_by("seq"))).scalars()
            return strict, lenient, list(actors)

    strict, lenient, actors = run(work, database_url, data_dir)
    assert actors == ["before", "after"]
    assert {(p.check, p.seq) for p in strict.problems} == {(Check.UNSEALED, None)}
    assert "intake row 2 ('x.poison'" in strict.problems[0].message
    assert lenient.ok, lenient.problems
    assert any("1 event(s)" in note for note in lenient.notes)


def _expect_refused(database: Database, statement: Any, match: str) -> Any:
    async def attempt() -> None:
        with pytest.raises(DBAPIError, match=match):
            async with database.transaction() as session:
                await session.execute(statement)

    return attempt()


def test_intake_rows_cannot_be_changed_nor_dropped_unless_the_log_holds_them(
    database_url: str, data_dir: Path
) -> None:
    async def work(database: Database, settings: Settings) -> list[str]:
        first = await _record(database, "alice")
        await _expect_refused(
            database, text("UPDATE audit_intake SET actor = 'mallory'"), "append-only"
        )
        await _expect_refused(database, text("DELETE FROM audit_intake"), "unsealed intake")
        if not database.is_sqlite:
            await _expect_refused(database, text("TRUNCATE audit_intake"), "append-only")
        # A log row naming the intake row but carrying other content does not release it.
        async with database.transaction() as session:
            row = (await session.execute(select(AuditIntake))).scalar_one()
            forged = {
                column.key: getattr(row, column.key)
                for column in AuditIntake.__table__.columns
                if column.key != "id"
            }
        async with database.transaction() as session:
            await session.execute(
                insert(AuditEntry).values(
                    **{**forged, "actor": "bob"},
                    seq=10**9,
                    prev_hash="a" * 64,
                    hash="b" * 64,
                    intake_id=first,
                )
            )
        await _expect_refused(
            database, text(f"DELETE FROM audit_intake WHERE id = {first}"), "unsealed intake"
        )
        assert await seal_pending(database) == 0  # the forged row holds the intake id
        report = await verify_audit_log(database, settings, unsealed_after=timedelta(0))
        assert {(Check.SEQUENCE_GAP, 10**9), (Check.UNSEALED, None)} <= {
            (problem.check, problem.seq) for problem in report.problems
        }
        async with database.transaction() as session:
            return list((await session.execute(select(AuditIntake.actor))).scalars())

    assert run(work, database_url, data_dir) == ["alice"]


def test_the_sealer_refuses_nonsense_settings(database_url: str, data_dir: Path) -> None:
    async def work(database: Database, _settings: Settings) -> None:
        with pytest.raises(ValueError, match="positive"):
            await run_sealer(_Context(database), every=timedelta(0))
        await _record(database, "x")
        with pytest.raises(ValueError, match="at least one row"):
            await seal_batch(database, limit=0)

    run(work, database_url, data_dir)


def test_a_failing_sealer_logs_and_keeps_going(
    database_url: str, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def work(database: Database, _settings: Settings) -> int:
        await _record(database, "x")
        broken = Database(f"sqlite+aiosqlite:///{data_dir / 'missing' / 'nowhere.db'}")
        task = asyncio.create_task(run_sealer(_Context(broken), every=timedelta(milliseconds=5)))
        await asyncio.sleep(0.1)
        assert not task.done()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await broken.dispose()
        return await seal_pending(database)

    assert run(work, database_url, data_dir) == 1
    assert "audit sealing failed" in caplog.text


def test_unique_intake_ids_survive_an_emptied_intake(database_url: str, data_dir: Path) -> None:
    async def work(database: Database, _settings: Settings) -> list[int]:
        await _record(database, "a")
        await seal_pending(database)
        await _record(database, "b")  # the intake is empty: a reused id would collide
        await seal_pending(database)
        async with database.transaction() as session:
            return list((await session.execute(select(AuditEntry.intake_id))).scalars())

    ids = run(work, database_url, data_dir)
    assert len(ids) == len(set(ids)) == 2


def test_an_actor_id_survives_the_trip_through_the_intake(
    database_url: str, data_dir: Path
) -> None:
    actor_id = uuid.uuid4()

    async def work(database: Database, _settings: Settings) -> Any:
        async with database.transaction() as session:
            await record_event(session, action="a.b", actor_id=actor_id, actor="x")
        await seal_pending(database)
        async with database.transaction() as session:
            return (await session.execute(select(AuditEntry.actor_id))).scalar_one()

    assert run(work, database_url, data_dir) == actor_id
