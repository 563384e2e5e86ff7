"""User and team administration: admins only, audited, the last admin protected."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from auth_support import PASSWORD, audit_actions, bearer, context_of, make_user, run_in_app
from auth_support import login as password_login
from fastapi.testclient import TestClient

from contango.auth.rbac import Role
from contango.services.accounts import ensure_admin

Login = Callable[..., dict[str, str]]
USERS = "/api/v1/users"


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_admins_list_or_change_users(client: TestClient, login: Login, role: Role) -> None:
    headers = login(role)
    assert client.get(USERS, headers=headers).status_code == 403
    body = {"email": "x@desk.example", "role": "viewer", "password": PASSWORD}
    assert client.post(USERS, json=body, headers=headers).status_code == 403
    assert client.post(f"{USERS}/teams", json={"name": "t"}, headers=headers).status_code == 403


def test_admin_creates_teams_and_users_lists_filters_and_changes_them(
    client: TestClient, login: Login
) -> None:
    admin = login("admin")
    team = client.post(f"{USERS}/teams", json={"name": "rates"}, headers=admin).json()
    assert client.post(f"{USERS}/teams", json={"name": "rates"}, headers=admin).status_code == 409
    made = make_user(
        client, admin, "Quant@Rates.example", role="quant_developer", team_id=team["id"]
    )
    assert made["email"] == "quant@rates.example"
    assert made["team"] == "rates"
    assert made["has_password"] is True
    assert "password_hash" not in made
    duplicate = {"email": "QUANT@rates.example", "role": "viewer", "password": PASSWORD}
    assert client.post(USERS, json=duplicate, headers=admin).status_code == 409
    weak = {"email": "weak@rates.example", "role": "viewer", "password": "short"}
    assert client.post(USERS, json=weak, headers=admin).status_code == 422
    page = client.get(USERS, params={"team_id": team["id"]}, headers=admin).json()
    assert [u["email"] for u in page["items"]] == ["quant@rates.example"]
    assert page["total"] == 1
    teams = client.get(f"{USERS}/teams", headers=admin).json()
    assert [(t["name"], t["members"]) for t in teams if t["name"] == "rates"] == [("rates", 1)]
    tokens = password_login(client, "quant@rates.example")
    changed = client.patch(
        f"{USERS}/{made['id']}", json={"role": "viewer", "team_id": None}, headers=admin
    ).json()
    assert (changed["role"], changed["team"]) == ("viewer", None)
    # The role comes from the user row on every request: the change applies at once.
    assert client.get("/api/v1/auth/me", headers=bearer(tokens)).json()["role"] == "viewer"
    assert client.get(f"{USERS}/{made['id']}", headers=admin).json()["role"] == "viewer"
    actions = [a for a in ("team.create", "user.create", "user.update") if audit_actions(client, a)]
    assert actions == ["team.create", "user.create", "user.update"]


def test_unknown_user_is_404_and_the_last_admin_cannot_be_demoted(
    client: TestClient, login: Login
) -> None:
    admin = login("admin")
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"{USERS}/{missing}", headers=admin).status_code == 404
    me = client.get("/api/v1/auth/me", headers=admin).json()
    demote = client.patch(f"{USERS}/{me['id']}", json={"role": "viewer"}, headers=admin)
    assert demote.status_code == 409


def test_reset_mfa_clears_the_second_factor_and_ends_sessions(
    client: TestClient, login: Login
) -> None:
    admin = login("admin")
    user = make_user(client, admin, "lost@desk.example")
    tokens = password_login(client, "lost@desk.example")
    enrolled = client.post("/api/v1/auth/mfa/enroll", headers=bearer(tokens))
    assert enrolled.status_code == 200
    reset = client.post(f"{USERS}/{user['id']}/reset-mfa", headers=admin)
    assert reset.status_code == 200
    assert reset.json()["mfa_enabled"] is False
    assert client.get("/api/v1/auth/me", headers=bearer(tokens)).status_code == 401


def test_ensure_admin_creates_one_admin_once_with_a_working_password(client: TestClient) -> None:
    email, password = run_in_app(client, ensure_admin, context_of(client))
    assert password is not None
    assert len(password) >= 12
    again_email, again = run_in_app(client, ensure_admin, context_of(client))
    assert (again_email, again) == (email, None)
    tokens = password_login(client, email, password)
    assert client.get("/api/v1/auth/me", headers=bearer(tokens)).json()["role"] == "admin"
