"""A broker that loses its messages loses no job: Redis emptied (as a restart without
persistence leaves it) after the API sent a job's message, and the job still runs once workers
start, because the job runners send the message again from the jobs table."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from celery_support import CeleryWorkers, job_row, login, wait_until
from fastapi.testclient import TestClient

from contango.api.app import create_app
from contango.settings import Settings
from jobs_support import backtest_config

pytestmark = pytest.mark.redis


def test_a_job_whose_queue_message_was_lost_is_sent_again_and_runs(
    settings: Settings, es_samples: None, tmp_path: Path
) -> None:
    quick = settings.model_copy(update={"redispatch_seconds": 3.0})
    with TestClient(create_app(quick)) as client:
        quant = login(client)
        body = {"config": backtest_config()}
        response = client.post("/api/v1/backtests", json=body, headers=quant)
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        sent = wait_until(lambda: job_row(client, job_id).dispatched_at, 10, lambda: "not sent")
        redis.Redis.from_url(quick.redis_url).flushdb()  # the broker forgets every message
        workers = CeleryWorkers(settings=quick, folder=tmp_path)
        try:
            workers.start("a")
            workers.wait_ready()

            def ended() -> str | None:
                row = job_row(client, job_id)
                return row.status if row.status in {"succeeded", "failed", "cancelled"} else None

            assert wait_until(ended, 120, workers.logs) == "succeeded", workers.logs()
            row = job_row(client, job_id)
            assert row.attempt == 1  # sent again, run once
            assert row.dispatched_at is not None
            assert row.dispatched_at > sent
        finally:
            workers.stop()
