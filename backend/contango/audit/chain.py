"""Appending to the audit log, in the caller's transaction.

Appends serialize on the single ``audit_head`` row: the first statement of an append updates it
(claiming ``seq + 1`` and reading the previous hash under the row's write lock), so two writers
can never read the same head. The lock is held until the caller's transaction ends; call
:func:`record_event` as the last write of a transaction, so that other writers wait as little
as possible. The transaction must run at READ COMMITTED (PostgreSQL's default): under
REPEATABLE READ a concurrent append makes the update fail instead of waiting. Should anything
still go wrong, the UNIQUE constraints on ``seq`` and ``prev_hash`` refuse a fork.

On PostgreSQL one statement does it all (the database computes the SHA-256 from the canonical
pieces made here), which keeps the lock short: the chain's throughput is bounded by how long
each writer holds it. SQLite serializes writers by itself; there the hash is computed here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, String, Uuid, bindparam, insert, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from contango.audit.canonical import OUTCOMES, EntryFields, canonical_details, entry_hash
from contango.db.base import UTCDateTime, utcnow
from contango.db.models.audit import AuditEntry, AuditHead
from contango.observability import context

_LIMITS = {"action": 100, "actor": 320, "target": 500}

_PG_APPEND = text(
    """
    WITH head AS (
        UPDATE audit_head SET
            prev_hash = hash,
            seq = seq + 1,
            hash = encode(sha256(
                CAST(:part_a AS bytea) || convert_to(hash, 'UTF8') || CAST(:part_b AS bytea)
                || convert_to(CAST(seq + 1 AS text), 'UTF8') || CAST(:part_c AS bytea)
            ), 'hex')
        WHERE id = 1
        RETURNING seq, prev_hash, hash
    )
    INSERT INTO audit_log (seq, occurred_at, actor_id, actor, action, target, outcome, details,
                           request_id, client_ip, prev_hash, hash)
    SELECT seq, CAST(:occurred_at AS timestamptz), CAST(:actor_id AS uuid), :actor, :action,
           :target, :outcome, CAST(:details AS json), :request_id, :client_ip, prev_hash, hash
    FROM head
    RETURNING seq, prev_hash, hash
    """
).bindparams(
    bindparam("part_a", type_=LargeBinary()),
    bindparam("part_b", type_=LargeBinary()),
    bindparam("part_c", type_=LargeBinary()),
    bindparam("occurred_at", type_=UTCDateTime()),
    bindparam("actor_id", type_=Uuid()),
    bindparam("details", type_=String()),
)

_CLAIM = (
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(seq=AuditHead.seq + 1)
    .returning(AuditHead.seq, AuditHead.hash)
)


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
        return cls(
            seq=row.seq,
            time=row.occurred_at,
            actor_id=row.actor_id,
            actor=row.actor,
            action=row.action,
            target=row.target,
            outcome=row.outcome,
            details=row.details,
            request_id=row.request_id,
            client_ip=row.client_ip,
            prev_hash=row.prev_hash,
            hash=row.hash,
        )


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


async def _append_postgres(session: AsyncSession, fields: EntryFields) -> tuple[int, str, str]:
    part_a, part_b, part_c = fields.hash_parts()
    result = await session.execute(
        _PG_APPEND,
        {
            "part_a": part_a,
            "part_b": part_b,
            "part_c": part_c,
            "occurred_at": fields.time,
            "actor_id": fields.actor_id,
            "actor": fields.actor,
            "action": fields.action,
            "target": fields.target,
            "outcome": fields.outcome,
            "details": json.dumps(dict(fields.details), ensure_ascii=False),
            "request_id": fields.request_id,
            "client_ip": fields.client_ip,
        },
    )
    row = result.one_or_none()
    if row is None:
        raise AuditHeadMissingError("audit_head has no row 1; run the migrations (0002)")
    return int(row.seq), str(row.prev_hash), str(row.hash)


async def _append_generic(session: AsyncSession, fields: EntryFields) -> tuple[int, str, str]:
    # The UPDATE comes first so that the head is read under the database's write lock.
    claimed = (await session.execute(_CLAIM)).one_or_none()
    if claimed is None:
        raise AuditHeadMissingError("audit_head has no row 1; run the migrations (0002)")
    seq, prev_hash = int(claimed.seq), str(claimed.hash)
    digest = entry_hash(fields, seq=seq, prev_hash=prev_hash)
    await session.execute(
        insert(AuditEntry).values(
            seq=seq,
            occurred_at=fields.time,
            actor_id=fields.actor_id,
            actor=fields.actor,
            action=fields.action,
            target=fields.target,
            outcome=fields.outcome,
            details=dict(fields.details),
            request_id=fields.request_id,
            client_ip=fields.client_ip,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    await session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(hash=digest, prev_hash=prev_hash)
    )
    return seq, prev_hash, digest


async def record_event(
    session: AsyncSession,
    *,
    action: str,
    actor_id: uuid.UUID | None,
    actor: str,
    target: str | None = None,
    outcome: str = "success",
    details: Mapping[str, Any] | None = None,
) -> Entry:
    """Append one event to the audit log inside ``session``'s current transaction.

    The entry becomes visible (and the chain head moves) only when the caller commits; if the
    transaction rolls back, neither the change nor its entry exists. ``details`` must be a JSON
    object (no secrets: the log is read by compliance officers and exported).
    """
    fields = _checked_fields(
        action=action,
        actor_id=actor_id,
        actor=actor,
        target=target,
        outcome=outcome,
        details=details,
    )
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        seq, prev_hash, digest = await _append_postgres(session, fields)
    else:
        seq, prev_hash, digest = await _append_generic(session, fields)
    return Entry(
        seq=seq,
        time=fields.time,
        actor_id=fields.actor_id,
        actor=fields.actor,
        action=fields.action,
        target=fields.target,
        outcome=fields.outcome,
        details=fields.details,
        request_id=fields.request_id,
        client_ip=fields.client_ip,
        prev_hash=prev_hash,
        hash=digest,
    )
