"""Every state-changing endpoint leaves an audit entry when it succeeds, and none when it fails.

The walk takes each POST/PUT/PATCH/DELETE route of the app (from ``app.routes``, so a new one
fails the test until it is listed here), makes it succeed, and checks that the log grew by an
entry of the expected action, outcome and actor. The failure cases are requests that do part of
their work (a dataset row inserted, a role flushed) before a 4xx: the transaction must take the
work and the audit entry back together, leaving neither.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pyotp
import pytest
from auth_support import PASSWORD, bearer, make_user
from fastapi.testclient import TestClient
from market_data import DATASETS, csv_bytes, es_chain_rows, es_rows, problem, upload
from route_catalog import ROUTES, STATE_CHANGING, V1, app_routes
from sqlalchemy import func, select

from app_support import Login, context_of, run_in_app
from contango.audit import Entry, EntryFilter, list_entries
from contango.db.models import Dataset, Job, JobStatus, User
from jobs_support import backtest_config, research_config

Headers = dict[str, str]
CODE = "def targets(bars, params):\n    return bars.close * 0.0\n"
WALK = {"in_sample_bars": 250, "out_of_sample_bars": 60}

# POSTs that change nothing, and why (the walk checks that they leave the log as it was).
READ_ONLY_POSTS = {
    ("POST", f"{V1}/datasets/validate"): "validates a file and stores nothing",
}


def _entries(client: TestClient) -> list[Entry]:
    """Every entry of the log, oldest first (pending events sealed first)."""

    async def read() -> list[Entry]:
        async with context_of(client).database.transaction() as session:
            found, _ = await list_entries(session, EntryFilter(), limit=100_000, offset=0)
            return list(reversed(found))

    return run_in_app(client, read)


def _user_id(client: TestClient, headers: Headers) -> str:
    return str(client.get(f"{V1}/auth/me", headers=headers).json()["id"])


@dataclass(frozen=True)
class Done:
    """A request made to succeed: its answer, the action expected, who did it."""

    response: httpx.Response
    action: str
    actor_id: str | None


class Walk:
    """The state the scenarios share: the app, an admin, an analyst and a quant of desk-a."""

    def __init__(self, client: TestClient, login: Login) -> None:
        self.client = client
        self.admin = login("admin")
        self.analyst = login("analyst")
        self.quant = login("quant_developer")
        self.serial = 0

    def n(self) -> int:
        self.serial += 1
        return self.serial

    def as_user(self, headers: Headers, response: httpx.Response, action: str) -> Done:
        return Done(response, action, _user_id(self.client, headers))

    def password_user(self) -> tuple[str, dict[str, Any]]:
        """A user with a password, and the tokens of a fresh login."""
        email = f"pw{self.n()}@desk-a.example.com"
        make_user(self.client, self.admin, email)
        tokens = self.client.post(f"{V1}/auth/login", json={"email": email, "password": PASSWORD})
        return email, tokens.json()

    def enrolled(self) -> tuple[str, Headers, list[str]]:
        """A password user with TOTP enabled: email, headers, recovery codes."""
        email, tokens = self.password_user()
        headers = bearer(tokens)
        secret = self.client.post(f"{V1}/auth/mfa/enroll", headers=headers).json()["secret"]
        confirm = {"code": pyotp.TOTP(secret).now()}
        codes = self.client.post(f"{V1}/auth/mfa/confirm", json=confirm, headers=headers)
        return email, headers, codes.json()["recovery_codes"]

    def running_job(self, kind: str, headers: Headers) -> str:
        """A job row another worker holds as running (so a cancel always finds it unfinished)."""
        me = uuid.UUID(_user_id(self.client, headers))
        config = backtest_config() if kind == "backtest" else research_config(**WALK)

        async def insert() -> str:
            async with context_of(self.client).database.transaction() as session:
                user = await session.get(User, me)
                assert user is not None
                job = Job(kind=kind, name="held", status=JobStatus.RUNNING.value, config=config,
                          config_hash="0" * 64, owner_id=me, team_id=user.team_id,
                          message="running elsewhere", lease_owner="another-worker")  # fmt: skip
                session.add(job)
                await session.flush()
                return str(job.id)

        return run_in_app(self.client, insert)


def _auth_scenarios(w: Walk) -> dict[tuple[str, str], Callable[[], Done]]:
    c = w.client

    def login() -> Done:
        email, _ = w.password_user()
        response = c.post(f"{V1}/auth/login", json={"email": email, "password": PASSWORD})
        return w.as_user(bearer(response.json()), response, "auth.login")

    def mfa_verify() -> Done:
        email, _, codes = w.enrolled()
        challenge = c.post(f"{V1}/auth/login", json={"email": email, "password": PASSWORD})
        body = {"mfa_token": challenge.json()["mfa_token"], "recovery_code": codes[0]}
        response = c.post(f"{V1}/auth/mfa/verify", json=body)
        return w.as_user(bearer(response.json()), response, "auth.mfa")

    def refresh() -> Done:
        _, tokens = w.password_user()
        body = {"refresh_token": tokens["refresh_token"]}
        response = c.post(f"{V1}/auth/refresh", json=body)
        return w.as_user(bearer(response.json()), response, "auth.refresh")

    def own(path: str, action: str, body: dict[str, Any] | None = None) -> Callable[[], Done]:
        def run() -> Done:
            _, tokens = w.password_user()
            headers = bearer(tokens)
            actor = _user_id(c, headers)
            return Done(c.post(f"{V1}/auth/{path}", json=body, headers=headers), action, actor)

        return run

    def mfa_confirm() -> Done:
        _, tokens = w.password_user()
        headers = bearer(tokens)
        secret = c.post(f"{V1}/auth/mfa/enroll", headers=headers).json()["secret"]
        body = {"code": pyotp.TOTP(secret).now()}
        response = c.post(f"{V1}/auth/mfa/confirm", json=body, headers=headers)
        return w.as_user(headers, response, "auth.mfa.enable")

    def mfa_disable() -> Done:
        _, headers, _ = w.enrolled()
        response = c.post(f"{V1}/auth/mfa/disable", headers=headers)
        return w.as_user(headers, response, "auth.mfa.disable")

    password = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
    return {
        ("POST", f"{V1}/auth/login"): login,
        ("POST", f"{V1}/auth/mfa/verify"): mfa_verify,
        ("POST", f"{V1}/auth/refresh"): refresh,
        ("POST", f"{V1}/auth/logout"): own("logout", "auth.logout"),
        ("POST", f"{V1}/auth/reauth"): own("reauth", "auth.reauth", {"password": PASSWORD}),
        ("POST", f"{V1}/auth/mfa/enroll"): own("mfa/enroll", "auth.mfa.enroll"),
        ("POST", f"{V1}/auth/mfa/confirm"): mfa_confirm,
        ("POST", f"{V1}/auth/mfa/disable"): mfa_disable,
        ("POST", f"{V1}/auth/password"): own("password", "auth.password", password),
    }


def _admin_scenarios(w: Walk) -> dict[tuple[str, str], Callable[[], Done]]:
    c, admin = w.client, w.admin

    def post(path: str, body: dict[str, Any], action: str) -> Callable[[], Done]:
        return lambda: w.as_user(admin, c.post(f"{V1}{path}", json=body, headers=admin), action)

    def target() -> str:
        body = {"email": f"t{w.n()}@desk-a.example.com", "role": "viewer"}
        return str(c.post(f"{V1}/users", json=body, headers=admin).json()["id"])

    def patch_user() -> Done:
        url = f"{V1}/users/{target()}"
        return w.as_user(
            admin, c.patch(url, json={"role": "analyst"}, headers=admin), "user.update"
        )

    def reset_mfa() -> Done:
        url = f"{V1}/users/{target()}/reset-mfa"
        return w.as_user(admin, c.post(url, headers=admin), "user.reset_mfa")

    return {
        ("POST", f"{V1}/users/teams"): post("/users/teams", {"name": "desk-z"}, "team.create"),
        ("POST", f"{V1}/users"): post(
            "/users", {"email": "new@desk-a.example.com", "role": "analyst"}, "user.create"
        ),
        ("PATCH", f"{V1}/users/{{user_id}}"): patch_user,
        ("POST", f"{V1}/users/{{user_id}}/reset-mfa"): reset_mfa,
    }


def _work_scenarios(w: Walk) -> dict[tuple[str, str], Callable[[], Done]]:
    c, analyst, quant = w.client, w.analyst, w.quant
    custom = f"{V1}/strategies/custom"

    def dataset() -> Done:
        response = upload(c, analyst, csv_bytes(es_chain_rows()), dataset="ES.1d")
        return w.as_user(analyst, response, "dataset.upload")

    def strategy() -> str:
        body = {"name": f"s{w.n()}", "code": CODE}
        return str(c.post(custom, json=body, headers=quant).json()["id"])

    def change(method: str, action: str) -> Callable[[], Done]:
        def run() -> Done:
            body = {"json": {"name": "renamed"}} if method == "PATCH" else {}
            response = c.request(method, f"{custom}/{strategy()}", headers=quant, **body)
            return w.as_user(quant, response, action)

        return run

    jobs = {"backtests": "backtest", "sweeps": "sweep", "walkforward": "walkforward"}

    def submit(path: str, kind: str) -> Callable[[], Done]:
        config = backtest_config() if kind == "backtest" else research_config(**WALK)
        response = lambda: c.post(f"{V1}/{path}", json={"config": config}, headers=analyst)  # noqa: E731
        return lambda: w.as_user(analyst, response(), f"{kind}.submit")

    def cancel(path: str, kind: str) -> Callable[[], Done]:
        def run() -> Done:
            url = f"{V1}/{path}/{w.running_job(kind, analyst)}/cancel"
            return w.as_user(analyst, c.post(url, headers=analyst), f"{kind}.cancel")

        return run

    return {
        ("POST", DATASETS): dataset,
        ("POST", f"{V1}/continuous"): lambda: w.as_user(
            analyst,
            c.post(f"{V1}/continuous", json={"root": "ES"}, headers=analyst),
            "continuous.build",
        ),
        ("POST", custom): lambda: w.as_user(
            quant,
            c.post(custom, json={"name": "x", "code": CODE}, headers=quant),
            "strategy.create",
        ),
        ("PATCH", f"{custom}/{{strategy_id}}"): change("PATCH", "strategy.update"),
        ("DELETE", f"{custom}/{{strategy_id}}"): change("DELETE", "strategy.delete"),
        **{("POST", f"{V1}/{p}"): submit(p, k) for p, k in jobs.items()},
        **{("POST", f"{V1}/{p}/{{job_id}}/cancel"): cancel(p, k) for p, k in jobs.items()},
    }


def test_every_state_changing_request_that_succeeds_is_audited(
    client: TestClient, login: Login
) -> None:
    walk = Walk(client, login)
    scenarios = _auth_scenarios(walk) | _admin_scenarios(walk) | _work_scenarios(walk)
    changing = {key for key in app_routes(client.app) if key[0] in STATE_CHANGING}  # type: ignore[arg-type]
    assert set(ROUTES) >= changing
    assert changing - set(READ_ONLY_POSTS) == set(scenarios), "list each new state change here"
    failures = []
    # the dataset first: the continuous series is built from it
    for key in sorted(scenarios, key=lambda k: (k[1] != DATASETS, k[1] != f"{V1}/continuous")):
        before = len(_entries(client))
        done = scenarios[key]()
        assert done.response.status_code < 300, (key, done.response.text)
        new = _entries(client)[before:]
        mine = [e for e in new if e.action == done.action and e.outcome == "success"]
        if not mine:
            failures.append(f"{key}: no {done.action} success among {[e.action for e in new]}")
        elif done.actor_id and str(mine[-1].actor_id) != done.actor_id:
            failures.append(f"{key}: {done.action} names {mine[-1].actor_id}, not the caller")
    assert failures == []


def test_read_only_posts_leave_the_log_and_the_data_alone(client: TestClient, login: Login) -> None:
    analyst = login("analyst")
    before = _entries(client)
    files = {"file": ("es.csv", csv_bytes(es_rows()), "application/octet-stream")}
    response = client.post(f"{DATASETS}/validate", files=files, headers=analyst)
    assert response.status_code == 200, response.text
    assert response.json()["ok"], response.text
    assert [e.seq for e in _entries(client)] == [e.seq for e in before]
    assert client.get(DATASETS, headers=analyst).json()["total"] == 0


# --- requests that fail after doing part of their work ----------------------------------------


def _successes(client: TestClient, action: str) -> int:
    return sum(1 for e in _entries(client) if e.action == action and e.outcome == "success")


def _count(client: TestClient, model: Any, *where: Any) -> int:
    async def count() -> int:
        async with context_of(client).database.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)))

    return run_in_app(client, count)


def test_an_upload_that_fails_validation_keeps_no_dataset_row_and_is_a_failure_entry(
    client: TestClient, login: Login
) -> None:
    """The new dataset's row is committed before the file is imported; a bad file takes it
    back, and the refusal is logged (in a transaction of its own: the request's rolls back)."""
    analyst = login("analyst")
    rows = es_rows()
    rows[3] = (*rows[3][:2], rows[3][2], rows[3][3] - 10.0, *rows[3][4:])  # high below low
    body = problem(upload(client, analyst, csv_bytes(rows), dataset="ES.broken"), 422)
    assert _count(client, Dataset, Dataset.name == "ES.broken") == 0
    assert _successes(client, "dataset.upload") == 0
    refused = [
        e for e in _entries(client) if e.action == "dataset.upload" and e.outcome == "failure"
    ]
    assert [e.target for e in refused] == ["dataset:ES.broken"]
    assert refused[0].details["errors"] == body["report"]["error_count"] >= 1
    assert refused[0].details["reason"] == body["detail"][:500]
    problem(client.get(f"{DATASETS}/ES.broken", headers=analyst), 404)


def test_demoting_the_last_admin_changes_nothing_and_logs_no_update(
    client: TestClient, login: Login
) -> None:
    """The role is flushed before the last-admin check refuses; the refusal undoes it."""
    admin = login("admin")
    me = client.get(f"{V1}/auth/me", headers=admin).json()
    change = {"role": "viewer", "display_name": "demoted"}
    problem(client.patch(f"{V1}/users/{me['id']}", json=change, headers=admin), 409)
    after = client.get(f"{V1}/users/{me['id']}", headers=admin).json()
    assert (after["role"], after["display_name"]) == ("admin", me["display_name"])
    assert _successes(client, "user.update") == 0


def test_a_strategy_change_with_bad_code_keeps_the_old_name(
    client: TestClient, login: Login
) -> None:
    quant = login("quant_developer")
    made = client.post(
        f"{V1}/strategies/custom", json={"name": "kept", "code": CODE}, headers=quant
    )
    url = f"{V1}/strategies/custom/{made.json()['id']}"
    problem(client.patch(url, json={"name": "lost", "code": "def broken(:"}, headers=quant), 422)
    assert client.get(url, headers=quant).json()["name"] == "kept"
    assert _successes(client, "strategy.update") == 0


def test_failed_builds_duplicates_and_finished_jobs_leave_no_success(
    client: TestClient, login: Login
) -> None:
    analyst, admin = login("analyst"), login("admin")
    assert upload(client, analyst, csv_bytes(es_chain_rows()), dataset="ES.1d").status_code == 201
    # the dataset is found and read before the pinned version turns out not to exist
    body = {"root": "ES", "version": "fffffff"}
    problem(client.post(f"{V1}/continuous", json=body, headers=analyst), 404)
    assert client.get(f"{V1}/continuous", headers=analyst).json()["total"] == 0
    assert _successes(client, "continuous.build") == 0

    assert client.post(f"{V1}/users/teams", json={"name": "rates"}, headers=admin).is_success
    problem(client.post(f"{V1}/users/teams", json={"name": "rates"}, headers=admin), 409)
    assert _successes(client, "team.create") == 1

    email = "dup@desk-a.example.com"
    make_user(client, admin, email)
    duplicate = {"email": email.upper(), "role": "viewer", "password": PASSWORD}
    problem(client.post(f"{V1}/users", json=duplicate, headers=admin), 409)
    assert _successes(client, "user.create") == 1
    assert _count(client, User, User.email == email) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_wrong_current_password_is_a_failure_entry_and_keeps_the_password(
    client: TestClient, login: Login
) -> None:
    admin = login("admin")
    make_user(client, admin, "pat@desk-a.example.com")
    tokens = client.post(
        f"{V1}/auth/login", json={"email": "pat@desk-a.example.com", "password": PASSWORD}
    ).json()
    wrong = {"current_password": "not my password", "new_password": "another long passphrase"}
    problem(client.post(f"{V1}/auth/password", json=wrong, headers=bearer(tokens)), 401)
    outcomes = [e.outcome for e in _entries(client) if e.action == "auth.password"]
    assert outcomes == ["failure"]
    again = client.post(
        f"{V1}/auth/login", json={"email": "pat@desk-a.example.com", "password": PASSWORD}
    )
    assert again.status_code == 200
