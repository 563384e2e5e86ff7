"""Single sign-on against a real OIDC provider running on a local port (tests/api/oidc_provider.py).

The Contango app runs in a TestClient; the provider runs in its own HTTP server; the "browser"
hops between them by following Location headers by hand, so every redirect is inspected.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from auth_support import audit_actions
from fastapi.testclient import TestClient
from oidc_provider import OidcProvider

from contango.api.app import create_app
from contango.settings import Settings

PUBLIC_URL = "https://testserver"
REDIRECT_URI = PUBLIC_URL + "/api/v1/auth/oidc/callback"


@pytest.fixture
def provider() -> Iterator[OidcProvider]:
    """A provider with one registered client (Contango), started on a free port."""
    started = OidcProvider(
        client_id="contango", client_secret="s3cret-for-tests", redirect_uri=REDIRECT_URI
    ).start()
    yield started
    started.stop()


@pytest.fixture
def sso_client(data_dir: Path, database_url: str, provider: OidcProvider) -> Iterator[TestClient]:
    """A Contango app configured for single sign-on at ``provider``."""
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        oidc_issuer=provider.issuer,
        oidc_client_id="contango",
        oidc_client_secret="s3cret-for-tests",  # type: ignore[arg-type]
        public_url=PUBLIC_URL,
    )
    with TestClient(create_app(settings), base_url=PUBLIC_URL) as client:
        yield client


def _sign_in(client: TestClient) -> httpx.Response:
    start = client.get("/api/v1/auth/oidc/login", follow_redirects=False)
    assert start.status_code == 302
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["nonce"]
    assert query["state"]
    assert query["code_challenge"]
    at_provider = httpx.get(authorize, follow_redirects=False)
    assert at_provider.status_code == 302, at_provider.text
    back = at_provider.headers["location"]
    assert back.startswith(REDIRECT_URI)
    parts = urlsplit(back)
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def test_sso_config_says_whether_sign_on_is_enabled(sso_client: TestClient) -> None:
    assert sso_client.get("/api/v1/auth/oidc/config").json() == {
        "enabled": True,
        "login_url": "/api/v1/auth/oidc/login",
    }


def test_sso_off_answers_disabled_and_404(client: TestClient) -> None:
    assert client.get("/api/v1/auth/oidc/config").json()["enabled"] is False
    assert client.get("/api/v1/auth/oidc/login", follow_redirects=False).status_code == 404


def test_first_sso_login_creates_the_user_and_later_logins_reuse_it(
    sso_client: TestClient, provider: OidcProvider
) -> None:
    done = _sign_in(sso_client)
    assert done.status_code == 302, done.text
    assert done.headers["location"] == "/"
    me = sso_client.get("/api/v1/auth/me").json()
    assert (me["email"], me["role"], me["sso"]) == ("alice@corp.example", "viewer", True)
    again = _sign_in(sso_client)
    assert again.status_code == 302
    assert sso_client.get("/api/v1/auth/me").json()["id"] == me["id"]
    assert [o for o, _ in audit_actions(sso_client, "auth.sso")] == ["success", "success"]
    assert len(audit_actions(sso_client, "user.create")) == 1
    assert provider.codes == {}  # each code was redeemed (and deleted) by the token endpoint


def test_an_id_token_for_another_nonce_is_refused(
    sso_client: TestClient, provider: OidcProvider
) -> None:
    provider.nonce_override = "a-nonce-of-some-other-login"
    refused = _sign_in(sso_client)
    assert refused.status_code == 401
    assert "nonce" in refused.json()["detail"]
    assert sso_client.get("/api/v1/auth/me").status_code == 401
    assert [o for o, _ in audit_actions(sso_client, "auth.sso")] == ["failure"]


def test_an_id_token_signed_by_a_key_outside_the_jwks_is_refused(
    sso_client: TestClient, provider: OidcProvider
) -> None:
    provider.sign_with_foreign_key = True
    refused = _sign_in(sso_client)
    assert refused.status_code == 401
    assert "signature" in refused.json()["detail"]


def test_a_callback_whose_state_does_not_match_the_browser_is_refused(
    sso_client: TestClient,
) -> None:
    sso_client.get("/api/v1/auth/oidc/login", follow_redirects=False)
    forged = sso_client.get(
        "/api/v1/auth/oidc/callback?code=abc&state=attacker", follow_redirects=False
    )
    assert forged.status_code == 401
