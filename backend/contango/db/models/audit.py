"""The audit log: an append-only, hash-chained table and the one row that names its head.

Rows are written only by :func:`contango.audit.record_event`; nothing updates or deletes them
(on PostgreSQL, triggers and privileges refuse it; see ``migrations/versions/0002_audit_log.py``).
The head row exists so that appends serialize on one row lock: the writer that holds it reads
the previous hash and claims the next sequence number in the same step, so concurrent writers
can neither fork the chain nor skip a number.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, SmallInteger, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from contango.db.base import Base, UTCDateTime

HASH_LENGTH = 64  # hex SHA-256


class AuditEntry(Base):
    """One audited event; ``hash`` covers every other column, ``prev_hash`` included."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_actor", "actor"),
        Index("ix_audit_log_action", "action"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(100))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    # Unique: two entries claiming the same predecessor would be a fork of the chain.
    prev_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)


class AuditHead(Base):
    """The single row (``id = 1``) holding the newest entry's number and hashes."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    prev_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
