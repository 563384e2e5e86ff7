"""Jobs on real Celery workers and the real Redis: a backtest end to end with live progress
over the WebSocket, and workers SIGKILLed in the middle of a job losing nothing."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest
from celery_support import (
    CeleryWorkers,
    Headers,
    audited_ends,
    context_of,
    job_row,
    login,
    owner_pid,
    wait_until,
)
from fastapi.testclient import TestClient

from jobs_support import backtest_config, submit_custom

pytestmark = pytest.mark.redis

API = "/api/v1/backtests"
# Sleeps inside the sandbox (no CPU) so that the job is reliably in flight when the test acts.
SLOW = (
    "import time\ndef targets(bars, params):\n    time.sleep(params['sleep'])\n"
    "    return np.ones(bars.close.shape)\n"
)


def final(client: TestClient, job_id: str, headers: Headers, workers: CeleryWorkers,
          timeout: float = 120) -> dict[str, Any]:  # fmt: skip
    """The job document once it ended."""

    def ended() -> dict[str, Any] | None:
        job: dict[str, Any] = client.get(f"{API}/{job_id}", headers=headers).json()
        return job if job["status"] in {"succeeded", "failed", "cancelled"} else None

    return wait_until(ended, timeout, workers.logs)


def running_attempt(client: TestClient, job_id: str, attempt: int,
                    workers: CeleryWorkers) -> int:  # fmt: skip
    """Wait until ``attempt`` of the job runs; the pid of the process that runs it."""

    def held() -> int | None:
        job = job_row(client, job_id)
        if job.status == "running" and job.attempt == attempt:
            return owner_pid(job)
        return None

    return wait_until(held, 90, workers.logs)


def test_a_backtest_runs_on_celery_with_progress_over_the_websocket(
    client: TestClient, workers: CeleryWorkers, es_samples: None
) -> None:
    quant = login(client)
    token = quant["Authorization"].removeprefix("Bearer ")
    response = client.post(API, json={"config": backtest_config()}, headers=quant)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    with client.websocket_connect(f"/api/v1/ws/jobs/{job_id}?token={token}") as socket:
        assert socket.receive_json()["status"] == "queued"  # no worker yet
        workers.start("a")
        workers.start("b")
        workers.wait_ready()
        final(client, job_id, quant, workers)  # bounded wait; the socket then gets the end
        messages = [socket.receive_json()]
        while messages[-1]["status"] not in {"succeeded", "failed", "cancelled"}:
            messages.append(socket.receive_json())
    assert messages[-1]["status"] == "succeeded", (messages[-1], workers.logs())
    progress = [m for m in messages if m["type"] == "progress"]
    assert progress, messages  # relayed from the worker over Redis pub/sub
    assert {m["job_id"] for m in progress} == {job_id}
    fractions = [m["progress"] for m in progress]
    assert fractions == sorted(fractions)
    job = client.get(f"{API}/{job_id}", headers=quant).json()
    assert job["attempt"] == 1
    assert job["summary"]["metrics"]["n_trades"] > 0
    assert audited_ends(client, job_id, "backtest.succeeded") == 1
    assert (context_of(client).settings.results_dir / job_id / "result.json").exists()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_sigkill_of_the_pool_child_mid_job_runs_it_again_and_stores_it_once(
    client: TestClient, workers: CeleryWorkers, es_samples: None
) -> None:
    workers.start("a")
    workers.start("b")
    workers.wait_ready()
    quant = login(client)
    job_id = submit_custom(client, quant, SLOW, sleep=4)
    victim = running_attempt(client, job_id, 1, workers)
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    job = final(client, job_id, quant, workers)
    assert job["status"] == "succeeded", (job, workers.logs())
    assert job["attempt"] == 2
    assert time.monotonic() - killed_at < 120
    assert audited_ends(client, job_id, "backtest.succeeded") == 1
    results = context_of(client).settings.results_dir
    assert (results / job_id / "result.json").exists()
    assert not list(results.glob(f".{job_id}.attempt-*"))  # no stray attempt folder


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_sigkill_of_a_whole_worker_mid_job_lets_the_other_worker_finish_it(
    client: TestClient, workers: CeleryWorkers, es_samples: None
) -> None:
    first, second = workers.start("a"), workers.start("b")
    workers.wait_ready()
    quant = login(client)
    job_id = submit_custom(client, quant, SLOW, sleep=4)
    victim = running_attempt(client, job_id, 1, workers)
    holder = first if victim in first.children() else second
    survivor = second if holder is first else first
    holder.kill_all()
    killed_at = time.monotonic()
    job = final(client, job_id, quant, workers)
    assert job["status"] == "succeeded", (job, workers.logs())
    assert job["attempt"] == 2
    assert time.monotonic() - killed_at < 120
    assert audited_ends(client, job_id, "backtest.succeeded") == 1
    assert survivor.process.poll() is None


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_job_that_kills_its_worker_every_time_is_quarantined_after_max_attempts(
    client: TestClient, workers: CeleryWorkers, es_samples: None
) -> None:
    workers.start("a")
    workers.start("b")
    workers.wait_ready()
    quant = login(client)
    job_id = submit_custom(client, quant, SLOW, sleep=30)
    attempts = context_of(client).settings.max_attempts
    for attempt in range(1, attempts + 1):  # the crash: whatever runs it dies
        os.kill(running_attempt(client, job_id, attempt, workers), signal.SIGKILL)
    job = final(client, job_id, quant, workers)
    assert job["status"] == "failed", (job, workers.logs())
    assert f"quarantined after {attempts} attempts" in job["message"]
    assert job["attempt"] == attempts
    assert audited_ends(client, job_id, "backtest.succeeded") == 0
    time.sleep(context_of(client).settings.lease_seconds)  # nothing runs it again
    assert job_row(client, job_id).attempt == attempts
