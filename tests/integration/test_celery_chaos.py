"""100 backtests on two real Celery workers while worker processes are SIGKILLed at random
moments: every job ends, each result is stored exactly once, nothing is lost.

The counts this test asserts are the ones ``benchmarks/bench_jobs.py`` prints for a longer,
slower run (results stored, duplicates, lost jobs, time to recover).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import pytest
from celery_support import CeleryWorkers, audited_ends, job_row, login, pids_alive, wait_until
from fastapi.testclient import TestClient

from contango.db.models import Job
from contango.settings import Settings
from jobs_support import backtest_config

pytestmark = pytest.mark.redis

API = "/api/v1/backtests"
JOBS = 100
FINAL = {"succeeded", "failed", "cancelled"}


def _killer(workers: CeleryWorkers, stop: threading.Event, rng: random.Random) -> list[str]:
    """SIGKILL a pool child (most often) or a whole worker, then start a fresh worker.

    Only workers that are up (ready, with pool children) are struck: killing the fresh
    workers while they start, faster than they can start on a busy machine, would leave no
    worker at all, which tests nothing but the machine's speed."""
    kills: list[str] = []
    while not stop.wait(rng.uniform(0.3, 1.2)):
        alive = [w for w in workers.started if w.process.poll() is None and w.ready()]
        if not alive:
            continue
        victim = rng.choice(alive)
        children = pids_alive(victim.children())
        if not children:
            continue
        if rng.random() < 0.7:
            os.kill(rng.choice(children), signal.SIGKILL)  # celery forks a new pool child
            kills.append("child")
        else:
            victim.kill_all()
            workers.start("spare")
            kills.append("worker")
    return kills


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The integration settings, with queue messages sent again after 30 s instead of 5 min: a
    job whose message a killed worker had reserved comes back through Redis' visibility
    timeout, and failing that (the broker's restore lock held by a killed worker) through the
    job runners' resend, within the test's patience."""
    return settings.model_copy(update={"redispatch_seconds": 30.0})


def _warmed(client: TestClient, headers: dict[str, str]) -> None:
    """Run one backtest before the killer starts: the first job compiles the engine's kernels
    into the on-disk cache (a minute with an empty cache), and kills that land during the
    compilation would test the compiler's patience, not the job recovery."""
    response = client.post(API, json={"config": backtest_config(name="warm-up")}, headers=headers)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]

    def ended() -> str | None:
        status = job_row(client, job_id).status
        return status if status in FINAL else None

    assert wait_until(ended, 300, lambda: "the warm-up backtest did not end") == "succeeded"


def _described(job: Job) -> str:
    """What the database says of a job that did not end, for the assertion message."""
    return (
        f"{job.id} {job.status} attempt {job.attempt} ({job.message}); lease {job.lease_owner} "
        f"until {job.lease_expires_at}; sent {job.dispatched_at}, submitted {job.submitted_at}"
    )


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_hundred_backtests_survive_random_sigkills(
    client: TestClient, workers: CeleryWorkers, es_samples: None
) -> None:
    workers.start("a", concurrency=2)
    workers.start("b", concurrency=2)
    workers.wait_ready()
    headers = login(client)
    _warmed(client, headers)
    stop = threading.Event()
    kills: list[str] = []
    rng = random.Random(11)
    # The killer starts with the submissions, so that it strikes while the jobs run.
    thread = threading.Thread(target=lambda: kills.extend(_killer(workers, stop, rng)))
    thread.start()
    ids = []
    try:
        for index in range(JOBS):
            config = backtest_config(name=f"chaos-{index}", seed=index)
            response = client.post(API, json={"config": config}, headers=headers)
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            states = [job_row(client, job_id).status for job_id in ids]
            if all(state in FINAL for state in states):
                break
            if sum(state in FINAL for state in states) >= JOBS * 0.6:
                stop.set()  # let the rest finish on a quiet system
            time.sleep(0.5)
    finally:
        stop.set()
        thread.join()

    rows = [job_row(client, job_id) for job_id in ids]
    lost = [_described(row) for row in rows if row.status not in FINAL]
    assert not lost, f"jobs never ended: {lost}\n{workers.logs()}"
    ends = [audited_ends(client, job_id, "backtest.succeeded") for job_id in ids]
    succeeded = [row for row in rows if row.status == "succeeded"]
    # Quarantine is reserved for jobs that kill their worker every time: a few unlucky jobs
    # may be hit on each of their attempts, but most must succeed.
    assert len(succeeded) >= JOBS * 0.9, [(r.status, r.message) for r in rows if r not in succeeded]
    assert all(n == 1 for row, n in zip(rows, ends, strict=True) if row.status == "succeeded")
    assert all(n == 0 for row, n in zip(rows, ends, strict=True) if row.status != "succeeded")
    assert len(kills) >= 3, f"the killer struck only {kills}"
    assert all(Path(row.result_dir or "").is_dir() for row in succeeded)
