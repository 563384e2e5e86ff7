"""Guarded authentication attempts: refuse while locked, count and audit each failure.

Failures are recorded in a transaction of their own, committed before the error is raised:
the request's own transaction rolls back with the 401 or 429, and the count and the audit entry
must survive it, or an attacker's guesses would leave no trace and never reach the lockout.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from contango.audit import record_event
from contango.auth import throttle
from contango.db.session import Database
from contango.errors import NotAuthenticatedError, ThrottledError


@dataclass(frozen=True, slots=True)
class Client:
    """Where an attempt comes from (for throttling by address and for the session row)."""

    address: str
    user_agent: str = ""


Keys = list[tuple[str, throttle.Limit]]


def password_keys(email: str, client: Client) -> Keys:
    """The throttle keys a password attempt counts against: the account and the address."""
    return [
        (throttle.account_key("login", email), throttle.ACCOUNT_LIMIT),
        (throttle.address_key(client.address), throttle.ADDRESS_LIMIT),
    ]


def mfa_keys(user_id: uuid.UUID, client: Client) -> Keys:
    """The throttle keys a second-factor attempt counts against."""
    return [
        (throttle.account_key("mfa", str(user_id)), throttle.ACCOUNT_LIMIT),
        (throttle.address_key(client.address), throttle.ADDRESS_LIMIT),
    ]


async def check_unlocked(
    database: Database, keys: Keys, *, action: str, actor: str, now: datetime
) -> None:
    """Refuse (429) while any of ``keys`` is locked; the refusal itself is audited."""
    async with database.transaction() as tx:
        until = await throttle.locked_until(tx, [key for key, _ in keys], now)
        if until is None:
            return
        await record_event(
            tx,
            action=action,
            actor_id=None,
            actor=actor,
            outcome="denied",
            details={"reason": "locked", "locked_until": until.isoformat()},
        )
    raise ThrottledError(
        "too many failed attempts; try again later", retry_after=throttle.retry_after(until, now)
    )


async def refuse(
    database: Database,
    *,
    action: str,
    actor: str,
    actor_id: uuid.UUID | None,
    keys: Keys,
    reason: str,
    message: str,
    now: datetime,
) -> NoReturn:
    """Count the failure on every key, audit it, commit both, then answer 401."""
    async with database.transaction() as tx:
        locks = [await throttle.record_failure(tx, key, limit, now) for key, limit in keys]
        details: dict[str, str] = {"reason": reason}
        if any(lock is not None for lock in locks):
            details["locked_until"] = max(lock for lock in locks if lock is not None).isoformat()
        await record_event(
            tx, action=action, actor_id=actor_id, actor=actor, outcome="failure", details=details
        )
    raise NotAuthenticatedError(message)
