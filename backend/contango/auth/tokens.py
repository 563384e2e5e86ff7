"""Signed, short-lived tokens: access tokens (RFC 9068 profile) and one-step purpose tokens.

Only Ed25519 signatures with our own key are accepted: the verifier names the one algorithm it
allows, so ``alg=none``, an HMAC signed with the public key (algorithm confusion) or a token
signed by a foreign key all fail the same way. Issuer, audience, expiry, issue time and the
token's type (``typ`` header) are required and checked; an access token is never accepted where
a purpose token is expected, nor the other way round.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

ALGORITHM = "Ed25519"
ACCESS_TYPE = "at+jwt"
PURPOSE_TYPE = "contango-purpose+jwt"
LEEWAY_SECONDS = 5


class TokenError(Exception):
    """A token that is malformed, forged, expired or meant for something else."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a verified access token says."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    role: str
    expires_at: datetime
    token_id: str


class TokenService:
    """Issues and verifies tokens signed with one Ed25519 key."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        *,
        issuer: str,
        audience: str,
        access_ttl: timedelta,
    ) -> None:
        self._key = OKPKey.import_key(key)
        self.issuer = issuer
        self.audience = audience
        self.access_ttl = access_ttl

    def _encode(self, typ: str, claims: dict[str, Any], now: datetime, ttl: timedelta) -> str:
        body = {
            **claims,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode({"alg": ALGORITHM, "typ": typ}, body, self._key, algorithms=[ALGORITHM])

    def _decode(self, token: str, typ: str, now: datetime | None) -> dict[str, Any]:
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
        except (JoseError, ValueError, TypeError) as error:
            raise TokenError("token signature or format is invalid") from error
        if decoded.header.get("typ") != typ:
            raise TokenError(f"token is not of type {typ}")
        registry = jwt.JWTClaimsRegistry(
            now=int((now or datetime.now(UTC)).timestamp()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(decoded.claims)
        except JoseError as error:
            raise TokenError(f"token claims are invalid: {error.description or error}") from error
        return dict(decoded.claims)

    def issue_access(
        self, *, user_id: uuid.UUID, session_id: uuid.UUID, role: str, now: datetime | None = None
    ) -> str:
        """An access token for a user's live session, valid for ``access_ttl``."""
        claims = {"sub": str(user_id), "sid": str(session_id), "role": role}
        return self._encode(ACCESS_TYPE, claims, now or datetime.now(UTC), self.access_ttl)

    def verify_access(self, token: str, *, now: datetime | None = None) -> AccessClaims:
        """The claims of a valid access token; :class:`TokenError` for anything else."""
        claims = self._decode(token, ACCESS_TYPE, now)
        try:
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                session_id=uuid.UUID(claims["sid"]),
                role=str(claims["role"]),
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
                token_id=str(claims["jti"]),
            )
        except (KeyError, ValueError, TypeError) as error:
            raise TokenError("access token lacks its subject, session or role") from error

    def issue_purpose(
        self,
        purpose: str,
        subject: str,
        *,
        ttl: timedelta,
        extra: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> str:
        """A token good for one purpose only (e.g. the MFA step of a login), for ``ttl``."""
        claims = {**(extra or {}), "sub": subject, "purpose": purpose}
        return self._encode(PURPOSE_TYPE, claims, now or datetime.now(UTC), ttl)

    def verify_purpose(
        self, token: str, purpose: str, *, now: datetime | None = None
    ) -> dict[str, Any]:
        """The claims of a valid token issued for ``purpose``."""
        claims = self._decode(token, PURPOSE_TYPE, now)
        if claims.get("purpose") != purpose:
            raise TokenError(f"token was not issued for {purpose}")
        return claims
