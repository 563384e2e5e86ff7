"""Schemathesis over the published OpenAPI schema: no request, however malformed, gets a 500,
and every error answer is an RFC 9457 problem-details document.

Each operation of ``/api/openapi.json`` is a test of its own, fed by Hypothesis with requests
that fit the schema and requests that break it (negative mode), authenticated as an admin so
that the requests reach the services. Operations that address an object by id are also fed the
ids of real objects (a dataset, a series, a strategy, jobs, a user), since a random UUID only
ever meets the "not found" path. The run is deterministic (derandomized) and bounded.

Job submissions are fuzzed in negative mode only: a valid generated sweep could ask for hours
of work. Logout revokes the session it is called with, so each logout case gets a session of
its own. The app runs on SQLite: what is fuzzed is the HTTP layer and the services, which the
rest of the suite runs against PostgreSQL too.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from market_data import csv_bytes, es_chain_rows
from route_catalog import ROUTES, app_routes
from schemathesis import GenerationMode
from schemathesis.python import asgi

from contango.api.app import create_app
from contango.auth.passwords import hash_password
from contango.db.models import AuthSession, Team, User
from contango.services.context import open_context
from contango.settings import Settings
from jobs_support import backtest_config

V1 = "/api/v1"
MAX_EXAMPLES = 20
PASSWORD = "fuzzing passphrase 42"
PROBLEM_JSON = "application/problem+json"
# Submitting a valid job queues real work; these get only schema-breaking requests.
NEGATIVE_ONLY = {("POST", f"{V1}/{kind}") for kind in ("backtests", "sweeps", "walkforward")}
LOGOUT = ("POST", f"{V1}/auth/logout")
LOGIN = ("POST", f"{V1}/auth/login")
LOGIN_EXAMPLES = 10  # each verifies an Argon2id hash (~0.2 s): fewer, to keep the run short
LEAVER_SESSIONS = 3 * MAX_EXAMPLES


def _schema_operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation the schema publishes (read without starting the app)."""
    app = create_app(Settings(data_dir=Path("/nonexistent/contango-fuzz-schema")))
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return sorted((method.upper(), path) for path, item in paths.items() for method in item)


OPERATIONS = _schema_operations()


@dataclass
class Fuzzed:
    """The running app, its schema, an admin's headers and ids of real objects."""

    schema: Any
    admin: dict[str, str]
    http: requests.Session
    real_ids: dict[str, str]
    spare_tokens: list[str]

    def fresh_session(self) -> dict[str, str]:
        """Headers of an unused session of the logout user (a logout case ends it)."""
        if self.spare_tokens:
            return {"Authorization": f"Bearer {self.spare_tokens.pop()}"}
        body = {"email": "leaver@fuzz.example.com", "password": PASSWORD}
        response = self.http.post(f"{V1}/auth/login", json=body)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _seed_users(settings: Settings) -> tuple[str, list[str]]:
    """An admin and a user to log out, with live sessions: the admin's token, the user's."""
    context = await open_context(settings)
    try:
        async with context.database.transaction() as session:
            team = Team(name="fuzz")
            session.add(team)
            await session.flush()
            admin = User(email="admin@fuzz.example.com", display_name="admin", role="admin",
                         team_id=team.id, password_hash=hash_password(PASSWORD))  # fmt: skip
            leaver = User(email="leaver@fuzz.example.com", display_name="leaver",
                          role="viewer", password_hash=hash_password(PASSWORD))  # fmt: skip
            session.add_all([admin, leaver])
            await session.flush()
            until = datetime.now(UTC) + timedelta(hours=2)
            live = [AuthSession(user_id=admin.id, expires_at=until)]
            live += [
                AuthSession(user_id=leaver.id, expires_at=until) for _ in range(LEAVER_SESSIONS)
            ]
            session.add_all(live)
            await session.flush()
            tokens = [
                context.tokens.issue_access(user_id=s.user_id, session_id=s.id, role=role)
                for s, role in zip(live, ["admin"] + ["viewer"] * LEAVER_SESSIONS, strict=True)
            ]
            return tokens[0], tokens[1:]
    finally:
        await context.close()


def _seed_objects(http: requests.Session, admin: dict[str, str]) -> dict[str, str]:
    """Real objects for the id parameters, made through the API."""

    def made(response: requests.Response) -> dict[str, Any]:
        assert response.status_code in (201, 202), response.text
        body: dict[str, Any] = response.json()
        return body

    files = {"file": ("es.csv", csv_bytes(es_chain_rows()), "application/octet-stream")}
    dataset = made(
        http.post(f"{V1}/datasets", files=files, data={"dataset": "ES.1d"}, headers=admin)
    )
    series = made(http.post(f"{V1}/continuous", json={"root": "ES"}, headers=admin))
    code = {"name": "fuzzed", "code": "def targets(bars, params):\n    return None\n"}
    strategy = made(http.post(f"{V1}/strategies/custom", json=code, headers=admin))
    user = made(http.post(f"{V1}/users", json={"email": "t@fuzz.example.com", "role": "viewer"},
                          headers=admin))  # fmt: skip
    job = made(http.post(f"{V1}/backtests", json={"config": backtest_config()}, headers=admin))
    return {
        "name": "ES.1d",
        "version": str(dataset["version"]["id"]),
        "series_id": str(series["id"]),
        "strategy_id": str(strategy["id"]),
        "user_id": str(user["id"]),
        "job_id": str(job["id"]),
        "root": "ES",
        "symbol": "ESH24",
    }


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """One app for the whole module, started by schemathesis (its requests run on its loop)."""
    folder = tmp_path_factory.mktemp("fuzz-data")
    settings = Settings(
        data_dir=folder, database_url=f"sqlite+aiosqlite:///{folder / 'contango.db'}"
    )
    token, spare = asyncio.run(_seed_users(settings))
    app = create_app(settings)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    admin = {"Authorization": f"Bearer {token}"}
    try:
        with asgi.get_client(app) as http:
            yield Fuzzed(schema, admin, http, _seed_objects(http, admin), spare)
    finally:
        asgi.shutdown_lifespans()


def test_the_schema_publishes_every_api_route() -> None:
    """Every HTTP route of the table is in the schema (OpenAPI has no WebSockets), except the
    documentation routes themselves."""
    app = create_app(Settings(data_dir=Path("/nonexistent/contango-fuzz-schema")))
    outside = {key for key in app_routes(app) if not key[1].startswith(V1) or key[0] == "WS"}
    assert set(ROUTES) - outside == {key for key in OPERATIONS if key[1].startswith(V1)}
    assert {key for key in OPERATIONS if not key[1].startswith(V1)} == {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
    }


def _strategy(fuzzed: Fuzzed, method: str, path: str) -> st.SearchStrategy[Any]:
    operation = fuzzed.schema[path][method]
    modes = [GenerationMode.NEGATIVE]
    if (method, path) not in NEGATIVE_ONLY:
        modes.append(GenerationMode.POSITIVE)
    strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
    placeholders = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    if placeholders:
        values = {name: fuzzed.real_ids[name] for name in placeholders if name in fuzzed.real_ids}
        if path.endswith("/templates/{name}"):
            values["name"] = "ma_crossover"
        if values:
            strategies.append(operation.as_strategy(path_parameters=values))
    return st.one_of(strategies)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_operation_answers_500_and_errors_are_problem_details(
    fuzzed: Fuzzed, method: str, path: str
) -> None:
    seen: list[int] = []

    @given(case=_strategy(fuzzed, method, path))
    @settings(
        max_examples=LOGIN_EXAMPLES if (method, path) == LOGIN else MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        headers = fuzzed.fresh_session() if (method, path) == LOGOUT else fuzzed.admin
        response = case.call(headers=headers)
        seen.append(response.status_code)
        where = f"{method} {path} -> {response.status_code}: {response.text[:300]}"
        assert response.status_code < 500, where
        if response.status_code >= 400:
            # schemathesis keeps every value of a header: there must be exactly this one
            assert response.headers.get("content-type") == [PROBLEM_JSON], where

    check()
    assert seen, f"{method} {path}: no request was made"
    # the admin's session survived the run (no case logged it out or disabled it)
    me = fuzzed.http.get(f"{V1}/auth/me", headers=fuzzed.admin)
    assert me.status_code == 200, me.text
    assert uuid.UUID(me.json()["id"])
