"""The embedded worker pool: processes that may be killed without losing work, live progress
over WebSocket, cancel of a running job, and sandboxed custom strategy code end to end."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app_support import Login, context_of, count_audited, run_in_app
from contango.settings import Settings
from jobs_support import backtest_config, install_es_samples, submit_custom, wait_for

API = "/api/v1/backtests"
# Sleeps inside the sandbox (no CPU) so the job is reliably in flight when the test acts.
SLOW = "import time\ndef targets(bars, params):\n    time.sleep(params['sleep'])\n    return np.ones(bars.close.shape)\n"  # noqa: E501


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    """Short leases so that a killed worker's job is recovered within seconds."""
    return Settings(data_dir=data_dir, database_url=database_url, lease_seconds=2.0,
                    heartbeat_seconds=0.5, sandbox_cpu_seconds=5)  # fmt: skip


@pytest.fixture
def es_data(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    install_es_samples(data_dir, tmp_path_factory.getbasetemp())


def _running(client: TestClient, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"{API}/{job_id}", headers=headers).json()
        if job["status"] == "running":
            return job
        time.sleep(0.05)
    raise AssertionError("the job never started")


def _ends(client: TestClient, job_id: str) -> int:
    return run_in_app(
        client, count_audited, context_of(client), f"job:{job_id}", "backtest.succeeded"
    )


def test_a_killed_worker_loses_nothing(client: TestClient, login: Login, es_data: None) -> None:
    quant = login("quant_developer")
    job_id = submit_custom(client, quant, SLOW, sleep=3)
    pool = client.app.state.runner  # type: ignore[attr-defined]
    _running(client, job_id, quant)
    victims = pool.worker_pids()
    assert len(victims) == 1
    os.kill(victims[0], signal.SIGKILL)
    killed_at = time.monotonic()
    job = wait_for(client, f"{API}/{job_id}", quant, timeout=120)
    assert job["status"] == "succeeded", job
    assert job["attempt"] == 2
    assert time.monotonic() - killed_at < 120
    assert _ends(client, job_id) == 1  # stored exactly once
    folder = context_of(client).settings.results_dir / job_id
    assert (folder / "result.json").exists()
    assert not list(folder.parent.glob(f".{job_id}.attempt-*"))  # no stray attempt folder
    assert pool.worker_pids()
    assert pool.worker_pids()[0] != victims[0]


def test_websocket_follows_a_job_and_cancel_stops_it(
    client: TestClient, login: Login, es_data: None
) -> None:
    quant = login("quant_developer")
    token = quant["Authorization"].removeprefix("Bearer ")
    stranger = login("quant_developer", team="desk-b")["Authorization"].removeprefix("Bearer ")
    job_id = submit_custom(client, quant, SLOW, sleep=30)
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(f"/api/v1/ws/jobs/{job_id}?token={stranger}") as refused,
    ):
        refused.receive_json()
    assert closed.value.code == 4404  # another team's job is not found
    with client.websocket_connect(f"/api/v1/ws/jobs/{job_id}?token={token}") as socket:
        first = socket.receive_json()
        assert first["job_id"] == job_id
        assert first["status"] in {"queued", "running"}
        _running(client, job_id, quant)
        assert client.post(f"{API}/{job_id}/cancel", headers=quant).status_code == 200
        messages = [first]
        started = time.monotonic()
        while messages[-1]["status"] not in {"cancelled", "failed", "succeeded"}:
            messages.append(socket.receive_json())
        assert messages[-1]["status"] == "cancelled"
        assert time.monotonic() - started < 15  # not the 30 s the code sleeps
        assert any(m["type"] == "progress" for m in messages)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (
            "def on_bar(i, bars, params, state):\n"
            "    if i == 20: raise KeyError('x')\n"
            "    return [1]\n",
            "raised at bar 20",
        ),
        ("def targets(bars, params):\n    while True: pass\n", "CPU time limit of 5 s"),
        (
            "import socket\n"
            "def targets(bars, params):\n"
            "    socket.create_connection(('1.1.1.1', 80))\n",
            "forbids",
        ),
    ],
)
def test_custom_code_failures_fail_the_job_and_the_worker_lives_on(
    client: TestClient, login: Login, es_data: None, code: str, reason: str
) -> None:
    quant = login("quant_developer")
    job = wait_for(client, f"{API}/{submit_custom(client, quant, code)}", quant, timeout=60)
    assert job["status"] == "failed"
    assert reason in job["message"], job["message"]
    assert "Traceback" in job["error"] or "CPU" in job["error"]
    good = "def targets(bars, params):\n    return np.where(np.isnan(bars.close), np.nan, 1.0)\n"
    after = wait_for(client, f"{API}/{submit_custom(client, quant, good)}", quant, timeout=60)
    assert after["status"] == "succeeded", after["error"]


def test_custom_code_equals_the_same_targets_computed_here(
    client: TestClient, login: Login, es_data: None
) -> None:
    """Long one contract whenever the close is above the previous close, flat otherwise: the
    engine's trades are all long and one contract each."""
    quant = login("quant_developer")
    code = ("def targets(bars, params):\n    up = np.zeros(bars.close.shape)\n"
            "    up[1:] = np.where(bars.close[1:] > bars.close[:-1], params['n'], 0.0)\n"
            "    return up\n")  # fmt: skip
    job = wait_for(client, f"{API}/{submit_custom(client, quant, code, n=1)}", quant, timeout=60)
    assert job["status"] == "succeeded", job["error"]
    trades = client.get(f"{API}/{job['id']}/tables/trades?limit=500", headers=quant).json()
    assert trades["total"] > 10
    assert len({row["direction"] for row in trades["items"]}) == 1  # long only
    assert {abs(row["quantity"]) for row in trades["items"]} == {1}


def test_only_strategy_coders_run_custom_code(
    client: TestClient, login: Login, es_data: None
) -> None:
    quant = login("quant_developer")
    made = client.post("/api/v1/strategies/custom", json={"name": "c", "code": SLOW}, headers=quant)
    config = backtest_config(strategy={"name": f"custom:{made.json()['id']}", "params": {}})
    analyst = login("analyst")
    assert client.post(API, json={"config": config}, headers=analyst).status_code == 403
    other = login("quant_developer", team="desk-b")
    assert client.post(API, json={"config": config}, headers=other).status_code == 404
