"""Single sign-on through an OpenID Connect provider: the authorization code flow with PKCE.

The flow has two legs. ``start`` builds the provider's authorization URL with a fresh ``state``
(binds the answer to this browser), ``nonce`` (binds the ID token to this login) and a PKCE
``code_verifier`` (S256: a stolen code is useless without it); the API keeps the three in a
signed, short-lived cookie. ``finish`` exchanges the code at the token endpoint (authenticated
with the client secret) and validates the ID token itself: signature by a key of the provider's
JWKS, issuer, audience (and ``azp`` when there are several audiences), expiry, issue time and
nonce. Nothing the browser brings back is trusted without that check.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc6749.errors import OAuth2Error
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from contango.settings import Settings

CALLBACK_PATH = "/api/v1/auth/oidc/callback"
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
LEEWAY_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10.0


class OidcError(Exception):
    """The provider could not be reached, or its answer failed validation; says which check."""


@dataclass(frozen=True, slots=True)
class OidcConfig:
    """How to reach the provider, from the settings."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    redirect_uri: str


def config_from(settings: Settings) -> OidcConfig | None:
    """The OIDC configuration, or ``None`` when single sign-on is not configured."""
    if not settings.oidc_issuer or not settings.oidc_client_id:
        return None
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else ""
    return OidcConfig(
        issuer=settings.oidc_issuer.rstrip("/"),
        client_id=settings.oidc_client_id,
        client_secret=secret,
        scopes=settings.oidc_scopes,
        redirect_uri=settings.public_url.rstrip("/") + CALLBACK_PATH,
    )


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """The endpoints named by the provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True, slots=True)
class LoginStart:
    """Where to send the browser, and what to remember until it comes back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the provider says signed in (validated ID token claims)."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str


async def _get_json(http: httpx.AsyncClient, url: str, what: str) -> dict[str, Any]:
    try:
        response = await http.get(url)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise OidcError(f"could not read the provider's {what} at {url}: {error}") from error
    if not isinstance(document, dict):
        raise OidcError(f"the provider's {what} at {url} is not a JSON object")
    return document


async def discover(config: OidcConfig, http: httpx.AsyncClient) -> ProviderMetadata:
    """The provider's endpoints; its ``issuer`` must be exactly the configured one."""
    url = config.issuer + "/.well-known/openid-configuration"
    document = await _get_json(http, url, "discovery document")
    if str(document.get("issuer", "")).rstrip("/") != config.issuer:
        raise OidcError(
            f"discovery document names issuer {document.get('issuer')!r}, "
            f"expected {config.issuer!r}"
        )
    try:
        return ProviderMetadata(
            issuer=str(document["issuer"]),
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            jwks_uri=str(document["jwks_uri"]),
        )
    except KeyError as error:
        raise OidcError(f"discovery document lacks {error.args[0]}") from error


def _client(config: OidcConfig) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scope=config.scopes,
        redirect_uri=config.redirect_uri,
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT_SECONDS,
    )


async def start(config: OidcConfig, http: httpx.AsyncClient) -> LoginStart:
    """The authorization URL of a new login, with its state, nonce and PKCE verifier."""
    metadata = await discover(config, http)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)  # 64 characters, inside RFC 7636's 43..128
    async with _client(config) as client:
        url, _ = client.create_authorization_url(
            metadata.authorization_endpoint, state=state, code_verifier=verifier, nonce=nonce
        )
    return LoginStart(url=url, state=state, nonce=nonce, code_verifier=verifier)


async def finish(
    config: OidcConfig, http: httpx.AsyncClient, *, code: str, nonce: str, code_verifier: str
) -> Identity:
    """Exchange ``code`` for tokens and return the identity its validated ID token states."""
    metadata = await discover(config, http)
    async with _client(config) as client:
        try:
            token = await client.fetch_token(
                metadata.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                redirect_uri=config.redirect_uri,
            )
        except (OAuth2Error, httpx.HTTPError) as error:
            raise OidcError(f"the token endpoint refused the code: {error}") from error
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise OidcError("the token response carries no ID token (is 'openid' in the scopes?)")
    jwks = await _get_json(http, metadata.jwks_uri, "key set")
    return validate_id_token(
        id_token, jwks, issuer=metadata.issuer, client_id=config.client_id, nonce=nonce
    )


def validate_id_token(
    id_token: str,
    jwks: dict[str, Any],
    *,
    issuer: str,
    client_id: str,
    nonce: str,
    now: datetime | None = None,
) -> Identity:
    """The identity in ``id_token`` after every check OIDC Core 3.1.3.7 asks of a client."""
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        decoded = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise OidcError(f"ID token signature or format is invalid: {error}") from error
    claims = dict(decoded.claims)
    registry = jwt.JWTClaimsRegistry(
        now=int((now or datetime.now(UTC)).timestamp()),
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        raise OidcError(f"ID token claims are invalid: {error.description or error}") from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OidcError("ID token has several audiences and its azp is not this client")
    email = claims.get("email")
    return Identity(
        issuer=issuer,
        subject=str(claims["sub"]),
        email=str(email).strip().lower() if isinstance(email, str) and email else None,
        email_verified=claims.get("email_verified") is True,
        name=str(claims.get("name") or claims.get("preferred_username") or ""),
    )
