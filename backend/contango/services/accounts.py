"""Signing in and out: password login, the TOTP step, refresh, re-authentication, SSO, MFA setup.

Every authentication event is written to the audit log. Successes go in the caller's transaction
(with the session they create); failures are counted against the throttle and audited in a
transaction of their own, committed before the error is raised, so that a 401 or 429 does not
roll back the evidence of the attempt. Answers to a wrong email and to a wrong password are the
same words, and both verify an Argon2 hash, so neither content nor timing tells whether an
address has an account.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contango.audit import record_event
from contango.auth import attempts, enrolment, oidc, passwords, sessions, throttle
from contango.auth.attempts import Client
from contango.auth.oidc import Identity
from contango.auth.rbac import Principal, Role
from contango.auth.sessions import IssuedTokens, RefreshOutcome
from contango.auth.tokens import TokenError
from contango.db.models import User
from contango.errors import (
    ConflictError,
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
)
from contango.services.context import ServiceContext

MFA_PURPOSE = "login-mfa"
MFA_TOKEN_TTL = timedelta(minutes=5)
WRONG_CREDENTIALS = "the email or password is wrong"
WRONG_MFA = "the code is wrong, expired or already used"


class SsoUnavailableError(UnavailableError):
    """The identity provider cannot be reached or described itself wrongly."""

    title = "Single sign-on unavailable"
    slug = "sso-unavailable"


@dataclass(frozen=True, slots=True)
class LoginResult:
    """Either tokens of a new session, or an MFA challenge to answer at ``/auth/mfa/verify``."""

    tokens: IssuedTokens | None = None
    mfa_token: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def normalize_email(email: str) -> str:
    """Emails are compared and stored lower-cased and stripped."""
    return email.strip().lower()


async def _user_by_email(session: AsyncSession, email: str) -> User | None:
    found = await session.execute(select(User).where(User.email == normalize_email(email)))
    return found.scalar_one_or_none()


def _lifetime(context: ServiceContext) -> timedelta:
    return timedelta(days=context.settings.refresh_token_days)


async def _open(
    context: ServiceContext,
    session: AsyncSession,
    user: User,
    client: Client,
    *,
    action: str,
    method: str,
    mfa_verified: bool,
    now: datetime,
) -> IssuedTokens:
    issued = await sessions.open_session(
        session,
        context.tokens,
        user,
        lifetime=_lifetime(context),
        now=now,
        mfa_verified=mfa_verified,
        user_agent=client.user_agent,
        client_ip=client.address,
    )
    user.last_login_at = now
    await record_event(
        session,
        action=action,
        actor_id=user.id,
        actor=user.email,
        target=f"user:{user.id}",
        details={"method": method, "session_id": str(issued.session_id)},
    )
    return issued


async def login(
    context: ServiceContext, session: AsyncSession, *, email: str, password: str, client: Client
) -> LoginResult:
    """Check a password; open a session, or hand out an MFA challenge if TOTP is enabled."""
    now, address = _now(), normalize_email(email)
    keys = attempts.password_keys(address, client)
    await attempts.check_unlocked(
        context.database, keys, action="auth.login", actor=address, now=now
    )
    user = await _user_by_email(session, address)
    checked = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not checked.ok or not user.is_active:
        await attempts.refuse(
            context.database,
            action="auth.login",
            actor=address,
            actor_id=user.id if user else None,
            keys=keys,
            reason="inactive" if user is not None and checked.ok else "bad_credentials",
            message=WRONG_CREDENTIALS,
            now=now,
        )
    if checked.new_hash is not None:
        user.password_hash = checked.new_hash
    await throttle.clear(session, keys[0][0])
    if user.mfa_enabled:
        token = context.tokens.issue_purpose(MFA_PURPOSE, str(user.id), ttl=MFA_TOKEN_TTL, now=now)
        await record_event(
            session,
            action="auth.login",
            actor_id=user.id,
            actor=user.email,
            target=f"user:{user.id}",
            details={"method": "password", "mfa_required": True},
        )
        return LoginResult(mfa_token=token)
    tokens = await _open(
        context,
        session,
        user,
        client,
        action="auth.login",
        method="password",
        mfa_verified=False,
        now=now,
    )
    return LoginResult(tokens=tokens)


async def verify_mfa(
    context: ServiceContext,
    session: AsyncSession,
    *,
    mfa_token: str,
    code: str | None,
    recovery_code: str | None,
    client: Client,
) -> IssuedTokens:
    """Finish a login with a TOTP code or a recovery code; opens the session."""
    now = _now()
    try:
        claims = context.tokens.verify_purpose(mfa_token, MFA_PURPOSE, now=now)
        user_id = uuid.UUID(str(claims["sub"]))
    except (TokenError, ValueError) as error:
        raise NotAuthenticatedError(
            "the MFA step has expired or is invalid; log in again"
        ) from error
    keys = attempts.mfa_keys(user_id, client)
    await attempts.check_unlocked(
        context.database, keys, action="auth.mfa", actor=str(user_id), now=now
    )
    user = await session.get(User, user_id)
    if user is None or not user.is_active or not user.mfa_enabled:
        raise NotAuthenticatedError("the MFA step has expired or is invalid; log in again")
    if recovery_code:
        ok, method = (
            await enrolment.accept_recovery_code(context.secret, session, user, recovery_code, now),
            "recovery_code",
        )
    else:
        ok, method = (
            await enrolment.accept_totp(context.secret, session, user, code or "", now),
            "totp",
        )
    if not ok:
        await attempts.refuse(
            context.database,
            action="auth.mfa",
            actor=user.email,
            actor_id=user.id,
            keys=keys,
            reason=f"bad_{method}",
            message=WRONG_MFA,
            now=now,
        )
    await throttle.clear(session, keys[0][0])
    return await _open(
        context, session, user, client, action="auth.mfa", method=method, mfa_verified=True, now=now
    )


async def refresh(context: ServiceContext, *, refresh_token: str, csrf: str | None) -> IssuedTokens:
    """Rotate a refresh token. ``csrf``: the header sent when the token came from a cookie.

    Runs in a transaction of its own, committed whatever the outcome: a token presented twice
    revokes its session, and that revocation (and its audit entry) must outlast the 401.
    """
    now = _now()

    def csrf_ok(session_id: uuid.UUID) -> bool:
        return csrf is None or sessions.csrf_matches(context.secret, session_id, csrf)

    async with context.database.transaction() as tx:
        result = await sessions.rotate(tx, context.tokens, refresh_token, now, csrf_ok=csrf_ok)
        if result.session is not None and result.outcome in (
            RefreshOutcome.ROTATED,
            RefreshOutcome.REUSED,
        ):
            # New tokens, and a used token presented again, are authentication events: audited
            # with the rotation or the revocation they record.
            rotated = result.outcome is RefreshOutcome.ROTATED
            user_id = result.session.user_id
            owner = await tx.get(User, user_id)
            details = {"session_id": str(result.session.id)}
            await record_event(
                tx,
                action="auth.refresh",
                actor_id=user_id,
                actor=owner.email if owner else str(user_id),
                target=f"user:{user_id}" if rotated else None,
                outcome="success" if rotated else "failure",
                details=details if rotated else {"reason": "refresh_token_reuse", **details},
            )
    if result.outcome is RefreshOutcome.ROTATED and result.tokens is not None:
        return result.tokens
    if result.outcome is RefreshOutcome.CSRF:
        raise PermissionDeniedError("missing or wrong X-CSRF-Token header for a cookie session")
    if result.outcome is RefreshOutcome.REUSED:
        raise NotAuthenticatedError("this refresh token was already used; the session is revoked")
    raise NotAuthenticatedError("the refresh token is unknown, expired or its session has ended")


async def logout(session: AsyncSession, caller: Principal, actor: str) -> None:
    """End the caller's session: every access and refresh token of it stops working at once."""
    if caller.session_id is not None:
        await sessions.revoke_session(session, caller.session_id, _now())
    await record_event(
        session,
        action="auth.logout",
        actor_id=caller.user_id,
        actor=actor,
        target=f"user:{caller.user_id}",
        details={"session_id": str(caller.session_id)},
    )


def sso_config(context: ServiceContext) -> oidc.OidcConfig:
    """The OIDC configuration; :class:`NotFoundError` when single sign-on is off."""
    config = oidc.config_from(context.settings)
    if config is None:
        raise NotFoundError("single sign-on is not configured (set CONTANGO_OIDC_ISSUER)")
    return config


async def start_sso(context: ServiceContext) -> oidc.LoginStart:
    """Where to send the browser to sign in at the provider."""
    config = sso_config(context)
    async with httpx.AsyncClient(timeout=oidc.HTTP_TIMEOUT_SECONDS) as http:
        try:
            return await oidc.start(config, http)
        except oidc.OidcError as error:
            raise SsoUnavailableError(f"single sign-on is unavailable: {error}") from error


async def finish_sso(
    context: ServiceContext,
    session: AsyncSession,
    *,
    code: str,
    nonce: str,
    code_verifier: str,
    client: Client,
) -> IssuedTokens:
    """Redeem the provider's code, validate its ID token, and sign the person in."""
    config = sso_config(context)
    async with httpx.AsyncClient(timeout=oidc.HTTP_TIMEOUT_SECONDS) as http:
        try:
            identity = await oidc.finish(
                config, http, code=code, nonce=nonce, code_verifier=code_verifier
            )
        except oidc.OidcError as error:
            async with context.database.transaction() as tx:
                await record_event(
                    tx,
                    action="auth.sso",
                    actor_id=None,
                    actor="unknown",
                    outcome="failure",
                    details={"reason": str(error)[:500]},
                )
            raise NotAuthenticatedError(f"single sign-on failed: {error}") from error
    return await sso_login(context, session, identity, client)


async def sso_login(
    context: ServiceContext, session: AsyncSession, identity: Identity, client: Client
) -> IssuedTokens:
    """Sign in the person the provider vouched for: linked user, user of that verified email
    (linked now), or a new user with the default SSO role and no password."""
    now = _now()
    user = (
        await session.execute(
            select(User).where(
                User.oidc_issuer == identity.issuer, User.oidc_subject == identity.subject
            )
        )
    ).scalar_one_or_none()
    if user is None and identity.email and identity.email_verified:
        user = await _user_by_email(session, identity.email)
        if user is not None and user.oidc_subject is not None:
            raise ConflictError("this email is linked to another single sign-on identity")
    if user is None:
        user = await _create_sso_user(context, session, identity)
    elif user.oidc_subject is None:
        user.oidc_issuer, user.oidc_subject = identity.issuer, identity.subject
    if not user.is_active:
        async with context.database.transaction() as tx:
            await record_event(
                tx,
                action="auth.sso",
                actor_id=user.id,
                actor=user.email,
                outcome="denied",
                details={"reason": "inactive"},
            )
        raise NotAuthenticatedError("the account is disabled")
    return await _open(
        context,
        session,
        user,
        client,
        action="auth.sso",
        method="oidc",
        mfa_verified=False,
        now=now,
    )


async def _create_sso_user(
    context: ServiceContext, session: AsyncSession, identity: Identity
) -> User:
    if not identity.email:
        raise InvalidInputError("the identity provider did not share an email address")
    role = Role(context.settings.oidc_default_role)
    user = User(
        email=identity.email,
        display_name=identity.name or identity.email,
        role=role.value,
        oidc_issuer=identity.issuer,
        oidc_subject=identity.subject,
        password_hash=None,
    )
    session.add(user)
    await session.flush()
    await record_event(
        session,
        action="user.create",
        actor_id=user.id,
        actor=user.email,
        target=f"user:{user.id}",
        details={"via": "oidc", "role": role.value, "issuer": identity.issuer},
    )
    return user


DEFAULT_ADMIN_EMAIL = "admin@contango.local"


async def ensure_admin(
    context: ServiceContext, email: str = DEFAULT_ADMIN_EMAIL
) -> tuple[str, str | None]:
    """Create the first admin on a fresh database; ``(email, password)`` to print once.

    Returns ``(email of an existing admin, None)`` when there is one already, so that restarts
    never reset anyone's password.
    """
    async with context.database.transaction() as session:
        existing = await session.scalar(
            select(User.email).where(User.role == Role.ADMIN.value).order_by(User.created_at)
        )
        if existing is not None:
            return existing, None
        password = secrets.token_urlsafe(18)  # 144 bits, 24 characters
        user = User(
            email=normalize_email(email),
            display_name="Administrator",
            role=Role.ADMIN.value,
            password_hash=passwords.hash_password(password),
            password_changed_at=_now(),
        )
        session.add(user)
        await session.flush()
        await record_event(
            session,
            action="user.create",
            actor_id=None,
            actor="system",
            target=f"user:{user.id}",
            details={"email": user.email, "role": Role.ADMIN.value, "via": "first_start"},
        )
        return user.email, password
