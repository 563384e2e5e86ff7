"""Step-up identity: re-authentication, password change, TOTP enrolment and one-time codes.

Changing the second factor needs a recent proof of identity (``AuthSession.authenticated_at``
within :data:`REAUTH_WINDOW`, set by login or ``/auth/reauth``): a session token stolen from a
browser must not be enough to replace the victim's authenticator with the thief's. A TOTP
code is accepted once: the step of the last accepted code is stored and moved with a conditional
UPDATE, so two requests racing with the same code cannot both pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contango.audit import record_event
from contango.auth import attempts, mfa, passwords, sessions
from contango.auth.attempts import Client
from contango.auth.rbac import Principal
from contango.db.models import AuthSession, RecoveryCode, User
from contango.db.session import Database
from contango.errors import (
    ConflictError,
    InvalidInputError,
    NotAuthenticatedError,
    PermissionDeniedError,
)

REAUTH_WINDOW = timedelta(minutes=5)


def _now() -> datetime:
    return datetime.now(UTC)


async def current_user(session: AsyncSession, caller: Principal) -> User:
    """The caller's user row."""
    user = await session.get(User, caller.user_id)
    if user is None:
        raise NotAuthenticatedError("the account no longer exists")
    return user


@dataclass(frozen=True, slots=True)
class Enrollment:
    """A pending TOTP secret, shown once to its owner."""

    secret: str
    otpauth_uri: str
    qr_svg_data_uri: str


async def accept_totp(
    secret_key: bytes, session: AsyncSession, user: User, code: str, now: datetime
) -> bool:
    """Whether ``code`` is a fresh TOTP code of ``user``; records its step so it works once."""
    if user.mfa_secret_encrypted is None:
        return False
    secret = mfa.decrypt_secret(secret_key, user.id, user.mfa_secret_encrypted)
    step = mfa.accept_code(secret, code, now, user.mfa_last_step)
    if step is None:
        return False
    # Conditional update: of two requests racing with the same code, only one moves the step.
    moved = await session.execute(
        update(User)
        .where(User.id == user.id)
        .where((User.mfa_last_step.is_(None)) | (User.mfa_last_step < step))
        .values(mfa_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    user.mfa_last_step = step
    return True


async def accept_recovery_code(
    secret_key: bytes, session: AsyncSession, user: User, code: str, now: datetime
) -> bool:
    """Whether ``code`` is an unused recovery code of ``user``; it is spent if so."""
    # Look first, write only on a match: a wrong guess must leave this transaction read-only,
    # so that the failure can be recorded in a separate one (SQLite allows one writer).
    found = await session.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == mfa.hash_recovery_code(secret_key, code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if found is None:
        return False
    used = await session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == found, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(used.rowcount == 1)  # type: ignore[attr-defined]


async def require_recent_authentication(session: AsyncSession, caller: Principal) -> None:
    live = await session.get(AuthSession, caller.session_id) if caller.session_id else None
    if live is None or live.authenticated_at < _now() - REAUTH_WINDOW:
        raise PermissionDeniedError(
            "confirm your password first (POST /api/v1/auth/reauth), then retry within 5 minutes",
            extra={"reauthentication_required": True},
        )


async def enroll_mfa(secret_key: bytes, session: AsyncSession, caller: Principal) -> Enrollment:
    """Start TOTP enrolment: a new secret, stored encrypted, enabled once a code confirms it."""
    await require_recent_authentication(session, caller)
    user = await current_user(session, caller)
    if user.mfa_enabled:
        raise ConflictError("MFA is already enabled; disable it first to enrol a new device")
    if user.password_hash is None:
        raise ConflictError("accounts that sign in through single sign-on use the provider's MFA")
    secret = mfa.new_secret()
    user.mfa_secret_encrypted = mfa.encrypt_secret(secret_key, user.id, secret)
    user.mfa_last_step = None
    await record_event(session, action="auth.mfa.enroll", actor_id=user.id, actor=user.email)
    uri = mfa.provisioning_uri(secret, user.email)
    return Enrollment(secret=secret, otpauth_uri=uri, qr_svg_data_uri=mfa.qr_svg_data_uri(uri))


async def confirm_mfa(
    secret_key: bytes, session: AsyncSession, caller: Principal, *, code: str
) -> tuple[str, ...]:
    """Enable TOTP with a first valid code; the 10 recovery codes, shown this once."""
    user = await current_user(session, caller)
    if user.mfa_enabled or user.mfa_secret_encrypted is None:
        raise ConflictError("there is no pending MFA enrolment; start one at /auth/mfa/enroll")
    if not await accept_totp(secret_key, session, user, code, _now()):
        raise InvalidInputError("the code does not match the new secret; check the device clock")
    user.mfa_enabled = True
    codes = mfa.new_recovery_codes(secret_key)
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.add_all(RecoveryCode(user_id=user.id, code_hash=digest) for digest in codes.hashes)
    await record_event(session, action="auth.mfa.enable", actor_id=user.id, actor=user.email)
    return codes.plain


async def clear_mfa(session: AsyncSession, user: User) -> None:
    """Remove a user's TOTP secret and recovery codes."""
    user.mfa_enabled = False
    user.mfa_secret_encrypted = None
    user.mfa_last_step = None
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


async def disable_mfa(session: AsyncSession, caller: Principal) -> None:
    """Turn TOTP off for the caller (after a recent re-authentication)."""
    await require_recent_authentication(session, caller)
    user = await current_user(session, caller)
    if not user.mfa_enabled:
        raise ConflictError("MFA is not enabled")
    await clear_mfa(session, user)
    await record_event(session, action="auth.mfa.disable", actor_id=user.id, actor=user.email)


async def reauthenticate(
    database: Database,
    secret_key: bytes,
    session: AsyncSession,
    caller: Principal,
    *,
    password: str,
    code: str | None,
    client: Client,
) -> None:
    """Prove again who the caller is (password, and TOTP if enrolled) before sensitive changes."""
    now, user = _now(), await current_user(session, caller)
    if user.password_hash is None:
        raise ConflictError("this account signs in through single sign-on and has no password")
    keys = attempts.password_keys(user.email, client)
    await attempts.check_unlocked(database, keys, action="auth.reauth", actor=user.email, now=now)
    ok = passwords.verify_password(user.password_hash, password).ok
    if ok and user.mfa_enabled:
        ok = await accept_totp(secret_key, session, user, code or "", now)
    if not ok:
        await attempts.refuse(
            database,
            action="auth.reauth",
            actor=user.email,
            actor_id=user.id,
            keys=keys,
            reason="bad_credentials",
            message="the password or code is wrong",
            now=now,
        )
    await session.execute(
        update(AuthSession).where(AuthSession.id == caller.session_id).values(authenticated_at=now)
    )
    await record_event(session, action="auth.reauth", actor_id=user.id, actor=user.email)


async def change_password(
    database: Database,
    session: AsyncSession,
    caller: Principal,
    *,
    current: str,
    new: str,
    client: Client,
) -> None:
    """Replace the caller's password; every other session of theirs is ended."""
    now, user = _now(), await current_user(session, caller)
    if user.password_hash is None:
        raise ConflictError("this account signs in through single sign-on and has no password")
    keys = attempts.password_keys(user.email, client)
    await attempts.check_unlocked(database, keys, action="auth.password", actor=user.email, now=now)
    if not passwords.verify_password(user.password_hash, current).ok:
        await attempts.refuse(
            database,
            action="auth.password",
            actor=user.email,
            actor_id=user.id,
            keys=keys,
            reason="bad_credentials",
            message="the current password is wrong",
            now=now,
        )
    try:
        passwords.check_policy(new, user.email)
    except passwords.PasswordPolicyError as error:
        raise InvalidInputError(str(error)) from error
    if new == current:
        raise InvalidInputError("the new password must differ from the current one")
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = now
    ended = await sessions.revoke_user_sessions(session, user.id, now, keep=caller.session_id)
    await record_event(
        session,
        action="auth.password",
        actor_id=user.id,
        actor=user.email,
        details={"other_sessions_revoked": ended},
    )
