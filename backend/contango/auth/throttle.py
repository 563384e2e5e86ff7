"""Failed-attempt counting and lockout, kept in the database so every API process agrees.

Each key (an account, or a client address) counts failures in a window that starts at its first
failure; reaching the limit inside the window locks the key until ``locked_until``. A locked key
refuses even a correct password, so guessing cannot continue at a slower pace behind the lock.
Addresses get a higher limit than accounts: many honest users can share one office address.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contango.db.models import LoginThrottle


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``failures`` failures within ``window``; then locked for ``lockout``."""

    failures: int
    window: timedelta
    lockout: timedelta


ACCOUNT_LIMIT = Limit(failures=5, window=timedelta(minutes=15), lockout=timedelta(minutes=15))
ADDRESS_LIMIT = Limit(failures=20, window=timedelta(minutes=15), lockout=timedelta(minutes=15))


def account_key(kind: str, account: str) -> str:
    """The throttle key of one account for one kind of attempt (``login``, ``mfa``)."""
    return f"{kind}:account:{account.strip().lower()}"[:400]


def address_key(address: str) -> str:
    """The throttle key of one client address (shared by every kind of attempt)."""
    return f"auth:address:{address}"[:400]


def retry_after(locked_until: datetime, now: datetime) -> int:
    """Whole seconds until ``locked_until`` (at least 1, for the ``Retry-After`` header)."""
    return max(1, math.ceil((locked_until - now).total_seconds()))


async def locked_until(session: AsyncSession, keys: list[str], now: datetime) -> datetime | None:
    """The latest lock still in force over ``keys``, or ``None`` when none of them is locked."""
    rows = await session.execute(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now
        )
    )
    found = [value for value in rows.scalars() if value is not None]
    return max(found) if found else None


async def _row_for_update(session: AsyncSession, key: str, now: datetime) -> LoginThrottle:
    # Insert-if-absent then lock the row: two processes failing at once both count.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(
        insert(LoginThrottle)
        .values(key=key, failures=0, window_started_at=now, locked_until=None)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = await session.execute(
        select(LoginThrottle)
        .where(LoginThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return row.scalar_one()


async def record_failure(
    session: AsyncSession, key: str, limit: Limit, now: datetime
) -> datetime | None:
    """Count one failure against ``key``; the lock's end if this failure reached the limit."""
    row = await _row_for_update(session, key, now)
    if row.window_started_at + limit.window <= now:
        row.failures = 0
        row.window_started_at = now
    row.failures += 1
    if row.failures >= limit.failures:
        row.locked_until = now + limit.lockout
        row.failures = 0
        row.window_started_at = now
        return row.locked_until
    return None


async def clear(session: AsyncSession, key: str) -> None:
    """Forget the failures of ``key`` (after a successful attempt on that account).

    Called only after :func:`locked_until` found no lock, so no lock in force is lifted.
    """
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
