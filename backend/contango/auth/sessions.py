"""Login sessions and their rotating refresh tokens.

A session (``AuthSession``) is what access tokens name in their ``sid`` claim; revoking it ends
every token of that login at once. A refresh token is 256 random bits shown to the client once
and stored only as its SHA-256 (a fast hash is right here: the token has full entropy, there is
nothing to guess). Each refresh token is used once and replaced; presenting a used one means two
parties hold the same token, so the whole session is revoked (RFC 6819 section 5.2.2.3).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contango.auth.tokens import TokenService
from contango.db.models import AuthSession, RefreshToken, User


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """What a successful login or refresh hands to the client."""

    session_id: uuid.UUID
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


class RefreshOutcome(Enum):
    """Why a refresh token was refused (or ``ROTATED`` when it was not)."""

    ROTATED = "rotated"
    UNKNOWN = "unknown"
    REUSED = "reused"
    SESSION_ENDED = "session_ended"
    CSRF = "csrf"


@dataclass(frozen=True, slots=True)
class Refresh:
    """The result of presenting a refresh token."""

    outcome: RefreshOutcome
    session: AuthSession | None = None
    tokens: IssuedTokens | None = None


def csrf_token(secret: bytes, session_id: uuid.UUID | str) -> str:
    """The CSRF token bound to one session: HMAC-SHA256 of its id under the server secret."""
    return hmac.new(secret, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_matches(secret: bytes, session_id: uuid.UUID | str, presented: str | None) -> bool:
    """Whether ``presented`` is the CSRF token of ``session_id`` (constant-time)."""
    return hmac.compare_digest((presented or "").encode(), csrf_token(secret, session_id).encode())


def hash_refresh_token(token: str) -> str:
    """The stored form of a refresh token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def _new_refresh_token(
    session: AsyncSession, auth_session: AuthSession, now: datetime
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            session_id=auth_session.id,
            token_hash=hash_refresh_token(token),
            created_at=now,
            expires_at=auth_session.expires_at,
        )
    )
    await session.flush()
    return token


def _access(tokens: TokenService, user: User, auth_session: AuthSession, now: datetime) -> str:
    return tokens.issue_access(user_id=user.id, session_id=auth_session.id, role=user.role, now=now)


async def open_session(
    session: AsyncSession,
    tokens: TokenService,
    user: User,
    *,
    lifetime: timedelta,
    now: datetime,
    mfa_verified: bool,
    user_agent: str = "",
    client_ip: str = "",
) -> IssuedTokens:
    """Start a session for ``user`` and issue its first access and refresh tokens."""
    auth_session = AuthSession(
        user_id=user.id,
        created_at=now,
        expires_at=now + lifetime,
        authenticated_at=now,
        mfa_verified=mfa_verified,
        user_agent=user_agent[:300],
        client_ip=client_ip[:64],
    )
    session.add(auth_session)
    await session.flush()
    refresh = await _new_refresh_token(session, auth_session, now)
    return IssuedTokens(
        session_id=auth_session.id,
        access_token=_access(tokens, user, auth_session, now),
        access_expires_at=now + tokens.access_ttl,
        refresh_token=refresh,
        refresh_expires_at=auth_session.expires_at,
    )


async def rotate(
    session: AsyncSession,
    tokens: TokenService,
    presented: str,
    now: datetime,
    *,
    csrf_ok: Callable[[uuid.UUID], bool] = lambda _session_id: True,
) -> Refresh:
    """Exchange a refresh token for new tokens, or say why not (revoking on reuse).

    The token is marked used with a conditional UPDATE, so of two concurrent requests with the
    same token exactly one wins and the other is treated as reuse.
    """
    stored = (
        await session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(presented))
        )
    ).scalar_one_or_none()
    auth_session = await session.get(AuthSession, stored.session_id) if stored else None
    if stored is None or auth_session is None:
        return Refresh(RefreshOutcome.UNKNOWN)
    if auth_session.revoked_at is not None or auth_session.expires_at <= now:
        return Refresh(RefreshOutcome.SESSION_ENDED, session=auth_session)
    if not csrf_ok(auth_session.id):  # checked before the token is spent
        return Refresh(RefreshOutcome.CSRF, session=auth_session)
    claimed = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == stored.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await revoke_session(session, auth_session.id, now)
        return Refresh(RefreshOutcome.REUSED, session=auth_session)
    user = await session.get(User, auth_session.user_id)
    if stored.expires_at <= now or user is None or not user.is_active:
        return Refresh(RefreshOutcome.SESSION_ENDED, session=auth_session)
    refresh = await _new_refresh_token(session, auth_session, now)
    issued = IssuedTokens(
        session_id=auth_session.id,
        access_token=_access(tokens, user, auth_session, now),
        access_expires_at=now + tokens.access_ttl,
        refresh_token=refresh,
        refresh_expires_at=auth_session.expires_at,
    )
    return Refresh(RefreshOutcome.ROTATED, session=auth_session, tokens=issued)


async def revoke_session(session: AsyncSession, session_id: uuid.UUID, now: datetime) -> None:
    """End one session (logout)."""
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_user_sessions(
    session: AsyncSession,
    user_id: uuid.UUID,
    now: datetime,
    *,
    keep: uuid.UUID | None = None,
) -> int:
    """End every live session of ``user_id`` except ``keep``; how many were ended."""
    statement = update(AuthSession).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if keep is not None:
        statement = statement.where(AuthSession.id != keep)
    result = await session.execute(statement.values(revoked_at=now))
    return int(result.rowcount)  # type: ignore[attr-defined]
