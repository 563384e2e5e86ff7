"""The audit log: an intake of recorded events, the hash-chained log, and the row naming its head.

Events arrive in two stages. :func:`contango.audit.record_event` inserts an event into
``audit_intake`` inside the caller's transaction, taking no lock that other writers wait on, so
concurrent commits share their WAL flushes. The sealer (:mod:`contango.audit.seal`) then moves
intake rows into ``audit_log`` in batches: under the head row's lock it numbers them, chains
their hashes and deletes them from the intake, all in one transaction. Nothing updates or
deletes ``audit_log`` rows, and an intake row can only be deleted once the log holds it (on
PostgreSQL, triggers and privileges enforce both; see ``migrations/versions/0002_audit_log.py``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from contango.db.base import Base, UTCDateTime

HASH_LENGTH = 64  # hex SHA-256

# SQLite only auto-numbers an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity column.
_INTAKE_ID = BigInteger().with_variant(Integer(), "sqlite")


class AuditIntake(Base):
    """An event recorded but not sealed into the chain yet; ``id`` orders the sealing."""

    __tablename__ = "audit_intake"
    # Ids are never reused (SQLite would otherwise restart them once the intake is emptied):
    # ``audit_log.intake_id`` is unique.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(_INTAKE_ID, Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(100))
    client_ip: Mapped[str | None] = mapped_column(String(64))


class AuditEntry(Base):
    """One sealed event; ``hash`` covers every other column except ``intake_id``.

    ``intake_id`` names the intake row the entry was sealed from. It is bookkeeping, not part of
    the event: unique, so no intake row is sealed twice, and what the intake's delete guard
    checks before letting the sealed row go.
    """

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
    intake_id: Mapped[int] = mapped_column(BigInteger, unique=True)


class AuditHead(Base):
    """The single row (``id = 1``) holding the newest entry's number and hashes.

    Its row lock is the chain lock: a sealer updates it first, so sealers of several processes
    take turns and each reads the head the previous one left.
    """

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    prev_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
