"""A sweep of 11,000 parameter sets fanned out over two real Celery workers gives the same ranked
table, figure for figure, as the same sweep run in one process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from celery_support import CeleryWorkers, context_of, login, wait_until
from fastapi.testclient import TestClient

from contango.auth.rbac import Role
from contango.research.config import ResearchConfig
from contango.services.backtest_data import load_data
from contango.services.research import run_config_sweep, write_sweep_report
from contango.settings import Settings
from jobs_support import backtest_config

pytestmark = pytest.mark.redis
CHUNK = 1_000


@pytest.fixture
def settings(data_dir: Path, database_url: str, redis_url: str) -> Settings:
    """Chunks of 1,000 parameter sets: 11 chunk tasks for the two workers."""
    return Settings(data_dir=data_dir, database_url=database_url, redis_url=redis_url,
                    job_backend="celery", lease_seconds=6.0, heartbeat_seconds=2.0,
                    sweep_chunk_size=CHUNK, log_format="text")  # fmt: skip


def sweep_config() -> dict[str, Any]:
    """100 fast x 110 slow windows of the crossover: 11,000 valid sets (every fast < slow)."""
    backtest = backtest_config()
    backtest["strategy"] = {"name": "ma_crossover", "params": {"sizing": "fixed", "contracts": 1}}
    grids = {"fast_window": {"grid": {"start": 2, "stop": 101, "step": 1}},
             "slow_window": {"grid": {"start": 110, "stop": 219, "step": 1}}}  # fmt: skip
    sweep = {"objective": "sharpe", "seed": 3, "pbo_blocks": 4, "params": grids}
    return {"backtest": backtest, "sweep": sweep}


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_sweep_fanned_out_over_two_workers_ranks_like_one_process(
    client: TestClient, workers: CeleryWorkers, es_samples: None, tmp_path: Path
) -> None:
    first, second = workers.start("a"), workers.start("b")
    workers.wait_ready()
    analyst = login(client, Role.ANALYST)
    submitted = client.post("/api/v1/sweeps", json={"config": sweep_config()}, headers=analyst)
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["id"]

    def ended() -> dict[str, Any] | None:
        job: dict[str, Any] = client.get(f"/api/v1/sweeps/{job_id}", headers=analyst).json()
        return job if job["status"] in {"succeeded", "failed", "cancelled"} else None

    job = wait_until(ended, 150, workers.logs)
    assert job["status"] == "succeeded", (job, workers.logs())
    results = context_of(client).settings.results_dir
    fanned = pq.read_table(results / job_id / "ranked.parquet")

    config = ResearchConfig.model_validate(sweep_config())
    direct = run_config_sweep(config, load_data(config.backtest), registry_folder=tmp_path)
    write_sweep_report(direct, tmp_path / "direct")
    alone = pq.read_table(tmp_path / "direct" / "ranked.parquet")
    assert fanned.num_rows == alone.num_rows == 11_000
    assert fanned.equals(alone)
    assert job["summary"]["best_params"] == direct.diagnostics["best_params"]
    # The sweep's attempt keeps its worker (one process each) busy until the merge, so every
    # chunk a task stored ran on the other worker, at the same time: the sweep fanned out.
    stored = [w.log.read_text().count("stored (") for w in (first, second)]
    assert sum(stored) >= 1, (stored, workers.logs())
    assert not (results / f".{job_id}.chunks").exists()
