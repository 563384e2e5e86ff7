"""What an audit entry's hash covers, encoded once and for all as RFC 8785 canonical JSON.

An entry's hash is SHA-256 over the canonical JSON of all its fields, ``prev_hash`` included, so
that changing any field of any entry, or the order of entries, breaks the chain from there on.
RFC 8785 fixes key order, number formatting and string escaping, so a verifier in any language
recomputes the same bytes from the exported JSON.

:func:`entry_hash` is the one computation: the sealer uses it to chain entries and the verifier
to recompute them.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

GENESIS_HASH = "0" * 64  # the prev_hash of entry 1

OUTCOMES = ("success", "failure", "denied")


def format_time(moment: datetime) -> str:
    """An entry time as hashed and exported: UTC, microseconds, ``Z`` (what both databases keep)."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """``details`` as the plain JSON object that will be stored and hashed.

    Refuses what canonical JSON cannot carry (NaN, infinities, integers beyond 2**53, non-string
    keys, objects that are not JSON) with a message naming the problem, and returns the parsed
    canonical form so that what is stored is exactly what was hashed.
    """
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise TypeError(f"audit details must be a mapping, got {type(details).__name__}")
    try:
        encoded = rfc8785.dumps(dict(details))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as error:
        raise ValueError(f"audit details are not canonical JSON: {error}") from error
    parsed: dict[str, Any] = json.loads(encoded)
    return parsed


@dataclass(frozen=True, slots=True)
class EntryFields:
    """The hashed fields of one entry, except the two the chain position decides."""

    time: datetime
    actor_id: uuid.UUID | None
    actor: str
    action: str
    target: str | None
    outcome: str
    details: Mapping[str, Any]
    request_id: str | None
    client_ip: str | None

    @classmethod
    def from_row(cls, row: Any) -> EntryFields:
        """The fields held by a loaded intake or log row (the two tables share the columns)."""
        return cls(
            time=row.occurred_at,
            actor_id=row.actor_id,
            actor=row.actor,
            action=row.action,
            target=row.target,
            outcome=row.outcome,
            details=row.details,
            request_id=row.request_id,
            client_ip=row.client_ip,
        )

    def columns(self) -> dict[str, Any]:
        """The values of the table columns that hold these fields."""
        return {
            "occurred_at": self.time,
            "actor_id": self.actor_id,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "outcome": self.outcome,
            "details": dict(self.details),
            "request_id": self.request_id,
            "client_ip": self.client_ip,
        }

    def payload(self, *, seq: int, prev_hash: str) -> dict[str, Any]:
        """The object whose canonical JSON is hashed."""
        return {
            "action": self.action,
            "actor": self.actor,
            "actor_id": None if self.actor_id is None else str(self.actor_id),
            "client_ip": self.client_ip,
            "details": dict(self.details),
            "outcome": self.outcome,
            "prev_hash": prev_hash,
            "request_id": self.request_id,
            "seq": seq,
            "target": self.target,
            "time": format_time(self.time),
        }


def payload_hash(payload: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of ``payload`` (the reference computation)."""
    return hashlib.sha256(rfc8785.dumps(dict(payload))).hexdigest()


def entry_hash(fields: EntryFields, *, seq: int, prev_hash: str) -> str:
    """The hash of an entry at position ``seq`` following ``prev_hash``."""
    return payload_hash(fields.payload(seq=seq, prev_hash=prev_hash))
