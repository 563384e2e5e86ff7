"""Every kind of forged or misused access token is refused with 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from auth_support import bearer, context_of, make_user
from auth_support import login as password_login
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from contango.auth.tokens import TokenService
from contango.keys import ed25519_key

Login = Callable[..., dict[str, str]]
ME = "/api/v1/auth/me"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _claims(token: str) -> dict[str, object]:
    return dict(json.loads(_unb64(token.split(".")[1])))


def _forge(client: TestClient, genuine: str, kind: str) -> str:
    context = context_of(client)
    claims = _claims(genuine)
    header, payload, signature = genuine.split(".")
    user_sid = {"user_id": claims["sub"], "session_id": claims["sid"], "role": "admin"}

    def service(key: Ed25519PrivateKey, **overrides: str) -> TokenService:
        settings = {"issuer": "contango", "audience": "contango-api", **overrides}
        return TokenService(key, access_ttl=timedelta(minutes=15), **settings)  # type: ignore[arg-type]

    def issue(tokens: TokenService, now: datetime | None = None) -> str:
        import uuid

        return tokens.issue_access(
            user_id=uuid.UUID(str(user_sid["user_id"])),
            session_id=uuid.UUID(str(user_sid["session_id"])),
            role="admin",
            now=now,
        )

    own_key = ed25519_key(None, context.settings, "token-signing")
    if kind == "alg_none":
        head = _b64(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
        return f"{head}.{payload}."
    if kind == "hs256_with_public_key":
        public = own_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        head = _b64(json.dumps({"alg": "HS256", "typ": "at+jwt"}).encode())
        mac = hmac.new(public, f"{head}.{payload}".encode(), hashlib.sha256).digest()
        return f"{head}.{payload}.{_b64(mac)}"
    if kind == "foreign_key":
        return issue(service(Ed25519PrivateKey.generate()))
    if kind == "wrong_issuer":
        return issue(service(own_key, issuer="someone-else"))
    if kind == "wrong_audience":
        return issue(service(own_key, audience="another-api"))
    if kind == "expired":
        return issue(service(own_key), now=datetime.now(UTC) - timedelta(minutes=20))
    if kind == "purpose_token":
        return context.tokens.issue_purpose(
            "login-mfa", str(claims["sub"]), ttl=timedelta(minutes=5)
        )
    if kind == "tampered_payload":
        changed = {**claims, "role": "admin", "sub": str(claims["sub"])[:-1] + "0"}
        return f"{header}.{_b64(json.dumps(changed).encode())}.{signature}"
    raise AssertionError(kind)


KINDS = [
    "alg_none",
    "hs256_with_public_key",
    "foreign_key",
    "wrong_issuer",
    "wrong_audience",
    "expired",
    "purpose_token",
    "tampered_payload",
]


@pytest.mark.parametrize("kind", KINDS)
def test_a_forged_token_is_refused(client: TestClient, login: Login, kind: str) -> None:
    make_user(client, login("admin"), "mark@desk.example")
    genuine = password_login(client, "mark@desk.example")["access_token"]
    assert client.get(ME, headers={"Authorization": f"Bearer {genuine}"}).status_code == 200
    forged = _forge(client, str(genuine), kind)
    response = client.get(ME, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401, kind
    assert response.headers["content-type"] == "application/problem+json"


def test_a_token_of_a_revoked_session_is_refused(client: TestClient, login: Login) -> None:
    make_user(client, login("admin"), "rev@desk.example")
    tokens = password_login(client, "rev@desk.example")
    assert client.post("/api/v1/auth/logout", headers=bearer(tokens)).status_code == 204
    assert client.get(ME, headers=bearer(tokens)).status_code == 401
