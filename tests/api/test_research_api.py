"""Sweeps and walk-forward runs through the API, checked against the research service run
directly on the same data and configuration."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app_support import Login
from contango.research.config import ResearchConfig
from contango.services.backtest_data import load_data
from contango.services.research import run_config_sweep
from contango.services.walkforward import run_config_walkforward
from jobs_support import install_es_samples, research_config, wait_for

WALK = {"in_sample_bars": 250, "out_of_sample_bars": 60, "mode": "rolling", "warmup_bars": 100}


@pytest.fixture
def es_data(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    install_es_samples(data_dir, tmp_path_factory.getbasetemp())


def test_sweep_ranking_and_diagnostics_match_the_service_run_directly(
    client: TestClient, login: Login, es_data: None, tmp_path: Path
) -> None:
    analyst = login("analyst")
    submitted = client.post("/api/v1/sweeps", json={"config": research_config()}, headers=analyst)
    assert submitted.status_code == 202, submitted.text
    job = wait_for(client, f"/api/v1/sweeps/{submitted.json()['id']}", analyst)
    assert job["status"] == "succeeded", job["error"]

    config = ResearchConfig.model_validate(research_config())
    direct = run_config_sweep(config, load_data(config.backtest), registry_folder=tmp_path)
    ranked = client.get(f"/api/v1/sweeps/{job['id']}/ranked", headers=analyst).json()
    assert ranked["total"] == direct.result.n_trials == 4
    best = direct.result.params[int(direct.ranking[0])].model_dump(mode="json")
    first = ranked["items"][0]
    assert first["rank"] == 1
    assert (first["fast_window"], first["slow_window"]) == (
        best["fast_window"],
        best["slow_window"],
    )
    sharpe = [row["sharpe"] for row in ranked["items"]]
    assert sharpe == sorted(sharpe, reverse=True)
    assert job["summary"]["best_params"] == best

    diagnostics = client.get(f"/api/v1/sweeps/{job['id']}/diagnostics", headers=analyst).json()
    # The API's sweep was recorded first in its own registry, the direct one in a fresh folder:
    # both saw 4 trials, so the diagnostics agree figure for figure.
    assert diagnostics["trials_this_sweep"] == 4
    assert json.dumps(diagnostics["pbo"], sort_keys=True) == json.dumps(
        direct.diagnostics["pbo"], sort_keys=True
    )
    assert diagnostics["lookahead"] == json.loads(json.dumps(direct.diagnostics["lookahead"]))

    by_sharpe = client.get(
        f"/api/v1/sweeps/{job['id']}/ranked?sort_by=fast_window&descending=false", headers=analyst
    ).json()
    assert [row["fast_window"] for row in by_sharpe["items"]] == [5, 5, 10, 10]
    exported = client.get(f"/api/v1/sweeps/{job['id']}/ranked.csv", headers=analyst)
    assert len(list(csv.DictReader(io.StringIO(exported.text)))) == 4


def test_walkforward_windows_and_summary_match_the_service_run_directly(
    client: TestClient, login: Login, es_data: None
) -> None:
    analyst = login("quant_developer")
    body = {"config": research_config(**WALK)}
    submitted = client.post("/api/v1/walkforward", json=body, headers=analyst)
    assert submitted.status_code == 202, submitted.text
    job = wait_for(client, f"/api/v1/walkforward/{submitted.json()['id']}", analyst)
    assert job["status"] == "succeeded", job["error"]

    config = ResearchConfig.model_validate(research_config(**WALK))
    direct = run_config_walkforward(config, load_data(config.backtest))
    summary = client.get(f"/api/v1/walkforward/{job['id']}/summary", headers=analyst).json()
    assert summary["windows"] == len(direct.outcomes) > 1
    assert summary["oos_total_return"] == direct.total_return
    windows = client.get(f"/api/v1/walkforward/{job['id']}/windows", headers=analyst).json()
    assert windows["total"] == len(direct.outcomes)
    equity = client.get(f"/api/v1/walkforward/{job['id']}/oos-equity", headers=analyst).json()
    assert equity["ts"] == sorted(equity["ts"])
    assert len(set(map(len, equity.values()))) == 1


def test_research_needs_its_permission_and_a_valid_block(client: TestClient, login: Login) -> None:
    viewer, analyst = login("viewer"), login("analyst")
    body = {"config": research_config()}
    assert client.post("/api/v1/sweeps", json=body, headers=viewer).status_code == 403
    no_walk = client.post("/api/v1/walkforward", json=body, headers=analyst)
    assert no_walk.status_code == 422
    assert "walkforward" in no_walk.json()["detail"]
    bad = research_config()
    bad["sweep"]["params"] = {"no_such_param": {"grid": [1, 2]}}
    refused = client.post("/api/v1/sweeps", json={"config": bad}, headers=analyst)
    assert refused.status_code == 422
    assert "no_such_param" in refused.json()["detail"]
