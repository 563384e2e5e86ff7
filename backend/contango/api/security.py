"""Who is calling, and may they: the authentication and permission dependencies.

Integrators send ``Authorization: Bearer <access token>``. The web app's tokens travel in
httpOnly cookies instead; since a browser sends cookies on its own, a state-changing request
authenticated by cookie must also carry ``X-CSRF-Token``, an HMAC of the session id under the
server secret (the web app reads it from the non-httpOnly ``contango_csrf`` cookie). A forged
cross-site request cannot read that cookie, and a planted cookie cannot match another session.

Every request looks its session up: logout and revocation take effect at once, not when the
access token expires, and the role comes from the user row, so a changed role applies at once.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from contango.api.deps import Context, Session
from contango.auth.rbac import Permission, Principal, Role
from contango.auth.sessions import IssuedTokens
from contango.auth.sessions import csrf_token as _session_csrf_token
from contango.auth.tokens import TokenError
from contango.db.models import AuthSession, User
from contango.errors import NotAuthenticatedError, PermissionDeniedError
from contango.settings import Settings

ACCESS_COOKIE = "contango_access"
REFRESH_COOKIE = "contango_refresh"
CSRF_COOKIE = "contango_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ACCESS_COOKIE_PATH = "/"
REFRESH_COOKIE_PATH = "/api/v1/auth"

bearer = HTTPBearer(auto_error=False, description="An access token from /api/v1/auth/login.")


def csrf_token(secret: bytes, session_id: str) -> str:
    """The CSRF token bound to one session."""
    return _session_csrf_token(secret, session_id)


def set_session_cookies(
    response: Response, issued: IssuedTokens, settings: Settings, secret: bytes
) -> None:
    """Hand a session to a browser: httpOnly token cookies and the readable CSRF cookie.

    SameSite=Strict keeps the browser from sending them on cross-site requests at all; the
    refresh token goes only to ``/api/v1/auth`` so ordinary API calls never carry it.
    """
    now = datetime.now(UTC)
    access_age = max(1, int((issued.access_expires_at - now).total_seconds()))
    session_age = max(1, int((issued.refresh_expires_at - now).total_seconds()))
    common: dict[str, Any] = {"secure": settings.cookie_secure, "samesite": "strict"}
    response.set_cookie(
        ACCESS_COOKIE,
        issued.access_token,
        max_age=access_age,
        path=ACCESS_COOKIE_PATH,
        httponly=True,
        **common,
    )
    response.set_cookie(
        REFRESH_COOKIE,
        issued.refresh_token,
        max_age=session_age,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        **common,
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf_token(secret, str(issued.session_id)),
        max_age=session_age,
        path=ACCESS_COOKIE_PATH,
        httponly=False,
        **common,
    )


def clear_session_cookies(response: Response, settings: Settings) -> None:
    """Remove the session cookies from the browser (logout, or a refused refresh)."""
    common: dict[str, Any] = {"secure": settings.cookie_secure, "samesite": "strict"}
    response.delete_cookie(ACCESS_COOKIE, path=ACCESS_COOKIE_PATH, httponly=True, **common)
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, httponly=True, **common)
    response.delete_cookie(CSRF_COOKIE, path=ACCESS_COOKIE_PATH, httponly=False, **common)


async def current_principal(
    request: Request,
    context: Context,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The verified caller; 401 for a missing, forged, expired or revoked token."""
    from_cookie = credentials is None
    token = request.cookies.get(ACCESS_COOKIE) if credentials is None else credentials.credentials
    if not token:
        raise NotAuthenticatedError("log in first: send a bearer token or the session cookie")
    try:
        claims = context.tokens.verify_access(token)
    except TokenError as error:
        raise NotAuthenticatedError(f"access token refused: {error}") from error
    live = await session.get(AuthSession, claims.session_id)
    now = datetime.now(UTC)
    if live is None or live.revoked_at is not None or live.expires_at <= now:
        raise NotAuthenticatedError("the session has ended; log in again")
    user = await session.get(User, claims.user_id)
    if user is None or not user.is_active or live.user_id != user.id:
        raise NotAuthenticatedError("the account is disabled")
    if from_cookie and request.method not in SAFE_METHODS:
        expected = csrf_token(context.secret, str(live.id))
        if not hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), expected):
            raise PermissionDeniedError(
                f"missing or wrong {CSRF_HEADER} header for a cookie session"
            )
    principal = Principal(
        user_id=user.id, team_id=user.team_id, role=Role(user.role), session_id=live.id
    )
    request.state.principal = principal
    return principal


Caller = Annotated[Principal, Depends(current_principal)]


def require(permission: Permission) -> Any:
    """A dependency that lets through only callers whose role grants ``permission``."""

    async def check(caller: Caller) -> Principal:
        if not caller.can(permission):
            raise PermissionDeniedError(f"the {caller.role.value} role may not {permission.value}")
        return caller

    check.__name__ = f"require_{permission.name.lower()}"
    return Depends(check)
