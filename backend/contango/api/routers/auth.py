"""Signing in and out, the TOTP second factor, refresh, re-authentication and single sign-on.

Integrators ask for ``"delivery": "bearer"`` (the default) and get tokens in the JSON body; the
web app asks for ``"delivery": "cookie"`` and gets httpOnly cookies instead, with no token in
the body at all (a script in the page can never read them).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from contango.api.deps import Context, Session
from contango.api.security import (
    CSRF_HEADER,
    REFRESH_COOKIE,
    Caller,
    clear_session_cookies,
    set_session_cookies,
)
from contango.auth import enrolment
from contango.auth.attempts import Client
from contango.auth.rbac import PERMISSIONS, Role
from contango.auth.sessions import IssuedTokens
from contango.auth.tokens import TokenError
from contango.errors import NotAuthenticatedError
from contango.services import accounts
from contango.services.context import ServiceContext

router = APIRouter(prefix="/auth", tags=["auth"])

OIDC_COOKIE = "contango_oidc"
OIDC_COOKIE_PATH = "/api/v1/auth/oidc"
OIDC_PURPOSE = "oidc-login"
OIDC_FLOW_TTL = timedelta(minutes=10)

Delivery = Literal["bearer", "cookie"]
DELIVERY_HELP = "`bearer`: tokens in the body (integrators); `cookie`: httpOnly cookies (web app)."


class LoginRequest(BaseModel):
    """Email and password of a local account."""

    email: str = Field(max_length=320, description="The account's email.", examples=["a@b.com"])
    password: str = Field(max_length=1024, description="The account's password.")
    delivery: Delivery = Field(default="bearer", description=DELIVERY_HELP)


class MfaVerifyRequest(BaseModel):
    """The second step of a login: a TOTP code or one recovery code."""

    mfa_token: str = Field(max_length=4096, description="The `mfa_token` the login answered.")
    code: str | None = Field(default=None, max_length=16, description="6-digit TOTP code.")
    recovery_code: str | None = Field(
        default=None, max_length=32, description="One unused recovery code (instead of `code`)."
    )
    delivery: Delivery = Field(default="bearer", description=DELIVERY_HELP)


class RefreshRequest(BaseModel):
    """A refresh token; omit it to use the refresh cookie (then send `X-CSRF-Token`)."""

    refresh_token: str | None = Field(default=None, max_length=512, description="Refresh token.")


class ReauthRequest(BaseModel):
    """Proof of identity before changing MFA."""

    password: str = Field(max_length=1024, description="The account's password.")
    code: str | None = Field(default=None, max_length=16, description="TOTP code, if enrolled.")


class MfaConfirmRequest(BaseModel):
    """A code from the newly enrolled authenticator."""

    code: str = Field(max_length=16, description="6-digit TOTP code.")


class PasswordChangeRequest(BaseModel):
    """The current password and its replacement."""

    current_password: str = Field(max_length=1024, description="The password in use now.")
    new_password: str = Field(
        max_length=1024, description="At least 12 characters, not containing the email."
    )


class TokenResponse(BaseModel):
    """Tokens of a new or refreshed session (bearer delivery)."""

    delivery: Literal["bearer"] = "bearer"
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105  (the OAuth token type, not a secret)
    access_token: str = Field(description="Send as `Authorization: Bearer ...`.")
    expires_in: int = Field(description="Seconds the access token is valid (at most 900).")
    refresh_token: str = Field(description="Use once at /auth/refresh; a new one comes back.")
    refresh_expires_in: int = Field(description="Seconds until the session ends.")


class CookieSessionResponse(BaseModel):
    """A session delivered in cookies; the body carries no token."""

    delivery: Literal["cookie"] = "cookie"
    expires_in: int = Field(description="Seconds the access cookie is valid.")
    refresh_expires_in: int = Field(description="Seconds until the session ends.")


class MfaChallenge(BaseModel):
    """The password was right; a second factor is needed at /auth/mfa/verify."""

    mfa_required: Literal[True] = True
    mfa_token: str = Field(description="Pass to /auth/mfa/verify within 5 minutes.")
    expires_in: int = Field(description="Seconds the MFA step stays open.")


class MeResponse(BaseModel):
    """Who the caller is and what they may do."""

    id: str
    email: str
    display_name: str
    role: Role
    team_id: str | None
    permissions: list[str] = Field(description="Every permission the role grants, sorted.")
    mfa_enabled: bool
    sso: bool = Field(description="Whether the account is linked to the identity provider.")


class EnrollmentResponse(BaseModel):
    """A pending TOTP secret; shown once, enabled by /auth/mfa/confirm."""

    secret: str = Field(description="Base32 secret, for manual entry.")
    otpauth_uri: str = Field(description="The `otpauth://totp/...` URI.")
    qr_svg_data_uri: str = Field(description="The URI as a QR code (`data:image/svg+xml`).")


class RecoveryCodesResponse(BaseModel):
    """One-time recovery codes, shown only now."""

    recovery_codes: list[str] = Field(description="Each works once instead of a TOTP code.")


class OidcConfigResponse(BaseModel):
    """Whether single sign-on is available, for the web app's login page."""

    enabled: bool
    login_url: str | None = Field(description="Where to send the browser to sign in.")


def _client(request: Request) -> Client:
    address = request.client.host if request.client else "unknown"
    return Client(address=address, user_agent=request.headers.get("user-agent", ""))


def _seconds(until: datetime) -> int:
    return max(0, int((until - datetime.now(UTC)).total_seconds()))


def _deliver(
    issued: IssuedTokens, delivery: Delivery, response: Response, context: ServiceContext
) -> TokenResponse | CookieSessionResponse:
    if delivery == "cookie":
        set_session_cookies(response, issued, context.settings, context.secret)
        return CookieSessionResponse(
            expires_in=_seconds(issued.access_expires_at),
            refresh_expires_in=_seconds(issued.refresh_expires_at),
        )
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=_seconds(issued.access_expires_at),
        refresh_token=issued.refresh_token,
        refresh_expires_in=_seconds(issued.refresh_expires_at),
    )


@router.post("/login", summary="Log in with email and password")
async def login(
    body: LoginRequest, request: Request, response: Response, context: Context, session: Session
) -> TokenResponse | CookieSessionResponse | MfaChallenge:
    """Open a session, or answer an MFA challenge when the account has TOTP enabled.

    Five wrong passwords in 15 minutes lock the account for 15 minutes (429 with Retry-After).
    """
    result = await accounts.login(
        context, session, email=body.email, password=body.password, client=_client(request)
    )
    if result.mfa_token is not None:
        expires = int(accounts.MFA_TOKEN_TTL.total_seconds())
        return MfaChallenge(mfa_token=result.mfa_token, expires_in=expires)
    assert result.tokens is not None
    return _deliver(result.tokens, body.delivery, response, context)


@router.post("/mfa/verify", summary="Finish a login with a TOTP or recovery code")
async def verify_mfa(
    body: MfaVerifyRequest,
    request: Request,
    response: Response,
    context: Context,
    session: Session,
) -> TokenResponse | CookieSessionResponse:
    """Each TOTP code and each recovery code works once."""
    issued = await accounts.verify_mfa(
        context,
        session,
        mfa_token=body.mfa_token,
        code=body.code,
        recovery_code=body.recovery_code,
        client=_client(request),
    )
    return _deliver(issued, body.delivery, response, context)


@router.post("/refresh", summary="Rotate the refresh token")
async def refresh(
    request: Request,
    response: Response,
    context: Context,
    body: Annotated[RefreshRequest | None, Body()] = None,
) -> TokenResponse | CookieSessionResponse:
    """A used refresh token presented again revokes its whole session."""
    presented = body.refresh_token if body is not None else None
    from_cookie = presented is None
    token = request.cookies.get(REFRESH_COOKIE) if from_cookie else presented
    if not token:
        raise NotAuthenticatedError("send a refresh token in the body or the refresh cookie")
    csrf = request.headers.get(CSRF_HEADER, "") if from_cookie else None
    issued = await accounts.refresh(context, refresh_token=token, csrf=csrf)
    return _deliver(issued, "cookie" if from_cookie else "bearer", response, context)


@router.post("/logout", status_code=204, summary="End this session")
async def logout(caller: Caller, context: Context, session: Session, response: Response) -> None:
    """Revokes the session server-side: its access and refresh tokens stop working now."""
    user = await enrolment.current_user(session, caller)
    await accounts.logout(session, caller, user.email)
    clear_session_cookies(response, context.settings)


@router.get("/me", summary="Who am I")
async def me(caller: Caller, session: Session) -> MeResponse:
    """The caller's account, role and permissions."""
    user = await enrolment.current_user(session, caller)
    return MeResponse(
        id=str(user.id),
        email=user.email,
        display_name=user.display_name,
        role=caller.role,
        team_id=str(user.team_id) if user.team_id else None,
        permissions=sorted(p.value for p in PERMISSIONS[caller.role]),
        mfa_enabled=user.mfa_enabled,
        sso=user.oidc_subject is not None,
    )


@router.post("/reauth", status_code=204, summary="Confirm identity before sensitive changes")
async def reauth(
    body: ReauthRequest, request: Request, caller: Caller, context: Context, session: Session
) -> None:
    """Password (and TOTP code if enrolled); MFA changes are allowed for 5 minutes after."""
    await enrolment.reauthenticate(
        context.database,
        context.secret,
        session,
        caller,
        password=body.password,
        code=body.code,
        client=_client(request),
    )


@router.post("/mfa/enroll", summary="Start TOTP enrolment")
async def enroll_mfa(caller: Caller, context: Context, session: Session) -> EnrollmentResponse:
    """Needs a login or /auth/reauth in the last 5 minutes."""
    started = await enrolment.enroll_mfa(context.secret, session, caller)
    return EnrollmentResponse(
        secret=started.secret,
        otpauth_uri=started.otpauth_uri,
        qr_svg_data_uri=started.qr_svg_data_uri,
    )


@router.post("/mfa/confirm", summary="Enable TOTP with a first code")
async def confirm_mfa(
    body: MfaConfirmRequest, caller: Caller, context: Context, session: Session
) -> RecoveryCodesResponse:
    """Returns 10 recovery codes; store them, they are not shown again."""
    codes = await enrolment.confirm_mfa(context.secret, session, caller, code=body.code)
    return RecoveryCodesResponse(recovery_codes=list(codes))


@router.post("/mfa/disable", status_code=204, summary="Turn TOTP off")
async def disable_mfa(caller: Caller, session: Session) -> None:
    """Needs a login or /auth/reauth in the last 5 minutes."""
    await enrolment.disable_mfa(session, caller)


@router.post("/password", status_code=204, summary="Change my password")
async def change_password(
    body: PasswordChangeRequest,
    request: Request,
    caller: Caller,
    context: Context,
    session: Session,
) -> None:
    """Every other session of the account is ended."""
    await enrolment.change_password(
        context.database,
        session,
        caller,
        current=body.current_password,
        new=body.new_password,
        client=_client(request),
    )


@router.get("/oidc/config", summary="Is single sign-on available")
async def oidc_config(context: Context) -> OidcConfigResponse:
    """The web app shows a "Sign in with SSO" button when ``enabled``."""
    enabled = context.settings.oidc_issuer is not None and context.settings.oidc_client_id
    return OidcConfigResponse(
        enabled=bool(enabled), login_url="/api/v1/auth/oidc/login" if enabled else None
    )


@router.get("/oidc/login", status_code=302, summary="Sign in through the identity provider")
async def oidc_login(context: Context) -> RedirectResponse:
    """Redirects to the provider (state, nonce and PKCE S256); it comes back to the callback."""
    started = await accounts.start_sso(context)
    flow = context.tokens.issue_purpose(
        OIDC_PURPOSE,
        "oidc",
        ttl=OIDC_FLOW_TTL,
        extra={"state": started.state, "nonce": started.nonce, "verifier": started.code_verifier},
    )
    redirect = RedirectResponse(started.url, status_code=302)
    # Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
    redirect.set_cookie(
        OIDC_COOKIE,
        flow,
        max_age=int(OIDC_FLOW_TTL.total_seconds()),
        path=OIDC_COOKIE_PATH,
        httponly=True,
        secure=context.settings.cookie_secure,
        samesite="lax",
    )
    return redirect


@router.get("/oidc/callback", status_code=302, summary="Return from the identity provider")
async def oidc_callback(
    request: Request,
    context: Context,
    session: Session,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> RedirectResponse:
    """Validates the answer and the ID token, signs the user in (cookies), redirects to ``/``."""
    if error is not None:
        raise NotAuthenticatedError(f"the identity provider refused the sign-in: {error}")
    try:
        flow = context.tokens.verify_purpose(request.cookies.get(OIDC_COOKIE, ""), OIDC_PURPOSE)
    except TokenError as failure:
        raise NotAuthenticatedError("the sign-in has expired; start again") from failure
    if not code or not state or not secrets.compare_digest(state, str(flow.get("state", ""))):
        raise NotAuthenticatedError("the sign-in answer does not match this browser's request")
    issued = await accounts.finish_sso(
        context,
        session,
        code=code,
        nonce=str(flow["nonce"]),
        code_verifier=str(flow["verifier"]),
        client=_client(request),
    )
    redirect = RedirectResponse("/", status_code=302)
    set_session_cookies(redirect, issued, context.settings, context.secret)
    redirect.delete_cookie(OIDC_COOKIE, path=OIDC_COOKIE_PATH)
    return redirect
