"""TOTP enrolment, the MFA login step, one-time codes, recovery codes, re-authentication."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyotp
from auth_support import PASSWORD, audit_actions, bearer, context_of, make_user, run_in_app
from auth_support import login as password_login
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from contango.auth import mfa
from contango.db.models import AuthSession, User

Login = Callable[..., dict[str, str]]
LOGIN = "/api/v1/auth/login"
VERIFY = "/api/v1/auth/mfa/verify"


def _code(secret: str, steps_ahead: int = 0) -> str:
    # Computed with pyotp directly (RFC 6238, SHA-1, 6 digits, 30 s), not with the module tested.
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def _enrol(client: TestClient, tokens: dict[str, object]) -> tuple[str, list[str]]:
    started = client.post("/api/v1/auth/mfa/enroll", headers=bearer(tokens))
    assert started.status_code == 200, started.text
    body = started.json()
    secret = body["secret"]
    assert body["otpauth_uri"].startswith("otpauth://totp/Contango:")
    assert f"secret={secret}" in body["otpauth_uri"]
    assert body["qr_svg_data_uri"].startswith("data:image/svg+xml")
    confirmed = client.post(
        "/api/v1/auth/mfa/confirm", json={"code": _code(secret)}, headers=bearer(tokens)
    )
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


def test_enrolled_user_needs_a_code_and_each_code_works_once(
    client: TestClient, login: Login
) -> None:
    make_user(client, login("admin"), "otp@desk.example")
    secret, codes = _enrol(client, password_login(client, "otp@desk.example"))
    assert len(codes) == len(set(codes)) == 10
    challenge = client.post(LOGIN, json={"email": "otp@desk.example", "password": PASSWORD})
    assert challenge.json()["mfa_required"] is True
    assert "access_token" not in challenge.json()
    token = challenge.json()["mfa_token"]
    # The confirmation spent the current step; the next step (+1 drift) is fresh.
    code = _code(secret, 1)
    done = client.post(VERIFY, json={"mfa_token": token, "code": code})
    assert done.status_code == 200, done.text
    assert client.get("/api/v1/auth/me", headers=bearer(done.json())).json()["mfa_enabled"]
    replay = client.post(VERIFY, json={"mfa_token": token, "code": code})
    assert replay.status_code == 401
    assert [o for o, _ in audit_actions(client, "auth.mfa")] == ["success", "failure"]


def test_a_recovery_code_works_once_instead_of_a_totp_code(
    client: TestClient, login: Login
) -> None:
    make_user(client, login("admin"), "rec@desk.example")
    _, codes = _enrol(client, password_login(client, "rec@desk.example"))
    token = client.post(LOGIN, json={"email": "rec@desk.example", "password": PASSWORD}).json()
    body = {"mfa_token": token["mfa_token"], "recovery_code": codes[3].upper()}
    assert client.post(VERIFY, json=body).status_code == 200
    assert client.post(VERIFY, json=body).status_code == 401


def test_five_wrong_codes_lock_the_mfa_step(client: TestClient, login: Login) -> None:
    make_user(client, login("admin"), "brute@desk.example")
    secret, _ = _enrol(client, password_login(client, "brute@desk.example"))
    token = client.post(LOGIN, json={"email": "brute@desk.example", "password": PASSWORD})
    mfa_token = token.json()["mfa_token"]
    right = _code(secret, 1)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert client.post(VERIFY, json={"mfa_token": mfa_token, "code": wrong}).status_code == 401
    locked = client.post(VERIFY, json={"mfa_token": mfa_token, "code": right})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0


def test_the_mfa_token_is_not_an_access_token(client: TestClient, login: Login) -> None:
    make_user(client, login("admin"), "purpose@desk.example")
    _enrol(client, password_login(client, "purpose@desk.example"))
    token = client.post(LOGIN, json={"email": "purpose@desk.example", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['mfa_token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def _age_authentication(client: TestClient, minutes: int) -> None:
    async def age() -> None:
        async with context_of(client).database.transaction() as session:
            await session.execute(
                update(AuthSession).values(
                    authenticated_at=datetime.now(UTC) - timedelta(minutes=minutes)
                )
            )

    run_in_app(client, age)


def test_changing_mfa_needs_a_recent_reauthentication(client: TestClient, login: Login) -> None:
    make_user(client, login("admin"), "step@desk.example")
    tokens = password_login(client, "step@desk.example")
    _age_authentication(client, 6)
    refused = client.post("/api/v1/auth/mfa/enroll", headers=bearer(tokens))
    assert refused.status_code == 403
    assert refused.json()["reauthentication_required"] is True
    wrong = client.post("/api/v1/auth/reauth", json={"password": "w" * 12}, headers=bearer(tokens))
    assert wrong.status_code == 401
    ok = client.post("/api/v1/auth/reauth", json={"password": PASSWORD}, headers=bearer(tokens))
    assert ok.status_code == 204
    secret, _ = _enrol(client, tokens)
    _age_authentication(client, 6)
    disable = "/api/v1/auth/mfa/disable"
    assert client.post(disable, headers=bearer(tokens)).status_code == 403
    without_code = client.post(
        "/api/v1/auth/reauth", json={"password": PASSWORD}, headers=bearer(tokens)
    )
    assert without_code.status_code == 401  # enrolled: the password alone is not enough
    reauth = {"password": PASSWORD, "code": _code(secret, 1)}
    assert (
        client.post("/api/v1/auth/reauth", json=reauth, headers=bearer(tokens)).status_code == 204
    )
    assert client.post(disable, headers=bearer(tokens)).status_code == 204
    plain = client.post(LOGIN, json={"email": "step@desk.example", "password": PASSWORD})
    assert "access_token" in plain.json()
    assert [o for o, _ in audit_actions(client, "auth.mfa.disable")] == ["success"]


def test_the_totp_secret_is_stored_encrypted_and_bound_to_its_user(
    client: TestClient, login: Login
) -> None:
    make_user(client, login("admin"), "vault@desk.example")
    secret, _ = _enrol(client, password_login(client, "vault@desk.example"))

    async def stored() -> tuple[str, object]:
        async with context_of(client).database.transaction() as session:
            user = (
                await session.execute(select(User).where(User.email == "vault@desk.example"))
            ).scalar_one()
            assert user.mfa_secret_encrypted is not None
            return user.mfa_secret_encrypted, user.id

    sealed, user_id = run_in_app(client, stored)
    assert secret not in sealed
    assert mfa.decrypt_secret(context_of(client).secret, user_id, sealed) == secret  # type: ignore[arg-type]
