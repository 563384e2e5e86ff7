"""``sweep`` and ``walkforward`` commands on the bundled samples (registered here in a small
typer app, as ``contango backtest`` registers them)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pcsv
import pytest
import typer
from typer.testing import CliRunner

from contango.cli.main import app as main_app
from contango.cli.research import sweep, walkforward
from contango.research.config import parse_research_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "research"
runner = CliRunner()
app = typer.Typer()
app.command("sweep")(sweep)
app.command("walkforward")(walkforward)

CONFIG = """\
name: es-sweep
markets:
  - root: ES
    commission: 1.25
strategy:
  name: ma_crossover
  params: {sizing: fixed, contracts: 1}
simulation:
  capital: 250000
sweep:
  seed: 3
  samples: 2
  pbo_blocks: 8
  params:
    fast_window: {grid: [5, 10, 20]}
    slow_window: {grid: [40, 80]}
    ma_kind: {random: {choices: [sma, ema]}}
walkforward:
  in_sample_bars: 200
  out_of_sample_bars: 100
  warmup_bars: 100
"""


@pytest.fixture
def samples() -> None:
    loaded = runner.invoke(
        main_app,
        [
            *("samples", "load", "--markets", "ES", "--years", "2"),
            *("--minute-markets", "", "--no-progress"),
        ],
    )
    assert loaded.exit_code == 0, loaded.output


def test_example_configs_are_valid() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        parse_research_config(path.read_text(encoding="utf-8"), str(path))


def test_sweep_writes_a_ranked_table_and_diagnostics(samples: None, tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    first = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "a"), "--top", "3"])
    assert first.exit_code == 0, first.output
    assert "Top 3 by sharpe" in first.output
    table = pcsv.read_csv(tmp_path / "a" / "ranked.csv").to_pydict()
    sharpes = table["sharpe"]
    assert sharpes == sorted(sharpes, reverse=True)
    assert table["rank"] == list(range(1, len(sharpes) + 1))
    diag = json.loads((tmp_path / "a" / "diagnostics.json").read_text(encoding="utf-8"))
    n = diag["trials_this_sweep"]
    assert n == len(sharpes) <= 12  # 3 x 2 grid points x 2 draws, duplicates run once
    assert diag["registry"]["n_trials"] == n
    assert diag["deflated_sharpe"]["n_trials"] == n
    assert 0.0 <= diag["deflated_sharpe"]["dsr"] <= 1.0
    assert diag["pbo"]["combinations"] == 70  # C(8, 4)
    assert diag["best_params"]["fast_window"] == table["fast_window"][0]
    assert diag["lookahead"]["clean"] is True  # the template's chosen parameters, 21 cuts
    assert "look-ahead: none found" in first.output

    # the same sweep again: the same table bit for bit, and no new trials in the registry
    again = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "b")])
    assert again.exit_code == 0, again.output
    assert (tmp_path / "a" / "ranked.parquet").read_bytes() == (
        tmp_path / "b" / "ranked.parquet"
    ).read_bytes()
    diag_b = json.loads((tmp_path / "b" / "diagnostics.json").read_text(encoding="utf-8"))
    assert diag_b["registry"]["n_trials"] == n

    # another period is another set of trials: the DSR now counts both sweeps
    path.write_text(CONFIG.replace("simulation:", "start: 2025-01-01\nsimulation:"), "utf-8")
    third = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "c")])
    assert third.exit_code == 0, third.output
    diag_c = json.loads((tmp_path / "c" / "diagnostics.json").read_text(encoding="utf-8"))
    assert diag_c["deflated_sharpe"]["n_trials"] == 2 * n


def test_rank_by_drawdown_sorts_lowest_first(samples: None, tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    out = runner.invoke(
        app, ["sweep", str(path), "--out", str(tmp_path / "d"), "--rank-by", "max_drawdown"]
    )
    assert out.exit_code == 0, out.output
    dd = pcsv.read_csv(tmp_path / "d" / "ranked.csv").to_pydict()["max_drawdown"]
    assert dd == sorted(dd)


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["sweep", str(tmp_path / "none.yaml")]).exit_code == 2
    path = tmp_path / "s.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    bad = runner.invoke(app, ["sweep", str(path), "--rank-by", "luck"])
    assert bad.exit_code == 2
    assert "unknown metric" in bad.output
    path.write_text(CONFIG.replace("fast_window: {grid", "fast_windw: {grid"), "utf-8")
    typo = runner.invoke(app, ["sweep", str(path)])
    assert typo.exit_code == 2  # checked before any data is loaded (the store is empty here)
    assert "fast_windw" in typo.output
    no_walk = tmp_path / "n.yaml"
    no_walk.write_text(CONFIG.split("walkforward:", maxsplit=1)[0], encoding="utf-8")
    assert runner.invoke(app, ["walkforward", str(no_walk)]).exit_code == 2


def test_walkforward_writes_windows_equity_and_stability(samples: None, tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    out = runner.invoke(app, ["walkforward", str(path), "--out", str(tmp_path / "w")])
    assert out.exit_code == 0, out.output
    windows = pcsv.read_csv(tmp_path / "w" / "windows.csv").to_pydict()
    summary = json.loads((tmp_path / "w" / "walkforward.json").read_text(encoding="utf-8"))
    assert len(windows["window"]) == summary["windows"] >= 2
    assert "param_fast_window" in windows
    assert set(summary["stability"]["params"]) == {"fast_window", "slow_window", "ma_kind"}
    assert 0 < summary["stability"]["modal_share"] <= 1
