"""Signed checkpoints of the chain head, kept apart from the database.

The hash chain alone proves that no entry was changed *relative to its neighbours*; someone who
can write the table can still cut off its tail, or rewrite every entry and recompute every hash.
A checkpoint records the head (``seq``, ``hash``) at a moment, signed with the Ed25519 audit key,
in an append-only JSON-lines file under ``<data_dir>/audit/checkpoints.jsonl``: a later log that
ends before a checkpoint lost its tail, and one whose entry at a checkpoint's ``seq`` has another
hash was rewritten. Each line also carries the hash of the line before it (``prev``), so lines
removed from or edited in the file itself show too. Keep the signing key (and ideally a copy of
the file) where the database's administrators cannot write.
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contango.audit.canonical import GENESIS_HASH, format_time
from contango.audit.seal import seal_pending
from contango.db.base import utcnow
from contango.db.models.audit import AuditEntry
from contango.db.session import Database
from contango.keys import ed25519_key
from contango.settings import Settings

logger = logging.getLogger(__name__)

PURPOSE = "contango-audit-checkpoint"  # signed too, so no other signature can pass for one
KEY_NAME = "audit-signing"


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The audit signing key (configured file, or generated under ``keys/`` in development)."""
    return ed25519_key(settings.audit_signing_key_file, settings, KEY_NAME)


def checkpoint_path(settings: Settings) -> Path:
    """Where the checkpoints of this deployment are appended."""
    return settings.data_dir / "audit" / "checkpoints.jsonl"


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint naming the key that signed a checkpoint (hex SHA-256, 16 chars)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_text(public_key: Ed25519PublicKey) -> str:
    """The raw public key, base64url, as published with exports."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def line_hash(line: bytes) -> str:
    """The hash a following checkpoint line names as its ``prev``."""
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement that the chain's entry ``seq`` had ``hash`` at ``time``."""

    seq: int
    hash: str
    time: str  # format_time of when it was made
    reason: str  # periodic | export | manual
    prev: str  # line_hash of the previous line of the file, GENESIS_HASH for the first
    key: str  # key_id of the signing key
    signature: str = ""  # base64url Ed25519 over the canonical JSON of everything above

    def signed_payload(self) -> bytes:
        """The bytes the signature covers."""
        return rfc8785.dumps(
            {
                "purpose": PURPOSE,
                "seq": self.seq,
                "hash": self.hash,
                "time": self.time,
                "reason": self.reason,
                "prev": self.prev,
                "key": self.key,
            }
        )

    def to_json(self) -> dict[str, Any]:
        """The checkpoint as written to the file and to exports."""
        return {
            "seq": self.seq,
            "hash": self.hash,
            "time": self.time,
            "reason": self.reason,
            "prev": self.prev,
            "key": self.key,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint:
        """Parse one line's object; ``ValueError`` naming the field that is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a checkpoint line must hold a JSON object")
        expected = {"seq": int, "hash": str, "time": str, "reason": str, "prev": str, "key": str}
        for name, kind in {**expected, "signature": str}.items():
            if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool):
                raise ValueError(f"checkpoint field {name!r} is missing or not a {kind.__name__}")
        return cls(**{name: data[name] for name in (*expected, "signature")})

    def signed_by(self, public_key: Ed25519PublicKey) -> bool:
        """Whether the signature is valid under ``public_key``."""
        try:
            signature = base64.urlsafe_b64decode(self.signature + "=" * (-len(self.signature) % 4))
            public_key.verify(signature, self.signed_payload())
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True, slots=True)
class CheckpointLine:
    """One line of the checkpoint file: its number, and the checkpoint or why it is unreadable."""

    number: int  # 1-based
    checkpoint: Checkpoint | None
    error: str | None
    line_hash: str


def read_checkpoints(path: Path) -> list[CheckpointLine]:
    """Every line of the checkpoint file (an absent file has none)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    lines: list[CheckpointLine] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        try:
            checkpoint = Checkpoint.from_json(json.loads(line))
            error = None
        except ValueError as problem:  # json.JSONDecodeError is a ValueError
            checkpoint, error = None, str(problem)
        lines.append(CheckpointLine(number, checkpoint, error, line_hash(line)))
    return lines


def _last_line(handle: Any) -> bytes | None:
    size = handle.seek(0, os.SEEK_END)
    step = 4096
    while True:
        start = max(0, size - step)
        handle.seek(start)
        chunk = handle.read(size - start).rstrip(b"\n")
        if b"\n" in chunk or start == 0:
            last = chunk.rsplit(b"\n", 1)[-1]
            return last or None
        step *= 2


def append_checkpoint(
    path: Path, key: Ed25519PrivateKey, *, seq: int, hash_: str, reason: str
) -> Checkpoint:
    """Sign the head ``(seq, hash_)`` and append it to ``path`` (written and fsynced).

    An exclusive file lock orders writers of several processes (API, CLI), so each line's
    ``prev`` names the line really before it.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "r+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        last = _last_line(handle)
        unsigned = Checkpoint(
            seq=seq,
            hash=hash_,
            time=format_time(utcnow()),
            reason=reason,
            prev=GENESIS_HASH if last is None else line_hash(last),
            key=key_id(key.public_key()),
        )
        signature = base64.urlsafe_b64encode(key.sign(unsigned.signed_payload()))
        checkpoint = Checkpoint(**{**unsigned.to_json(), "signature": signature.decode()})
        handle.write(rfc8785.dumps(checkpoint.to_json()) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return checkpoint


async def chain_head(session: AsyncSession) -> tuple[int, str]:
    """The newest committed entry's ``(seq, hash)``; ``(0, GENESIS_HASH)`` for an empty log."""
    row = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        )
    ).one_or_none()
    return (0, GENESIS_HASH) if row is None else (int(row.seq), str(row.hash))


async def write_checkpoint(
    database: Database, settings: Settings, *, reason: str = "manual", if_changed: bool = False
) -> Checkpoint | None:
    """Checkpoint the head once every event committed so far is sealed.

    With ``if_changed``, skip it when the last checkpoint already has that head.
    """
    await seal_pending(database)
    async with database.transaction() as session:
        seq, head_hash = await chain_head(session)
    path = checkpoint_path(settings)
    if if_changed:
        lines = read_checkpoints(path)
        last = lines[-1].checkpoint if lines else None
        if last is not None and (last.seq, last.hash) == (seq, head_hash):
            return None
    key = signing_key(settings)
    return await asyncio.to_thread(
        append_checkpoint, path, key, seq=seq, hash_=head_hash, reason=reason
    )


class HasDatabaseAndSettings(Protocol):
    """What :func:`run_checkpoints` needs of a service context."""

    @property
    def settings(self) -> Settings: ...

    @property
    def database(self) -> Database: ...


async def run_checkpoints(
    context: HasDatabaseAndSettings, every: timedelta = timedelta(minutes=5)
) -> None:
    """Checkpoint the head every ``every`` (when it moved) until cancelled.

    Meant to run as a task of the API's lifespan. A failure is logged and retried at the next
    tick: a missed checkpoint weakens tail protection for a while but must not stop the API.
    """
    if every <= timedelta(0):
        raise ValueError(f"checkpoint interval must be positive, got {every}")
    while True:
        await asyncio.sleep(every.total_seconds())
        try:
            await write_checkpoint(
                context.database, context.settings, reason="periodic", if_changed=True
            )
        except Exception:
            logger.exception("audit checkpoint failed; retrying in %s", every)


def parse_time(text: str) -> datetime:
    """A checkpoint or entry time back as a datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
