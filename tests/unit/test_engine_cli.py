"""``contango backtest``: YAML errors name field, value, allowed values and line; runs write
results that reproduce bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from contango.cli.main import app
from contango.engine.backtest_config import ConfigError, parse_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()

BAD = """\
name: bad
markets:
  - root: ES
    mode: contract
strategy:
  name: ma_crossover
simulation:
  margin_call:
    at: tomorrow
  fill_dely: 1
"""


def test_config_errors_name_field_value_allowed_values_and_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(BAD, "bad.yaml")
    problems = info.value.problems
    assert (
        "bad.yaml line 4: markets[0].mode = 'contract': must be 'continuous' or "
        "'contracts'" in problems
    )
    assert (
        "bad.yaml line 9: simulation.margin_call.at = 'tomorrow': must be 'next_open' "
        "or 'close'" in problems
    )
    assert any(
        p.startswith("bad.yaml line 10: simulation.fill_dely = 1: Extra inputs") for p in problems
    )


def test_invalid_yaml_reports_its_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("name: x\nmarkets: [\n", "broken.yaml")
    assert "broken.yaml line" in info.value.problems[0]


def test_every_example_config_is_valid() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        result = runner.invoke(app, ["backtest", "validate", str(path)])
        assert result.exit_code == 0, (path, result.output)


def test_bad_strategy_parameter_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "markets:\n  - root: ES\nstrategy:\n  name: ma_crossover\n  params:\n    fast_window: -3\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["backtest", "validate", str(path)])
    assert result.exit_code == 2
    assert "line 6: strategy.params.fast_window = -3" in result.output


def test_missing_file_and_unknown_strategy_are_usage_errors(tmp_path: Path) -> None:
    assert runner.invoke(app, ["backtest", "run", str(tmp_path / "none.yaml")]).exit_code == 2
    path = tmp_path / "c.yaml"
    path.write_text("markets:\n  - root: ES\nstrategy:\n  name: nope\n", encoding="utf-8")
    result = runner.invoke(app, ["backtest", "run", str(path)])
    assert result.exit_code == 2
    assert "unknown strategy template 'nope'" in result.output


@pytest.fixture
def samples() -> None:
    loaded = runner.invoke(
        app,
        [
            "samples",
            "load",
            "--markets",
            "ES,CL",
            "--years",
            "2",
            "--minute-markets",
            "",
            "--no-progress",
        ],
    )
    assert loaded.exit_code == 0, loaded.output


def test_run_writes_results_that_reproduce_bit_for_bit(samples: None, tmp_path: Path) -> None:
    config = EXAMPLES / "ma_crossover_es.yaml"
    first = runner.invoke(app, ["backtest", "run", str(config), "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["backtest", "run", str(config), "--out", str(tmp_path / "b")])
    assert "Sharpe" in first.output
    for table in ("account", "trades", "fills", "positions"):
        a = pd.read_parquet(tmp_path / "a" / f"{table}.parquet")
        b = pd.read_parquet(tmp_path / "b" / f"{table}.parquet")
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    doc = json.loads((tmp_path / "a" / "result.json").read_text(encoding="utf-8"))
    summary = doc["summary"]
    assert summary["data_versions"].keys() == {"ES.1d"}
    assert len(summary["config_hash"]) == 64
    assert summary["engine_version"]
    assert doc["config"]["strategy"]["params"]["fast_window"] == 10
    assert second.exit_code == 0
    assert "sharpe" in doc["metrics"]


def test_contract_mode_run_reports_rolls(samples: None, tmp_path: Path) -> None:
    path = tmp_path / "cl.yaml"
    path.write_text(
        "markets:\n  - root: CL\n    mode: contracts\n    commission: 2.5\n"
        "strategy:\n  name: ma_crossover\n  params: {fast_window: 5, slow_window: 20}"
        "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["backtest", "run", str(path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    rolls = pd.read_parquet(tmp_path / "r" / "rolls.parquet")
    trades = pd.read_parquet(tmp_path / "r" / "trades.parquet")
    assert len(rolls) > 0
    assert (rolls["fees"] == 2 * 2.5 * rolls["qty"].abs()).all()  # both legs
    assert (rolls["from_contract"] != rolls["to_contract"]).all()
    assert set(trades["exit_reason"]) <= {"signal", "roll", "expiry", "open", "margin_call"}
