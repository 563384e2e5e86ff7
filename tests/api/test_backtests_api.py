"""Backtests through the API: submit, follow, read results, and who may do what.

Results read through the API are checked against the same configuration run directly through
the backtest service, and the derived series (drawdown, monthly returns) against independent
pandas computations.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from app_support import Login
from contango.engine.backtest_config import BacktestConfig
from contango.services.backtests import load_plan_data, plan_of, run_plan
from jobs_support import backtest_config, install_es_samples, wait_for

API = "/api/v1/backtests"


@pytest.fixture
def es_data(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    install_es_samples(data_dir, tmp_path_factory.getbasetemp())


@pytest.fixture
def finished(client: TestClient, login: Login, es_data: None) -> tuple[str, dict[str, str]]:
    """A backtest run to its end by an analyst: (job id, the analyst's headers)."""
    analyst = login("analyst")
    response = client.post(API, json={"config": backtest_config()}, headers=analyst)
    assert response.status_code == 202, response.text
    job = wait_for(client, f"{API}/{response.json()['id']}", analyst)
    assert job["status"] == "succeeded", job["error"]
    return job["id"], analyst


def test_results_through_the_api_equal_the_engine_run_directly(
    client: TestClient, finished: tuple[str, dict[str, str]]
) -> None:
    job_id, headers = finished
    plan = plan_of(BacktestConfig.model_validate(backtest_config()), None, "test")
    direct = run_plan(plan, load_plan_data(plan))

    figures = client.get(f"{API}/{job_id}/metrics", headers=headers).json()
    assert figures["metrics"]["sharpe"] == direct.metrics.sharpe
    assert figures["metrics"]["total_return"] == direct.metrics.total_return
    assert figures["metrics"]["n_trades"] == direct.metrics.n_trades
    assert figures["summary"]["config_hash"] == direct.result.config_hash
    assert figures["summary"]["data_versions"] == direct.result.data_versions
    sharpe_interval = figures["metrics"]["confidence_intervals"]["sharpe"]
    assert sharpe_interval[1] <= sharpe_interval[0] <= sharpe_interval[2]

    job = client.get(f"{API}/{job_id}", headers=headers).json()
    assert job["summary"]["metrics"]["sharpe"] == direct.metrics.sharpe
    assert job["summary"]["provenance"]["engine_version"] == direct.result.engine_version
    assert job["progress"] == 1.0

    curve = client.get(f"{API}/{job_id}/equity", headers=headers).json()
    assert curve["equity"] == direct.result.equity.tolist()
    equity = pd.Series(direct.result.equity)
    assert curve["drawdown"] == pytest.approx((equity / equity.cummax() - 1).tolist(), abs=1e-15)


def test_thinned_equity_keeps_the_ends_and_the_deepest_drawdown(
    client: TestClient, finished: tuple[str, dict[str, str]]
) -> None:
    job_id, headers = finished
    full = client.get(f"{API}/{job_id}/equity", headers=headers).json()
    thin = client.get(f"{API}/{job_id}/equity?max_points=20", headers=headers).json()
    assert 20 <= len(thin["ts"]) <= 21
    assert thin["ts"][0] == full["ts"][0]
    assert thin["ts"][-1] == full["ts"][-1]
    assert min(thin["drawdown"]) == min(full["drawdown"])
    assert thin["ts"] == sorted(thin["ts"])


def test_monthly_returns_match_month_end_equity(
    client: TestClient, finished: tuple[str, dict[str, str]]
) -> None:
    job_id, headers = finished
    curve = client.get(f"{API}/{job_id}/equity", headers=headers).json()
    equity = pd.Series(curve["equity"], index=pd.to_datetime(curve["ts"], unit="ms", utc=True))
    month_end = equity.groupby(equity.index.strftime("%Y-%m")).last()
    expected = (month_end / month_end.shift(1, fill_value=equity.iloc[0]) - 1).tolist()
    months = client.get(f"{API}/{job_id}/monthly-returns", headers=headers).json()
    assert [f"{m['year']}-{m['month']:02d}" for m in months] == list(month_end.index)
    assert [m["return"] for m in months] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_trades_page_sorts_filters_and_exports_csv(
    client: TestClient, finished: tuple[str, dict[str, str]]
) -> None:
    job_id, headers = finished
    n_closed = client.get(f"{API}/{job_id}/metrics", headers=headers).json()["metrics"]["n_trades"]
    everything = client.get(f"{API}/{job_id}/tables/trades?limit=500", headers=headers).json()
    n_trades = everything["total"]
    # the metrics count closed trades; the table also lists a position still open at the end
    assert sum(not row["is_open"] for row in everything["items"]) == n_closed
    best = client.get(
        f"{API}/{job_id}/tables/trades?sort_by=pnl_net&descending=true&limit=5", headers=headers
    ).json()
    assert best["total"] == n_trades > 5
    pnl = [row["pnl_net"] for row in best["items"]]
    assert pnl == sorted(pnl, reverse=True)
    assert len(pnl) == 5
    assert (
        client.get(f"{API}/{job_id}/tables/trades?market=CL", headers=headers).json()["total"] == 0
    )
    bad = client.get(f"{API}/{job_id}/tables/trades?sort_by=nope", headers=headers)
    assert bad.status_code == 422
    assert "pnl_net" in bad.json()["detail"]
    assert client.get(f"{API}/{job_id}/tables/secrets", headers=headers).status_code == 422
    by_market = client.get(f"{API}/{job_id}/tables/positions?market=ES", headers=headers)
    assert by_market.status_code == 422  # positions are one column per market

    exported = client.get(f"{API}/{job_id}/tables/trades.csv", headers=headers)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == n_trades
    assert sorted(float(r["pnl_net"]) for r in rows)[-1] == pnl[0]


def test_who_may_submit_read_and_cancel(
    client: TestClient, login: Login, finished: tuple[str, dict[str, str]]
) -> None:
    job_id, analyst = finished
    viewer = login("viewer")  # same team
    stranger = login("analyst", team="desk-b")
    refused = client.post(API, json={"config": backtest_config()}, headers=viewer)
    assert refused.status_code == 403
    assert client.get(f"{API}/{job_id}", headers=viewer).status_code == 200
    assert client.get(f"{API}/{job_id}", headers=stranger).status_code == 404
    assert client.get(f"{API}/{job_id}/metrics", headers=stranger).status_code == 404
    assert client.get(API, headers=stranger).json()["total"] == 0
    assert client.get(API, headers=viewer).json()["total"] == 1
    done = client.post(f"{API}/{job_id}/cancel", headers=analyst)
    assert done.status_code == 409
    assert "succeeded" in done.json()["detail"]
    assert client.post(f"{API}/{job_id}/cancel", headers=stranger).status_code == 404


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"simulation": {"capital": -5}}, "config.simulation.capital"),
        ({"markets": []}, "config.markets"),
        (
            {
                "strategy": {
                    "name": "ma_crossover",
                    "params": {"fast_window": 60, "slow_window": 50},
                }
            },
            "fast_window",
        ),
        ({"strategy": {"name": "no_such_template", "params": {}}}, "no_such_template"),
    ],
)
def test_a_wrong_configuration_is_refused_at_submission(
    client: TestClient, login: Login, change: dict[str, object], where: str
) -> None:
    response = client.post(
        API, json={"config": backtest_config(**change)}, headers=login("analyst")
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert where in response.text
    assert client.get(API, headers=login("admin")).json()["total"] == 0


def test_a_job_whose_data_is_missing_fails_with_the_reason(
    client: TestClient, login: Login
) -> None:
    analyst = login("analyst")
    response = client.post(API, json={"config": backtest_config()}, headers=analyst)
    job = wait_for(client, f"{API}/{response.json()['id']}", analyst)
    assert job["status"] == "failed"
    assert "ES.1d" in job["message"]
    assert client.get(f"{API}/{job['id']}/metrics", headers=analyst).status_code == 409
