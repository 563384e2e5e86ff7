"""Sealing: moving recorded events from the intake into the hash chain, in batches.

One sealing transaction first updates the ``audit_head`` row, which is the chain lock: sealers
of several processes take turns, and each, once it holds the lock, reads (at READ COMMITTED, a
fresh snapshot per statement) the head and the intake as the previous one left them. It then
takes up to ``limit`` committed intake rows in ``id`` order, gives them the next numbers,
chains their hashes over the RFC 8785 encoding, inserts them into ``audit_log`` (each naming the
intake row it came from; that column is unique, so no row is sealed twice), deletes them from
the intake and moves the head, and commits. A fork would need two sealers to read the same
head, which the lock forbids; the UNIQUE constraints on ``seq`` and ``prev_hash`` refuse one
anyway. No intake row is locked by the sealer (that would need UPDATE on the intake, which the
application role does not have): the chain lock already keeps sealers apart. On PostgreSQL a
sealing transaction waits at most :data:`LOCK_TIMEOUT` for a lock (the head, or an intake row
someone holds in an open transaction), then fails and is retried, rather than hanging.

An intake row whose id a log row already claims (only an entry inserted around the sealer can)
is not sealed again: the UNIQUE constraint would refuse the whole batch and stall the chain.
An intake row that cannot be hashed (written around :func:`~contango.audit.record_event` with
content canonical JSON cannot carry) is left in the intake and logged; verification reports
it as ``unsealed`` once it is older than its threshold. The rows after it are sealed as usual.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import rfc8785
from sqlalchemy import Row, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from contango.audit.canonical import EntryFields, entry_hash
from contango.audit.chain import AuditHeadMissingError
from contango.db.models.audit import AuditEntry, AuditHead, AuditIntake
from contango.db.session import Database

logger = logging.getLogger(__name__)

BATCH = 1000  # rows per sealing transaction: large enough to amortize the commit, short lock
LOCK_TIMEOUT = timedelta(seconds=5)

# Updating the head row (to itself) takes its write lock before anything is read: on PostgreSQL
# the row lock, on SQLite the database's write lock (so no read snapshot can go stale).
_LOCK_HEAD = (
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(seq=AuditHead.seq)
    .returning(AuditHead.seq, AuditHead.hash)
)
_ANY_PENDING = select(AuditIntake.id).limit(1)
_INTAKE = AuditIntake.__table__
# Intake rows in sealing order, except any whose id a log row already claims: only a row
# inserted around the sealer can (verification flags it), and it must not stall the chain.
_WAITING = (
    select(_INTAKE)
    .where(~select(AuditEntry.seq).where(AuditEntry.intake_id == _INTAKE.c.id).exists())
    .order_by(_INTAKE.c.id)
)


@dataclass(frozen=True, slots=True)
class Sealed:
    """What one sealing transaction did: the entries it numbered and the intake rows they were."""

    first_seq: int | None
    last_seq: int | None
    intake_ids: tuple[int, ...]
    recorded_at: tuple[datetime, ...]  # each entry's time, for lag metrics
    skipped: tuple[int, ...] = ()  # intake rows that cannot be hashed

    @property
    def count(self) -> int:
        """How many entries were sealed."""
        return len(self.intake_ids)


NOTHING = Sealed(None, None, (), ())


def _chain(
    rows: Sequence[Row[Any]], seq: int, prev_hash: str
) -> tuple[list[dict[str, Any]], list[int]]:
    """The ``audit_log`` rows for ``rows`` following ``(seq, prev_hash)``, and the skipped ids."""
    entries: list[dict[str, Any]] = []
    skipped: list[int] = []
    for row in rows:
        fields = EntryFields.from_row(row)
        try:
            digest = entry_hash(fields, seq=seq + 1, prev_hash=prev_hash)
        except (TypeError, ValueError, rfc8785.CanonicalizationError) as error:
            logger.error("audit intake row %s cannot be sealed: %s", row.id, error)
            skipped.append(int(row.id))
            continue
        seq += 1
        entries.append(
            {
                "seq": seq,
                **fields.columns(),
                "prev_hash": prev_hash,
                "hash": digest,
                "intake_id": int(row.id),
            }
        )
        prev_hash = digest
    return entries, skipped


async def seal_in(session: AsyncSession, limit: int = BATCH) -> Sealed:
    """Seal up to ``limit`` pending events inside ``session``'s transaction.

    The head stays locked until that transaction ends: commit soon. Use it where a reader must
    see its own transaction's events sealed (:func:`contango.audit.list_entries`); otherwise
    prefer :func:`seal_batch`, which commits at once.
    """
    if limit < 1:
        raise ValueError(f"the sealing batch must hold at least one row, got {limit}")
    head = (await session.execute(_LOCK_HEAD)).one_or_none()
    if head is None:
        raise AuditHeadMissingError("audit_head has no row 1; run the migrations (0002)")
    rows = (await session.execute(_WAITING.limit(limit))).all()
    entries, skipped = _chain(rows, int(head.seq), str(head.hash))
    if not entries:
        return Sealed(None, None, (), (), tuple(skipped))
    await session.execute(insert(AuditEntry), entries)
    sealed_ids = [entry["intake_id"] for entry in entries]
    await session.execute(delete(AuditIntake).where(AuditIntake.id.in_(sealed_ids)))
    last = entries[-1]
    await session.execute(
        update(AuditHead)
        .where(AuditHead.id == 1)
        .values(seq=last["seq"], hash=last["hash"], prev_hash=last["prev_hash"])
    )
    return Sealed(
        first_seq=entries[0]["seq"],
        last_seq=last["seq"],
        intake_ids=tuple(sealed_ids),
        recorded_at=tuple(entry["occurred_at"] for entry in entries),
        skipped=tuple(skipped),
    )


async def pending(session: AsyncSession) -> bool:
    """Whether the intake holds a committed row (a cheap probe that takes no lock)."""
    return (await session.execute(_ANY_PENDING)).first() is not None


async def seal_batch(
    database: Database, limit: int = BATCH, *, lock_timeout: timedelta = LOCK_TIMEOUT
) -> Sealed:
    """Seal up to ``limit`` pending events in a transaction of their own (committed on return).

    When the intake is empty the head is not locked at all, so idle sealers of several
    processes cost each other nothing. On PostgreSQL, a lock not granted within
    ``lock_timeout`` raises (``sqlalchemy.exc.DBAPIError``) instead of waiting on.
    """
    async with database.transaction() as session:
        if not await pending(session):
            return NOTHING
        if not database.is_sqlite:  # SQLite waits for its write lock up to its busy timeout
            milliseconds = max(1, int(lock_timeout.total_seconds() * 1000))
            await session.execute(text(f"SET LOCAL lock_timeout = {milliseconds}"))
        return await seal_in(session, limit)


async def seal_pending(database: Database, limit: int = BATCH) -> int:
    """Seal every event committed so far (in batches); returns how many were sealed.

    Export, verification and checkpoints call it first, so that what they see is complete.
    Stops when a batch seals nothing, so rows that cannot be sealed do not loop it forever.
    """
    total = 0
    while True:
        sealed = await seal_batch(database, limit)
        total += sealed.count
        if sealed.count == 0:
            return total


class HasDatabase(Protocol):
    """What :func:`run_sealer` needs of a service context."""

    @property
    def database(self) -> Database: ...


async def run_sealer(
    context: HasDatabase,
    every: timedelta = timedelta(milliseconds=50),
    *,
    limit: int = BATCH,
    on_sealed: Callable[[Sealed], None] | None = None,
) -> None:
    """Seal events until cancelled: batch after batch while busy, a pause of ``every`` when idle.

    Meant to run as a task of the API's lifespan (every API process may run one; the chain lock
    takes them in turn). ``on_sealed`` sees each non-empty batch (metrics: throughput, lag). A
    failure is logged and retried after the pause: the events wait in the intake meanwhile.
    """
    if every <= timedelta(0):
        raise ValueError(f"sealer pause must be positive, got {every}")
    pause = every.total_seconds()
    while True:
        try:
            sealed = await seal_batch(context.database, limit)
        except Exception:
            logger.exception("audit sealing failed; retrying in %s", every)
            await asyncio.sleep(pause)
            continue
        if sealed.count and on_sealed is not None:
            on_sealed(sealed)
        # A full batch means more may be waiting; a batch of unsealable rows only is not busy.
        if sealed.count == 0 or sealed.count + len(sealed.skipped) < limit:
            await asyncio.sleep(pause)
