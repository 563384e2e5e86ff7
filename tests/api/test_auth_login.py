"""Password login, bearer and cookie delivery, refresh rotation, logout, lockout, rehash."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import httpx
from argon2 import PasswordHasher, extract_parameters
from auth_support import (
    PASSWORD,
    audit_actions,
    bearer,
    context_of,
    make_user,
    run_in_app,
)
from auth_support import login as password_login
from fastapi.testclient import TestClient
from sqlalchemy import update

from contango.db.models import User

Login = Callable[..., dict[str, str]]

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"


def test_bearer_login_gives_a_short_access_token_and_me_lists_the_role_permissions(
    client: TestClient, login: Login
) -> None:
    admin = login("admin")
    make_user(client, admin, "Trader@Desk.example")
    tokens = _login(client, "trader@desk.example")
    assert tokens["token_type"] == "Bearer"
    assert 0 < tokens["expires_in"] <= 900
    me = client.get(ME, headers=bearer(tokens)).json()
    assert me["email"] == "trader@desk.example"
    assert me["role"] == "analyst"
    assert "backtests.run" in me["permissions"]
    assert "users.manage" not in me["permissions"]
    assert me["mfa_enabled"] is False
    assert audit_actions(client, "auth.login")[-1] == ("success", "trader@desk.example")


def _login(client: TestClient, email: str) -> dict[str, object]:
    return password_login(client, email)


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_session(
    client: TestClient, login: Login
) -> None:
    make_user(client, login("admin"), "r@desk.example")
    first = _login(client, "r@desk.example")
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert client.get(ME, headers=bearer(rotated)).status_code == 200
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    # The reuse revoked the session: the newest access and refresh tokens are dead too.
    assert client.get(ME, headers=bearer(rotated)).status_code == 401
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert again.status_code == 401
    assert ("failure", "r@desk.example") in audit_actions(client, "auth.refresh")


def test_logout_ends_the_session_at_once(client: TestClient, login: Login) -> None:
    make_user(client, login("admin"), "out@desk.example")
    tokens = _login(client, "out@desk.example")
    assert client.post("/api/v1/auth/logout", headers=bearer(tokens)).status_code == 204
    assert client.get(ME, headers=bearer(tokens)).status_code == 401
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    assert audit_actions(client, "auth.logout") == [("success", "out@desk.example")]


def test_cookie_login_sets_httponly_strict_cookies_and_no_token_in_the_body(
    client: TestClient, login: Login
) -> None:
    make_user(client, login("admin"), "web@desk.example")
    client.base_url = "https://testserver"  # type: ignore[assignment]  # Secure cookies travel over https only
    response = client.post(
        LOGIN, json={"email": "web@desk.example", "password": PASSWORD, "delivery": "cookie"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["delivery"] == "cookie"
    assert "access_token" not in body
    assert "refresh_token" not in body
    cookies = {c.split("=", 1)[0]: c.lower() for c in response.headers.get_list("set-cookie")}
    for name, path in (("contango_access", "/"), ("contango_refresh", "/api/v1/auth")):
        assert "httponly" in cookies[name]
        assert "secure" in cookies[name]
        assert "samesite=strict" in cookies[name]
        assert f"path={path};" in cookies[name] + ";"
    assert "httponly" not in cookies["contango_csrf"]
    assert client.get(ME).status_code == 200
    csrf = client.cookies["contango_csrf"]
    assert client.post("/api/v1/auth/logout").status_code == 403
    wrong = {"X-CSRF-Token": "0" * 64}
    assert client.post("/api/v1/auth/logout", headers=wrong).status_code == 403
    refreshed = client.post("/api/v1/auth/refresh", headers={"X-CSRF-Token": csrf})
    assert refreshed.status_code == 200
    assert "access_token" not in refreshed.json()
    ok = {"X-CSRF-Token": client.cookies["contango_csrf"]}
    assert client.post("/api/v1/auth/logout", headers=ok).status_code == 204
    assert client.get(ME).status_code == 401


def test_cookie_refresh_without_csrf_header_is_refused(client: TestClient, login: Login) -> None:
    make_user(client, login("admin"), "csrf@desk.example")
    client.base_url = "https://testserver"  # type: ignore[assignment]
    body = {"email": "csrf@desk.example", "password": PASSWORD, "delivery": "cookie"}
    assert client.post(LOGIN, json=body).status_code == 200
    assert client.post("/api/v1/auth/refresh").status_code == 403


def _problem_without_instance(response: httpx.Response) -> dict[str, object]:
    body = dict(response.json())
    body.pop("request_id", None)
    return body


def test_unknown_email_and_wrong_password_get_the_same_answer(
    client: TestClient, login: Login
) -> None:
    make_user(client, login("admin"), "known@desk.example")
    wrong = client.post(LOGIN, json={"email": "known@desk.example", "password": "x" * 12})
    unknown = client.post(LOGIN, json={"email": "nobody@desk.example", "password": "x" * 12})
    assert wrong.status_code == unknown.status_code == 401
    assert _problem_without_instance(wrong) == _problem_without_instance(unknown)


def test_unknown_email_costs_a_password_hash_like_a_wrong_password(
    client: TestClient, login: Login
) -> None:
    make_user(client, login("admin"), "timed@desk.example")

    def median_seconds(email_of: Callable[[int], str]) -> float:
        spent = []
        for index in range(3):
            body = {"email": email_of(index), "password": "y" * 12}
            start = time.perf_counter()
            assert client.post(LOGIN, json=body).status_code == 401
            spent.append(time.perf_counter() - start)
        return statistics.median(spent)

    known = median_seconds(lambda _: "timed@desk.example")
    unknown = median_seconds(lambda i: f"ghost{i}@desk.example")
    # Without the dummy hash an unknown email answers ~20x faster; allow generous noise.
    assert unknown > 0.4 * known, (known, unknown)


def test_five_failures_lock_the_account_even_against_the_right_password(
    client: TestClient, login: Login
) -> None:
    make_user(client, login("admin"), "locked@desk.example")
    for _ in range(5):
        bad = client.post(LOGIN, json={"email": "locked@desk.example", "password": "n" * 12})
        assert bad.status_code == 401
    refused = client.post(LOGIN, json={"email": "locked@desk.example", "password": PASSWORD})
    assert refused.status_code == 429
    assert 890 <= int(refused.headers["Retry-After"]) <= 900
    outcomes = [outcome for outcome, _ in audit_actions(client, "auth.login")]
    assert outcomes.count("failure") == 5
    assert outcomes[-1] == "denied"


def test_twenty_failures_from_one_address_lock_that_address(
    client: TestClient, login: Login
) -> None:
    make_user(client, login("admin"), "victim@desk.example")
    for index in range(20):
        body = {"email": f"spray{index}@desk.example", "password": PASSWORD}
        assert client.post(LOGIN, json=body).status_code == 401
    refused = client.post(LOGIN, json={"email": "victim@desk.example", "password": PASSWORD})
    assert refused.status_code == 429


def test_a_hash_with_old_parameters_is_replaced_on_login(client: TestClient, login: Login) -> None:
    make_user(client, login("admin"), "old@desk.example")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)

    async def store_weak() -> None:
        async with context_of(client).database.transaction() as session:
            await session.execute(
                update(User).where(User.email == "old@desk.example").values(password_hash=weak)
            )

    async def stored() -> str:
        async with context_of(client).database.transaction() as session:
            user = (await session.execute(User.__table__.select())).all()
            return next(row.password_hash for row in user if row.email == "old@desk.example")

    run_in_app(client, store_weak)
    login_body = _login(client, "old@desk.example")
    assert login_body["access_token"]
    renewed = extract_parameters(run_in_app(client, stored))
    default = PasswordHasher()
    assert (renewed.time_cost, renewed.memory_cost) == (default.time_cost, default.memory_cost)
    assert renewed.type.name == "ID"


def test_password_change_checks_the_current_one_and_ends_other_sessions(
    client: TestClient, login: Login
) -> None:
    make_user(client, login("admin"), "pw@desk.example")
    here, elsewhere = _login(client, "pw@desk.example"), _login(client, "pw@desk.example")
    url = "/api/v1/auth/password"
    wrong = {"current_password": "nope" * 4, "new_password": "a brand new passphrase"}
    assert client.post(url, json=wrong, headers=bearer(here)).status_code == 401
    short = {"current_password": PASSWORD, "new_password": "short"}
    assert client.post(url, json=short, headers=bearer(here)).status_code == 422
    mail = {"current_password": PASSWORD, "new_password": "pw@desk.example!!"}
    assert client.post(url, json=mail, headers=bearer(here)).status_code == 422
    good = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    assert client.post(url, json=good, headers=bearer(here)).status_code == 204
    assert client.get(ME, headers=bearer(here)).status_code == 200
    assert client.get(ME, headers=bearer(elsewhere)).status_code == 401
    old = client.post(LOGIN, json={"email": "pw@desk.example", "password": PASSWORD})
    assert old.status_code == 401
    assert login_works(client, "pw@desk.example", "a brand new passphrase")


def login_works(client: TestClient, email: str, password: str) -> bool:
    response = client.post(LOGIN, json={"email": email, "password": password})
    return response.status_code == 200


def test_a_disabled_user_cannot_log_in_and_loses_live_sessions(
    client: TestClient, login: Login
) -> None:
    admin = login("admin")
    user = make_user(client, admin, "gone@desk.example")
    tokens = _login(client, "gone@desk.example")
    patched = client.patch(f"/api/v1/users/{user['id']}", json={"is_active": False}, headers=admin)
    assert patched.status_code == 200
    assert client.get(ME, headers=bearer(tokens)).status_code == 401
    assert not login_works(client, "gone@desk.example", PASSWORD)
