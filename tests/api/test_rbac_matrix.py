"""Every endpoint with every role: the permissions matrix as the running API applies it.

Three sources must agree for each route: the hand-written table of ``route_catalog`` (read from
the routers), the permission the route's dependencies declare, and ``rbac.PERMISSIONS``. The walk
then calls each route as each role with a request good enough to reach the service: roles the
matrix allows must not be refused (401/403), the others must get 403 as problem details, and a
caller without a token 401. The objects addressed are real ones of the caller's team, so an
allowed role reaches the service rather than a validation error.

The object rule is checked apart: what one team creates (a job, a custom strategy, a dataset, a
continuous series) is "not found" for the same role of another team, and visible to an admin.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from market_data import DATASETS, csv_bytes, es_chain_rows, problem, upload
from route_catalog import (
    AUTHENTICATED,
    PUBLIC,
    ROUTES,
    RouteKey,
    allowed_roles,
    app_routes,
    declared_access,
    fill,
)
from starlette.websockets import WebSocketDisconnect

from app_support import Login
from contango.auth.rbac import PERMISSIONS, Permission, Role
from jobs_support import backtest_config, research_config

Headers = dict[str, str]
V1 = "/api/v1"
WALK = {"in_sample_bars": 250, "out_of_sample_bars": 60}
CODE = "def targets(bars, params):\n    return bars.close * 0.0\n"
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _created(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass
class World:
    """Objects of team desk-a, made by its admin, that the walk addresses by id."""

    client: TestClient
    admin: Headers
    user_id: str
    version: str
    series_id: str
    strategy_id: str
    jobs: dict[str, str]
    serial: Iterator[int] = field(default_factory=itertools.count)

    def fresh_strategy(self) -> str:
        """A new strategy to delete (a delete by one role must not starve the next)."""
        body = {"name": f"doomed {next(self.serial)}", "code": CODE}
        response = self.client.post(f"{V1}/strategies/custom", json=body, headers=self.admin)
        return str(_created(response)["id"])


def _make_world(client: TestClient, login: Login) -> World:
    admin = login("admin", team="desk-a")
    dataset = _created(upload(client, admin, csv_bytes(es_chain_rows()), dataset="ES.1d"))
    series = _created(client.post(f"{V1}/continuous", json={"root": "ES"}, headers=admin))
    code = {"name": "kept", "code": CODE}
    strategy = _created(client.post(f"{V1}/strategies/custom", json=code, headers=admin))
    target = _created(
        client.post(f"{V1}/users", json={"email": "target@desk-a.example.com", "role": "viewer"},
                    headers=admin)
    )  # fmt: skip
    jobs = {
        kind: str(_created(client.post(f"{V1}/{kind}", json=body, headers=admin), 202)["id"])
        for kind, body in _job_bodies().items()
    }
    return World(
        client=client,
        admin=admin,
        user_id=str(target["id"]),
        version=str(dataset["version"]["id"]),
        series_id=str(series["id"]),
        strategy_id=str(strategy["id"]),
        jobs=jobs,
    )


def _job_bodies() -> dict[str, dict[str, Any]]:
    return {
        "backtests": {"config": backtest_config()},
        "sweeps": {"config": research_config()},
        "walkforward": {"config": research_config(**WALK)},
    }


def _path_values(method: str, path: str, world: World) -> dict[str, str]:
    """Real objects of desk-a for each placeholder of ``path``."""
    segment = path.split("/")[3] if path.startswith(V1) else ""
    return {
        "user_id": world.user_id,
        "root": "ES",
        "symbol": "ESZ24",
        "name": "ma_crossover" if "/templates/" in path else "ES.1d",
        "version": world.version,
        "series_id": world.series_id,
        "strategy_id": world.fresh_strategy() if method == "DELETE" else world.strategy_id,
        "job_id": world.jobs.get(segment, ""),
        "table": "trades",
    }


def _bodies(n: int) -> dict[RouteKey, dict[str, Any]]:
    """A request body (or file) for each route that takes one; ``n`` keeps names unique."""
    upload_form = {
        "files": {"file": ("es.csv", csv_bytes(es_chain_rows()), "application/octet-stream")},
        "data": {"dataset": f"ES.walk{n}"},
    }
    return {
        ("POST", f"{V1}/auth/login"): {"json": {"email": "no@one.example", "password": "wrong"}},
        ("POST", f"{V1}/auth/mfa/verify"): {"json": {"mfa_token": "forged", "code": "123456"}},
        ("POST", f"{V1}/auth/refresh"): {"json": {"refresh_token": "forged"}},
        ("POST", f"{V1}/auth/reauth"): {"json": {"password": "not the password"}},
        ("POST", f"{V1}/auth/mfa/confirm"): {"json": {"code": "123456"}},
        ("POST", f"{V1}/auth/password"): {
            "json": {"current_password": "x" * 12, "new_password": "y" * 16}
        },
        ("POST", f"{V1}/users/teams"): {"json": {"name": f"team {n}"}},
        ("POST", f"{V1}/users"): {"json": {"email": f"u{n}@desk-a.example.com", "role": "viewer"}},
        ("PATCH", f"{V1}/users/{{user_id}}"): {"json": {"display_name": f"renamed {n}"}},
        ("POST", f"{V1}/datasets"): upload_form,
        ("POST", f"{V1}/datasets/validate"): {"files": upload_form["files"]},
        ("POST", f"{V1}/continuous"): {"json": {"root": "ES", "name": f"walk {n}"}},
        ("POST", f"{V1}/strategies/custom"): {"json": {"name": f"walk {n}", "code": CODE}},
        ("PATCH", f"{V1}/strategies/custom/{{strategy_id}}"): {"json": {"description": str(n)}},
        **{("POST", f"{V1}/{kind}"): {"json": body} for kind, body in _job_bodies().items()},
    }


def _call(world: World, key: RouteKey, headers: Headers) -> httpx.Response:
    method, path = key
    n = next(world.serial)
    arguments = _bodies(n).get(key, {})
    url = fill(path, **_path_values(method, path, world))
    return world.client.request(method, url, headers=headers, **arguments)


def test_every_route_is_in_the_table_and_declares_what_the_table_says(
    client: TestClient,
) -> None:
    routes = app_routes(client.app)  # type: ignore[arg-type]
    assert set(routes) - set(ROUTES) == set(), "routes missing from route_catalog.ROUTES"
    assert set(ROUTES) - set(routes) == set(), "route_catalog lists routes the app lacks"
    wrong = {
        key: (declared_access(route), ROUTES[key])
        for key, route in routes.items()
        if key[0] != "WS" and declared_access(route) != ROUTES[key]
    }
    assert wrong == {}, "(declared, expected) per route"
    # WebSocket handlers authorize in their body: test_job_websocket_follows_the_matrix
    assert {key for key in routes if key[0] == "WS"} == {("WS", f"{V1}/ws/jobs/{{job_id}}")}


def test_matrix_grants_what_the_issue_describes() -> None:
    """Spot checks of the matrix itself, from the issue's description of each role."""
    assert allowed_roles(Permission.STRATEGIES_CODE) == {Role.QUANT_DEVELOPER, Role.ADMIN}
    assert allowed_roles(Permission.AUDIT_EXPORT) == {Role.COMPLIANCE_OFFICER, Role.ADMIN}
    assert allowed_roles(Permission.USERS_MANAGE) == {Role.ADMIN}
    assert allowed_roles(Permission.DATASETS_UPLOAD) == {
        Role.ANALYST,
        Role.QUANT_DEVELOPER,
        Role.ADMIN,
    }
    everyone_reads = {p for p in Permission if p.value.endswith(".read") and "audit" not in p.value}
    assert everyone_reads - PERMISSIONS[Role.VIEWER] == {Permission.USERS_READ}
    assert PERMISSIONS[Role.ADMIN] == frozenset(Permission)


def _verdict(response: httpx.Response, allowed: bool) -> str | None:
    """Why ``response`` breaks the matrix, or None."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}: {response.text[:200]}"
    if allowed and status in (401, 403):
        return f"refused {status} an allowed role: {response.text[:200]}"
    if not allowed and status != 403:
        return f"answered {status} to a role without the permission"
    if not allowed and response.headers["content-type"] != "application/problem+json":
        return "403 is not problem details"
    return None


@SQLITE_ONLY
def test_every_route_answers_every_role_as_the_matrix_says(
    client: TestClient, login: Login
) -> None:
    world = _make_world(client, login)
    readers = {role: login(role, team="desk-a") for role in Role}
    failures: list[str] = []
    walked = 0
    for key, access in sorted(ROUTES.items(), key=lambda item: item[0][1]):
        if access == PUBLIC or key[0] == "WS":
            continue
        allowed = allowed_roles(access)
        for role in Role:
            fresh = key[0] != "GET" or key[1].endswith("/auth/me")
            headers = login(role, team="desk-a") if fresh else readers[role]
            problem_found = _verdict(_call(world, key, headers), role in allowed)
            if problem_found:
                failures.append(f"{key[0]} {key[1]} as {role.value}: {problem_found}")
            walked += 1
        anonymous = _call(world, key, {})
        if anonymous.status_code != 401:
            failures.append(f"{key[0]} {key[1]} without a token: {anonymous.status_code}")
    assert failures == []
    http_routes = [k for k, a in ROUTES.items() if a != PUBLIC and k[0] != "WS"]
    assert walked == len(Role) * len(http_routes)


@SQLITE_ONLY
def test_public_routes_answer_the_same_with_or_without_a_token(
    client: TestClient, login: Login
) -> None:
    """Sign-in routes refuse bad credentials (401) whoever asks; a token changes nothing."""
    world = _make_world(client, login)
    public = [key for key, access in ROUTES.items() if access == PUBLIC]
    assert len(public) == 13
    for key in public:
        anonymous = _call(world, key, {}).status_code
        assert anonymous < 500, key
        assert anonymous != 403, key
        for role in (Role.VIEWER, Role.ADMIN):
            assert _call(world, key, login(role)).status_code == anonymous, (key, role)


def test_authenticated_routes_are_only_the_callers_own_account() -> None:
    own = sorted(path for (_, path), access in ROUTES.items() if access == AUTHENTICATED)
    assert own
    assert all(path.startswith(f"{V1}/auth/") for path in own)


# --- the object rule: another team's objects are "not found", an admin sees them ---------------


@dataclass(frozen=True)
class TeamObjects:
    """What team A made, by kind: the URLs that address each object."""

    dataset: str
    version: str
    series: str
    strategy: str
    job: str


def _team_a_objects(client: TestClient, analyst: Headers, quant: Headers) -> TeamObjects:
    version = _created(upload(client, analyst, csv_bytes(es_chain_rows()), dataset="ES.1d"))
    series = _created(client.post(f"{V1}/continuous", json={"root": "ES"}, headers=analyst))
    strategy = _created(
        client.post(f"{V1}/strategies/custom", json={"name": "a", "code": CODE}, headers=quant)
    )
    job = _created(client.post(f"{V1}/backtests", json=_job_bodies()["backtests"],
                               headers=analyst), 202)  # fmt: skip
    return TeamObjects(
        dataset=f"{DATASETS}/ES.1d",
        version=f"{DATASETS}/ES.1d/versions/{version['version']['id']}",
        series=f"{V1}/continuous/{series['id']}",
        strategy=f"{V1}/strategies/custom/{strategy['id']}",
        job=f"{V1}/backtests/{job['id']}",
    )


def _reads(objects: TeamObjects) -> list[str]:
    return [
        objects.dataset,
        objects.version,
        f"{objects.dataset}/bars",
        objects.series,
        objects.strategy,
        objects.job,
        f"{objects.job}/metrics",
        f"{objects.job}/tables/trades",
    ]


def test_another_teams_objects_are_not_found_and_an_admin_sees_them(
    client: TestClient, login: Login
) -> None:
    analyst_a, quant_a = login("analyst", team="desk-a"), login("quant_developer", team="desk-a")
    objects = _team_a_objects(client, analyst_a, quant_a)
    analyst_b, quant_b = login("analyst", team="desk-b"), login("quant_developer", team="desk-b")
    admin_b = login("admin", team="desk-b")
    for url in _reads(objects):
        problem(client.get(url, headers=analyst_b), 404)
        problem(client.get(url, headers=quant_b), 404)
    for url in (objects.dataset, objects.version, objects.series, objects.strategy, objects.job):
        assert client.get(url, headers=admin_b).status_code == 200, url
        assert client.get(url, headers=login("viewer", team="desk-a")).status_code == 200, url

    problem(client.post(f"{objects.job}/cancel", headers=analyst_b), 404)
    problem(client.patch(objects.strategy, json={"name": "taken"}, headers=quant_b), 404)
    problem(client.delete(objects.strategy, headers=quant_b), 404)
    again = upload(client, analyst_b, csv_bytes(es_chain_rows()), dataset="ES.1d")
    problem(again, 404)
    problem(client.post(f"{V1}/continuous", json={"root": "ES"}, headers=analyst_b), 404)
    # nothing of team A leaked into team B's lists, and team A's objects are intact
    for listing in (DATASETS, f"{V1}/continuous", f"{V1}/backtests", f"{V1}/strategies/custom"):
        assert client.get(listing, headers=quant_b).json()["total"] == 0, listing
        assert client.get(listing, headers=admin_b).json()["total"] >= 1, listing
    assert client.get(objects.strategy, headers=quant_a).json()["name"] == "a"


def test_users_are_reached_only_through_the_admin_matrix(client: TestClient, login: Login) -> None:
    """Users are firm-wide objects behind users.read (admins only): a non-admin of any team
    gets 403 for every user id, while an admin of another team reads the user."""
    admin_a = login("admin", team="desk-a")
    user = _created(
        client.post(f"{V1}/users", json={"email": "ana@desk-a.example.com", "role": "analyst"},
                    headers=admin_a)
    )  # fmt: skip
    url = f"{V1}/users/{user['id']}"
    for role in Role:
        if role is Role.ADMIN:
            continue
        problem(client.get(url, headers=login(role, team="desk-b")), 403)
        problem(client.get(url, headers=login(role, team="desk-a")), 403)
    assert client.get(url, headers=login("admin", team="desk-b")).json()["email"] == user["email"]
    me = client.get(f"{V1}/auth/me", headers=login("analyst", team="desk-b")).json()
    assert me["id"] != user["id"]
    assert me["role"] == "analyst"
    problem(client.get(f"{V1}/users/{uuid.uuid4()}", headers=admin_a), 404)


def _ws_close_code(client: TestClient, url: str) -> int | None:
    """The close code a WebSocket listener gets before any message, or None if it got one."""
    try:
        with client.websocket_connect(url) as socket:
            assert socket.receive_json()["type"] == "status"
            return None
    except WebSocketDisconnect as closed:
        return closed.code


def test_job_websocket_follows_the_matrix_and_the_object_rule(
    client: TestClient, login: Login
) -> None:
    owner = login("analyst", team="desk-a")
    job = _created(client.post(f"{V1}/backtests", json=_job_bodies()["backtests"],
                               headers=owner), 202)  # fmt: skip
    url = f"{V1}/ws/jobs/{job['id']}"
    allowed = allowed_roles(Permission.BACKTESTS_READ)
    for role in Role:
        token = login(role, team="desk-a")["Authorization"].removeprefix("Bearer ")
        expected = None if role in allowed else 4404
        assert _ws_close_code(client, f"{url}?token={token}") == expected, role
        other = login(role, team="desk-b")["Authorization"].removeprefix("Bearer ")
        expected_other = None if role is Role.ADMIN else 4404
        assert _ws_close_code(client, f"{url}?token={other}") == expected_other, role
    assert _ws_close_code(client, url) == 4401
    assert _ws_close_code(client, f"{url}?token=forged") == 4401
