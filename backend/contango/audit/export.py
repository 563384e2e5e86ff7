"""Reading the audit log: pages for the API, and exports for compliance officers.

An export is JSON lines: one entry per line (its hashed fields plus ``hash``, RFC 8785
canonical JSON, so a recipient can recompute every hash and follow ``prev_hash``), then one last
line ``{"checkpoint": {...}, "public_key": ..., "entries": n}``: a checkpoint signed at the
moment of the export, once every event committed before it (the export's own included) is
sealed. The entries stop at the checkpoint's ``seq``, so an export that reaches
the head ends exactly at the signed hash. The export itself is audited before it starts.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import rfc8785
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contango.audit.chain import Entry, record_event
from contango.audit.checkpoints import Checkpoint, public_key_text, signing_key, write_checkpoint
from contango.audit.seal import pending, seal_in
from contango.db.models.audit import AuditEntry
from contango.db.session import Database
from contango.settings import Settings

EXPORT_BATCH = 2000


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """Which entries: by actor, action, time (``since`` inclusive, ``until`` exclusive), seq."""

    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    first_seq: int | None = None
    last_seq: int | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        """``query`` narrowed to the matching entries."""
        conditions = []
        if self.actor is not None:
            conditions.append(AuditEntry.actor == self.actor)
        if self.action is not None:
            conditions.append(AuditEntry.action == self.action)
        if self.since is not None:
            conditions.append(AuditEntry.occurred_at >= self.since)
        if self.until is not None:
            conditions.append(AuditEntry.occurred_at < self.until)
        if self.first_seq is not None:
            conditions.append(AuditEntry.seq >= self.first_seq)
        if self.last_seq is not None:
            conditions.append(AuditEntry.seq <= self.last_seq)
        return query.where(*conditions) if conditions else query


async def list_entries(
    session: AsyncSession, wanted: EntryFilter, *, limit: int, offset: int
) -> tuple[list[Entry], int]:
    """One page of matching entries, newest first, and how many match in all.

    Entries are firm-wide by design: whoever may read the audit log reads all of it. Pending
    events are sealed first, in ``session`` (so its own events count too): a page shows every
    event committed before it was asked for.
    """
    while await pending(session):
        sealed = await seal_in(session)
        if sealed.count == 0:
            break
    total = (
        await session.execute(wanted.apply(select(func.count()).select_from(AuditEntry)))
    ).scalar_one()
    rows = (
        await session.execute(
            wanted.apply(select(AuditEntry))
            .order_by(AuditEntry.seq.desc())
            .limit(limit)
            .offset(offset)
        )
    ).scalars()
    return [Entry.from_row(row) for row in rows], int(total)


@dataclass(frozen=True, slots=True)
class Export:
    """An export under way: its checkpoint, and the lines to send."""

    checkpoint: Checkpoint
    public_key: str
    lines: AsyncIterator[bytes]


async def _lines(
    database: Database, wanted: EntryFilter, checkpoint: Checkpoint, public_key: str
) -> AsyncIterator[bytes]:
    # Short transactions per batch, keyed on seq: a long download holds no snapshot or lock.
    after = 0
    count = 0
    while True:
        async with database.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    wanted.apply(select(AuditEntry))
                    .where(AuditEntry.seq > after, AuditEntry.seq <= checkpoint.seq)
                    .order_by(AuditEntry.seq)
                    .limit(EXPORT_BATCH)
                )
            ).scalars()
            batch = [Entry.from_row(row) for row in rows]
        if not batch:
            break
        for entry in batch:
            yield rfc8785.dumps(entry.to_json()) + b"\n"
        count += len(batch)
        after = batch[-1].seq
    trailer: dict[str, Any] = {
        "checkpoint": checkpoint.to_json(),
        "public_key": public_key,
        "entries": count,
    }
    yield rfc8785.dumps(trailer) + b"\n"


async def start_export(
    database: Database,
    settings: Settings,
    wanted: EntryFilter,
    *,
    actor_id: uuid.UUID | None,
    actor: str,
) -> Export:
    """Audit the export, checkpoint the head, and return the lines of ``wanted`` up to it."""
    async with database.transaction() as session:
        await record_event(
            session,
            action="audit.export",
            actor_id=actor_id,
            actor=actor,
            details={
                key: value.isoformat() if isinstance(value, datetime) else value
                for key, value in vars_of(wanted).items()
                if value is not None
            },
        )
    checkpoint = await write_checkpoint(database, settings, reason="export")
    if checkpoint is None:  # write_checkpoint skips only when asked to (if_changed)
        raise RuntimeError("the export checkpoint was not written")
    public_key = public_key_text(signing_key(settings).public_key())
    return Export(checkpoint, public_key, _lines(database, wanted, checkpoint, public_key))


def vars_of(wanted: EntryFilter) -> dict[str, Any]:
    """The filter's fields by name (slots dataclasses have no ``__dict__``)."""
    return {name: getattr(wanted, name) for name in EntryFilter.__dataclass_fields__}
