"""Recording audit events in the caller's transaction, and the entries they become.

:func:`record_event` inserts the event into ``audit_intake`` as part of the caller's
transaction: the event exists exactly when the change it describes does, and a rollback takes
both away. The insert takes no lock that another writer waits on, so concurrent requests commit
independently (and PostgreSQL flushes their commits to the WAL together). Giving the event its
place in the chain (``seq``, ``prev_hash``, ``hash``) is the sealer's job
(:mod:`contango.audit.seal`), a moment later and in order; readers that must see every
committed event seal what is pending first.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from contango.audit.canonical import OUTCOMES, EntryFields, canonical_details
from contango.db.base import utcnow
from contango.db.models.audit import AuditEntry, AuditIntake
from contango.observability import context

_LIMITS = {"action": 100, "actor": 320, "target": 500}


class AuditHeadMissingError(RuntimeError):
    """The ``audit_head`` row is gone: the schema is not migrated, or someone removed it."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One audit entry as stored: its place in the chain and everything that was hashed."""

    seq: int
    time: datetime
    actor_id: uuid.UUID | None
    actor: str
    action: str
    target: str | None
    outcome: str
    details: Mapping[str, Any]
    request_id: str | None
    client_ip: str | None
    prev_hash: str
    hash: str

    @property
    def fields(self) -> EntryFields:
        """The hashed fields other than the chain position."""
        return EntryFields(
            time=self.time,
            actor_id=self.actor_id,
            actor=self.actor,
            action=self.action,
            target=self.target,
            outcome=self.outcome,
            details=self.details,
            request_id=self.request_id,
            client_ip=self.client_ip,
        )

    def to_json(self) -> dict[str, Any]:
        """The entry as exported: the hashed object plus its ``hash``."""
        return {**self.fields.payload(seq=self.seq, prev_hash=self.prev_hash), "hash": self.hash}

    @classmethod
    def from_row(cls, row: AuditEntry) -> Entry:
        """The entry held by a loaded row."""
        fields = EntryFields.from_row(row)
        flat = {f.name: getattr(fields, f.name) for f in dataclass_fields(EntryFields)}
        return cls(seq=row.seq, **flat, prev_hash=row.prev_hash, hash=row.hash)


def _checked_fields(
    *,
    action: str,
    actor_id: uuid.UUID | None,
    actor: str,
    target: str | None,
    outcome: str,
    details: Mapping[str, Any] | None,
) -> EntryFields:
    for name, value in (("action", action), ("actor", actor), ("target", target)):
        if value is not None and len(value) > _LIMITS[name]:
            raise ValueError(f"audit {name} is longer than {_LIMITS[name]} characters: {value!r}")
    if not action:
        raise ValueError("audit action must not be empty")
    if outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
    if actor_id is not None and not isinstance(actor_id, uuid.UUID):
        raise TypeError(f"audit actor_id must be a UUID or None, got {type(actor_id).__name__}")
    # Request ids and addresses come from the client (headers, proxies): cut, never refuse.
    request_id = context.request_id.get()
    client_ip = context.client_ip.get()
    return EntryFields(
        time=utcnow(),
        actor_id=actor_id,
        actor=actor,
        action=action,
        target=target,
        outcome=outcome,
        details=canonical_details(details),
        request_id=None if request_id is None else request_id[:100],
        client_ip=None if client_ip is None else client_ip[:64],
    )


# A Core insert of the table (not the ORM entity): one statement, no unit-of-work bookkeeping.
_INTAKE = cast(Table, AuditIntake.__table__)
_RECORD = insert(_INTAKE).returning(_INTAKE.c.id)


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """An event recorded in the intake, waiting to be sealed into the chain.

    ``intake_id`` orders the sealing: the sealer chains committed intake rows by it.
    """

    intake_id: int
    fields: EntryFields


async def record_event(
    session: AsyncSession,
    *,
    action: str,
    actor_id: uuid.UUID | None,
    actor: str,
    target: str | None = None,
    outcome: str = "success",
    details: Mapping[str, Any] | None = None,
) -> PendingEntry:
    """Record one event in the audit log inside ``session``'s current transaction.

    The event becomes visible only when the caller commits; if the transaction rolls back,
    neither the change nor its event exists. It is sealed into the hash chain shortly after the
    commit (its ``seq`` is known only then). ``details`` must be a JSON object (no secrets: the
    log is read by compliance officers and exported).
    """
    fields = _checked_fields(
        action=action,
        actor_id=actor_id,
        actor=actor,
        target=target,
        outcome=outcome,
        details=details,
    )
    result = await session.execute(_RECORD, fields.columns())
    return PendingEntry(intake_id=int(result.scalar_one()), fields=fields)
