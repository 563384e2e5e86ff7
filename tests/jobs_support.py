"""Helpers of the job tests: bundled sample data in the test's store, configurations, waiting."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from contango.data.samples.load import load_samples
from contango.data.store import open_store

Headers = dict[str, str]
FINAL = {"succeeded", "failed", "cancelled"}
_CACHE: dict[str, Path] = {}


def install_es_samples(data_dir: Path, cache_dir: Path) -> None:
    """Three years of the ES daily sample chain in ``data_dir``'s store (generated once)."""
    if "es" not in _CACHE:
        folder = cache_dir / "es-store"
        load_samples(markets=["ES"], years=3, minute_markets=[], store=open_store(folder))
        _CACHE["es"] = folder
    shutil.copytree(_CACHE["es"], data_dir / "store", dirs_exist_ok=True)


def backtest_config(**changes: Any) -> dict[str, Any]:
    """A 10/50 crossover on the ES samples with real costs (the README's example, shortened)."""
    config: dict[str, Any] = {
        "name": "ma-es",
        "markets": [
            {
                "root": "ES",
                "dataset": "ES.1d",
                "mode": "continuous",
                "adjustment": "difference",
                "roll_days": 5,
                "commission": 1.25,
                "exchange_fee": 1.38,
            }
        ],
        "start": "2023-06-01",
        "end": "2025-12-31",
        "strategy": {
            "name": "ma_crossover",
            "params": {"fast_window": 10, "slow_window": 50, "sizing": "fixed", "contracts": 1},
        },
        "simulation": {"capital": 250_000, "fill_delay": 1, "slippage_ticks": 1},
        "seed": 0,
    }
    config.update(changes)
    return config


def research_config(**walkforward: Any) -> dict[str, Any]:
    """A four-set sweep of the crossover (and a walk-forward block when given)."""
    backtest = backtest_config()
    backtest["strategy"] = {"name": "ma_crossover", "params": {"sizing": "fixed", "contracts": 1}}
    config: dict[str, Any] = {
        "backtest": backtest,
        "sweep": {
            "objective": "sharpe",
            "seed": 3,
            "pbo_blocks": 4,
            "params": {"fast_window": {"grid": [5, 10]}, "slow_window": {"grid": [40, 80]}},
        },
    }
    if walkforward:
        config["walkforward"] = walkforward
    return config


def wait_for(
    client: TestClient, path: str, headers: Headers, timeout: float = 300
) -> dict[str, Any]:
    """Poll a job until it ends; the job document at its end."""
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(path, headers=headers).json()
        if job["status"] in FINAL:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job did not finish in {timeout}s: {job}")
        time.sleep(0.1)


def submit_custom(client: TestClient, headers: Headers, code: str, **params: Any) -> str:
    """Store custom strategy code and submit a backtest of it; the job id."""
    made = client.post(
        "/api/v1/strategies/custom", json={"name": "c", "code": code}, headers=headers
    )
    assert made.status_code == 201, made.text
    config = backtest_config(strategy={"name": f"custom:{made.json()['id']}", "params": params})
    response = client.post("/api/v1/backtests", json={"config": config}, headers=headers)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])
