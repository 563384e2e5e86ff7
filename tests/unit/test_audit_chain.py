"""The audit chain on SQLite and PostgreSQL: appends, hashes, guards, and tampering caught.

Tampering is real: the tests switch the guards off (dropping SQLite's triggers, or disabling
PostgreSQL's as the superuser) and change the stored rows, then check that verification names
the check that failed and the entry where.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from contango.audit import Check, VerificationReport, record_event, seal_pending, verify_audit_log
from contango.audit.canonical import GENESIS_HASH
from contango.audit.checkpoints import write_checkpoint
from contango.db.migrate import upgrade_async
from contango.db.models.audit import AuditEntry, AuditHead, AuditIntake
from contango.db.session import Database
from contango.observability import context
from contango.settings import Settings

SQLITE_TRIGGERS = ("audit_log_no_update", "audit_log_no_delete", "audit_head_no_delete")


def run(work: Callable[[Database, Settings], Awaitable[Any]], url: str, data_dir: Path) -> Any:
    """Run ``work`` on a fresh engine for ``url`` (asyncpg connections belong to one loop)."""

    async def main() -> Any:
        database = Database(url)
        if database.is_sqlite:  # PostgreSQL test databases are cloned from a migrated template
            await upgrade_async(url)
        try:
            return await work(database, Settings(data_dir=data_dir, database_url=url))
        finally:
            await database.dispose()

    return asyncio.run(main())


async def append(database: Database, count: int) -> None:
    """``count`` realistic events, each in its own transaction, then sealed into the chain."""
    for index in range(count):
        async with database.transaction() as session:
            await record_event(
                session,
                action="dataset.upload",
                actor_id=uuid.uuid4(),
                actor=f"analyst-{index}@desk-a.example.com",
                target=f"dataset:ES.{index}m",
                details={"contract": "ESZ2024", "rows": 390 * index, "tick": 0.25},
            )
    await seal_pending(database)


async def tamper(database: Database, *statements: Any) -> None:
    """Run ``statements`` with the append-only guards switched off."""
    async with database.engine.begin() as connection:
        if database.is_sqlite:
            for trigger in SQLITE_TRIGGERS:
                await connection.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        else:
            await connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER ALL"))
            await connection.execute(text("ALTER TABLE audit_head DISABLE TRIGGER ALL"))
        for statement in statements:
            await connection.execute(statement)
        if not database.is_sqlite:
            await connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER ALL"))
            await connection.execute(text("ALTER TABLE audit_head ENABLE TRIGGER ALL"))


def found(report: VerificationReport) -> set[tuple[Check, int | None]]:
    """The (check, seq) pairs a report lists."""
    return {(problem.check, problem.seq) for problem in report.problems}


def test_entries_chain_from_genesis_with_hashes_computed_by_hand(
    database_url: str, data_dir: Path
) -> None:
    async def work(database: Database, _settings: Settings) -> list[AuditEntry]:
        request = context.request_id.set("req-7")
        address = context.client_ip.set("203.0.113.9")
        try:
            await append(database, 3)
        finally:
            context.request_id.reset(request)
            context.client_ip.reset(address)
        async with database.transaction() as session:
            return list((await session.execute(select(AuditEntry).order_by("seq"))).scalars())

    rows = run(work, database_url, data_dir)
    assert [row.seq for row in rows] == [1, 2, 3]
    previous = GENESIS_HASH
    for index, row in enumerate(rows):
        # RFC 8785 by hand: keys sorted, no spaces, 0.25 as written, integers plain.
        canonical = (
            f'{{"action":"dataset.upload","actor":"analyst-{index}@desk-a.example.com",'
            f'"actor_id":"{row.actor_id}","client_ip":"203.0.113.9",'
            f'"details":{{"contract":"ESZ2024","rows":{390 * index},"tick":0.25}},'
            f'"outcome":"success","prev_hash":"{previous}","request_id":"req-7",'
            f'"seq":{index + 1},"target":"dataset:ES.{index}m",'
            f'"time":"{row.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%f")}Z"}}'
        )
        assert row.prev_hash == previous
        assert row.hash == hashlib.sha256(canonical.encode()).hexdigest()
        previous = row.hash


def test_non_ascii_and_nested_details_hash_the_same_in_the_database_and_in_python(
    database_url: str, data_dir: Path
) -> None:
    details = {"note": "Zürich € 𝄞", "nested": {"b": [1, 2.5, None, True], "a": "x"}, "e": 1e21}

    async def work(database: Database, settings: Settings) -> VerificationReport:
        async with database.transaction() as session:
            await record_event(
                session, action="user.rename", actor_id=None, actor="admin", details=details
            )
        return await verify_audit_log(database, settings)

    report = run(work, database_url, data_dir)
    assert report.ok, report.problems
    assert report.entries == 1


def test_a_rolled_back_transaction_leaves_no_entry_and_the_head_unmoved(
    database_url: str, data_dir: Path
) -> None:
    async def work(database: Database, settings: Settings) -> tuple[int, int, int]:
        await append(database, 1)

        async def record_then_fail() -> None:
            async with database.transaction() as session:
                await record_event(session, action="x.y", actor_id=None, actor="a")
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await record_then_fail()
        await append(database, 1)
        report = await verify_audit_log(database, settings)
        assert report.ok, report.problems
        async with database.transaction() as session:
            head = await session.get(AuditHead, 1)
            assert head is not None
            count = len(list((await session.execute(select(AuditEntry.seq))).scalars()))
            intake = len(list((await session.execute(select(AuditIntake.id))).scalars()))
            return head.seq, count, intake

    assert run(work, database_url, data_dir) == (2, 2, 0)


def test_bad_input_is_refused_with_the_field_named(database_url: str, data_dir: Path) -> None:
    async def work(database: Database, _settings: Settings) -> None:
        async with database.transaction() as session:
            with pytest.raises(ValueError, match="outcome"):
                await record_event(session, action="a", actor_id=None, actor="x", outcome="ok")
            with pytest.raises(ValueError, match="canonical JSON"):
                await record_event(
                    session, action="a", actor_id=None, actor="x", details={"x": float("nan")}
                )
            with pytest.raises(ValueError, match="action"):
                await record_event(session, action="", actor_id=None, actor="x")

    run(work, database_url, data_dir)


def test_the_table_refuses_update_and_delete(database_url: str, data_dir: Path) -> None:
    async def work(database: Database, _settings: Settings) -> None:
        await append(database, 2)
        for statement in (
            update(AuditEntry).where(AuditEntry.seq == 1).values(actor="mallory"),
            text("DELETE FROM audit_log WHERE seq = 2"),
            text("DELETE FROM audit_head"),
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with database.transaction() as session:
                    await session.execute(statement)
        if not database.is_sqlite:
            with pytest.raises(DBAPIError, match="append-only"):
                async with database.transaction() as session:
                    await session.execute(text("TRUNCATE audit_log"))

    run(work, database_url, data_dir)


def test_a_second_entry_claiming_the_same_predecessor_is_refused(
    database_url: str, data_dir: Path
) -> None:
    async def work(database: Database, _settings: Settings) -> None:
        await append(database, 1)
        async with database.transaction() as session:
            first = (await session.execute(select(AuditEntry))).scalar_one()
            values = {c.key: getattr(first, c.key) for c in AuditEntry.__table__.columns}
        with pytest.raises(IntegrityError):
            async with database.transaction() as session:
                await session.execute(
                    insert(AuditEntry).values(**{**values, "seq": 2, "hash": "f" * 64})
                )

    run(work, database_url, data_dir)


def _swap_seq(first: int, second: int) -> list[Any]:
    parked = 10**9
    return [
        update(AuditEntry).where(AuditEntry.seq == first).values(seq=parked),
        update(AuditEntry).where(AuditEntry.seq == second).values(seq=first),
        update(AuditEntry).where(AuditEntry.seq == parked).values(seq=second),
    ]


TAMPERING: dict[str, tuple[list[Any], set[tuple[Check, int | None]]]] = {
    "edit": (
        [update(AuditEntry).where(AuditEntry.seq == 3).values(actor="mallory")],
        {(Check.HASH_MISMATCH, 3)},
    ),
    "edit details": (
        [update(AuditEntry).where(AuditEntry.seq == 2).values(details={"rows": 1})],
        {(Check.HASH_MISMATCH, 2)},
    ),
    "delete in the middle": (
        [text("DELETE FROM audit_log WHERE seq = 3")],
        {(Check.SEQUENCE_GAP, 4), (Check.CHAIN_BREAK, 4)},
    ),
    "delete at the tail": (
        [
            text("DELETE FROM audit_log WHERE seq >= 5"),
            update(AuditHead).values(
                seq=4, hash=select(AuditEntry.hash).where(AuditEntry.seq == 4).scalar_subquery()
            ),
        ],
        {(Check.CHECKPOINT_BEYOND_END, 5), (Check.CHECKPOINT_BEYOND_END, 6)},
    ),
    "reorder": (
        _swap_seq(2, 3),
        {
            (Check.HASH_MISMATCH, 2),
            (Check.HASH_MISMATCH, 3),
            (Check.CHAIN_BREAK, 2),
            (Check.CHAIN_BREAK, 3),
            (Check.CHAIN_BREAK, 4),
        },
    ),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_verify_names_each_kind_of_tampering_and_where(
    database_url: str, data_dir: Path, kind: str
) -> None:
    statements, expected = TAMPERING[kind]

    async def work(database: Database, settings: Settings) -> tuple[Any, Any]:
        await append(database, 5)
        await write_checkpoint(database, settings, reason="periodic")
        await append(database, 1)
        await write_checkpoint(database, settings, reason="periodic")
        before = await verify_audit_log(database, settings)
        await tamper(database, *statements)
        return before, await verify_audit_log(database, settings)

    before, after = run(work, database_url, data_dir)
    assert before.ok, before.problems
    assert not after.ok
    assert found(after) == expected, after.problems


def test_a_full_rewrite_with_recomputed_hashes_is_caught_by_the_checkpoints(
    database_url: str, data_dir: Path
) -> None:
    async def work(database: Database, settings: Settings) -> VerificationReport:
        await append(database, 4)
        await write_checkpoint(database, settings, reason="periodic")
        # The forger rebuilds the whole chain from scratch with one actor changed, in a second
        # database, then copies it over: every hash and link is self-consistent.
        async with database.transaction() as session:
            originals = list((await session.execute(select(AuditEntry).order_by("seq"))).scalars())
        rebuilt = Database(f"sqlite+aiosqlite:///{settings.data_dir / 'forged.db'}")
        await upgrade_async(rebuilt.url)
        for row in originals:
            async with rebuilt.transaction() as session:
                await record_event(
                    session,
                    action=row.action,
                    actor_id=row.actor_id,
                    actor="mallory" if row.seq == 2 else row.actor,
                    target=row.target,
                    details=row.details,
                )
        await seal_pending(rebuilt)
        async with rebuilt.transaction() as session:
            forged = list((await session.execute(select(AuditEntry).order_by("seq"))).scalars())
            head = await session.get(AuditHead, 1)
            assert head is not None
            head_values = {"seq": head.seq, "hash": head.hash, "prev_hash": head.prev_hash}
        await rebuilt.dispose()
        columns = [c.key for c in AuditEntry.__table__.columns]
        await tamper(
            database,
            text("DELETE FROM audit_log"),
            insert(AuditEntry).values([{c: getattr(r, c) for c in columns} for r in forged]),
            update(AuditHead).values(**head_values),
        )
        return await verify_audit_log(database, settings)

    report = run(work, database_url, data_dir)
    assert found(report) == {(Check.CHECKPOINT_MISMATCH, 4)}, report.problems


def test_forged_and_removed_checkpoint_lines_are_caught(database_url: str, data_dir: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from contango.audit.checkpoints import append_checkpoint, checkpoint_path

    async def work(database: Database, settings: Settings) -> tuple[Any, Any]:
        await append(database, 3)
        for _ in range(3):
            await write_checkpoint(database, settings)
            await append(database, 1)
        path = checkpoint_path(settings)
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(lines[0] + lines[2])  # the middle line removed
        removed = await verify_audit_log(database, settings)
        append_checkpoint(path, Ed25519PrivateKey.generate(), seq=6, hash_="a" * 64, reason="x")
        return removed, await verify_audit_log(database, settings)

    removed, forged = run(work, database_url, data_dir)
    assert found(removed) == {(Check.CHECKPOINT_INVALID, 5)}, removed.problems
    assert "line 2 does not follow" in removed.problems[0].message
    assert (Check.CHECKPOINT_INVALID, 6) in found(forged)
    assert any("signed by key" in problem.message for problem in forged.problems)


def test_checkpoint_file_lines_are_signed_json(data_dir: Path, database_url: str) -> None:
    from contango.audit.checkpoints import checkpoint_path, signing_key

    async def work(database: Database, settings: Settings) -> Path:
        await append(database, 2)
        await write_checkpoint(database, settings, reason="export")
        skipped = await write_checkpoint(database, settings, if_changed=True)
        assert skipped is None
        return checkpoint_path(settings)

    path = run(work, database_url, data_dir)
    (line,) = path.read_text().splitlines()
    record = json.loads(line)
    assert (record["seq"], record["reason"], record["prev"]) == (2, "export", GENESIS_HASH)
    from contango.audit.checkpoints import Checkpoint

    key = signing_key(Settings(data_dir=data_dir, database_url=database_url)).public_key()
    assert Checkpoint.from_json(record).signed_by(key)
    assert not Checkpoint.from_json({**record, "seq": 3}).signed_by(key)
