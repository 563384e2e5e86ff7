"""Properties of the chain on SQLite files copied per example.

Any single change to any hashed field of any entry is caught, at that entry: the chain is built
once; each example changes one column of one row (with the triggers dropped, as an intruder with
file access would), and verifies. ``intake_id`` is not hashed (it names where an entry was
sealed from, not what happened) and is left out. And any interleaving of committed and
rolled-back transactions and seals of any batch size chains exactly the committed events.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from contango.audit import Check, record_event, verify_audit_log
from contango.audit.checkpoints import write_checkpoint
from contango.audit.seal import seal_batch
from contango.db.migrate import upgrade
from contango.db.models.audit import AuditEntry
from contango.db.session import Database
from contango.settings import Settings

ENTRIES = 4
FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor",
    "action",
    "target",
    "outcome",
    "details",
    "request_id",
    "client_ip",
    "prev_hash",
    "hash",
)


async def _build(url: str, settings_: Settings) -> None:
    # Sealed by the checkpoint, which seals what is pending before it signs the head.
    database = Database(url)
    try:
        for index in range(ENTRIES):
            async with database.transaction() as session:
                await record_event(
                    session,
                    action="strategy.save",
                    actor_id=uuid.uuid4(),
                    actor=f"quant-{index}@desk-b.example.com",
                    target=f"strategy:{index}",
                    details={"name": "ma_crossover", "fast": 10 + index},
                )
        await write_checkpoint(database, settings_)
    finally:
        await database.dispose()


def _changed(field: str, old: Any, data: st.DataObject) -> Any:
    """A value for ``field`` different from ``old``."""
    choices: dict[str, st.SearchStrategy[Any]] = {
        "seq": st.integers(ENTRIES + 1, 10**12),
        "occurred_at": st.integers(1, 10**9).map(
            lambda micros: old + timedelta(microseconds=micros)
        ),
        "actor_id": st.one_of(st.none(), st.uuids()),
        "actor": st.text(max_size=40),
        "action": st.text(min_size=1, max_size=40),
        "target": st.one_of(st.none(), st.text(max_size=40)),
        "outcome": st.sampled_from(["success", "failure", "denied"]),
        "details": st.dictionaries(st.text(max_size=5), st.integers(-1000, 1000), max_size=3),
        "request_id": st.one_of(st.none(), st.text(max_size=20)),
        "client_ip": st.one_of(st.none(), st.text(max_size=20)),
        "prev_hash": st.text("0123456789abcdef", min_size=64, max_size=64),
        "hash": st.text("0123456789abcdef", min_size=64, max_size=64),
    }
    return data.draw(choices[field].filter(lambda value: value != old), label=field)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("audit-chain")
    url = f"sqlite+aiosqlite:///{folder / 'chain.db'}"
    upgrade(url)
    asyncio.run(_build(url, Settings(data_dir=folder, database_url=url)))
    return folder, folder / "chain.db"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), seq=st.integers(1, ENTRIES), field=st.sampled_from(FIELDS))
def test_any_single_field_change_is_detected_at_that_entry(
    chain: tuple[Path, Path], tmp_path: Path, data: st.DataObject, seq: int, field: str
) -> None:
    folder, original = chain
    copy = tmp_path / f"copy-{uuid.uuid4().hex}.db"
    shutil.copy(original, copy)
    url = f"sqlite+aiosqlite:///{copy}"

    async def main() -> tuple[Any, set[tuple[Check, int | None]] | None]:
        database = Database(url)
        try:
            async with database.transaction() as session:
                row = (
                    await session.execute(select(AuditEntry).where(AuditEntry.seq == seq))
                ).scalar_one()
                old = getattr(row, field)
            new = _changed(field, old, data)
            try:
                async with database.engine.begin() as connection:
                    await connection.execute(text("DROP TRIGGER audit_log_no_update"))
                    await connection.execute(
                        update(AuditEntry).where(AuditEntry.seq == seq).values({field: new})
                    )
            except IntegrityError:
                return new, None  # the UNIQUE constraints refused it: not a stored change
            report = await verify_audit_log(database, Settings(data_dir=folder, database_url=url))
            return new, {(problem.check, problem.seq) for problem in report.problems}
        finally:
            await database.dispose()

    new, problems = asyncio.run(main())
    if problems is None:
        reject()
    named = {where for _, where in problems}
    assert problems, f"changing {field} of entry {seq} went unnoticed"
    if field == "seq":
        # The moved entry fails its hash at its new number; the hole it left is named by the
        # entry after it, or (for the last entry) by the checkpoint that signed it.
        assert (Check.HASH_MISMATCH, new) in problems
        assert (seq + 1 if seq < ENTRIES else seq) in named, problems
    else:
        assert seq in named, problems


# --- the two-stage log: any interleaving of commits, rollbacks and seals ---

Step = tuple[str, int]  # ("commit", events) | ("rollback", events) | ("seal", batch limit)


@pytest.fixture(scope="module")
def empty_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audit-empty")
    upgrade(f"sqlite+aiosqlite:///{folder / 'empty.db'}")
    return folder / "empty.db"


async def _play(database: Database, steps: list[Step]) -> tuple[list[str], list[int], list[int]]:
    """Run ``steps``; return the committed actors, each seal's count, and what it could seal."""
    committed: list[str] = []
    counts: list[int] = []
    expected: list[int] = []
    waiting = 0
    for number, (kind, size) in enumerate(steps):
        if kind == "seal":
            counts.append((await seal_batch(database, limit=size)).count)
            expected.append(min(size, waiting))
            waiting -= expected[-1]
            continue
        actors = [f"step-{number}-{index}" for index in range(size)]
        try:
            async with database.transaction() as session:
                for actor in actors:
                    await record_event(session, action="job.submit", actor_id=None, actor=actor)
                if kind == "rollback":
                    raise LookupError(kind)
        except LookupError:
            continue
        committed += actors
        waiting += size
    return committed, counts, expected


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["commit", "rollback", "seal"]), st.integers(1, 4)),
        max_size=10,
    )
)
def test_the_chain_holds_exactly_the_committed_events_in_commit_order(
    empty_log: Path, tmp_path: Path, steps: list[Step]
) -> None:
    copy = tmp_path / f"copy-{uuid.uuid4().hex}.db"
    shutil.copy(empty_log, copy)
    url = f"sqlite+aiosqlite:///{copy}"

    async def main() -> tuple[list[str], list[int], list[int], list[str], Any]:
        database = Database(url)
        try:
            committed, counts, expected = await _play(database, steps)
            report = await verify_audit_log(database, Settings(data_dir=tmp_path, database_url=url))
            async with database.transaction() as session:
                chained = (
                    await session.execute(select(AuditEntry.actor).order_by("seq"))
                ).scalars()
                return committed, counts, expected, list(chained), report
        finally:
            await database.dispose()

    committed, counts, expected, chained, report = asyncio.run(main())
    assert counts == expected  # each seal took min(limit, waiting), oldest first
    assert chained == committed  # no rolled-back event, none lost, none twice, commit order
    assert report.ok, report.problems
    assert report.entries == len(committed)
