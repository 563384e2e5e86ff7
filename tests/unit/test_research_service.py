"""The sweep service without the returns matrix: a sweep keeps every trial's bar returns only
when asked, and its diagnostics are the same figures either way (the statistics come from the
sweep kernel, the chosen trial's returns from running it again)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from test_engine_batch import ES, walk_bars

from contango.research.config import parse_research_config
from contango.services.backtest_data import LoadedData
from contango.services.research import run_config_sweep

CONFIG = """
name: lean
markets:
  - {root: ES, dataset: ES.1d, mode: continuous, adjustment: difference}
strategy:
  name: ma_crossover
  params: {sizing: fixed, contracts: 3}
simulation: {capital: 500000, slippage_ticks: 1}
sweep:
  objective: sharpe
  pbo_blocks: 8
  params:
    fast_window: {grid: [2, 3, 5, 8, 13]}
    slow_window: {grid: [10, 20, 40]}
"""


def test_a_sweep_without_its_returns_diagnoses_exactly_as_one_with_them(tmp_path: Path) -> None:
    config, _ = parse_research_config(CONFIG, "lean.yaml")
    loaded = LoadedData(bars=walk_bars(400, seed=3), specs=[ES], contracts=None, fx={},
                        data_versions={"ES.1d": "v1"})  # fmt: skip
    kept = run_config_sweep(config, loaded, registry_folder=tmp_path / "a", keep_returns=True)
    lean = run_config_sweep(config, loaded, registry_folder=tmp_path / "b")
    assert lean.result.returns is None
    assert kept.result.returns is not None
    assert json.dumps(lean.diagnostics, sort_keys=True) == json.dumps(
        kept.diagnostics, sort_keys=True
    )
    assert np.array_equal(lean.ranking, kept.ranking)
    # The DSR's Sharpe ratio is the chosen trial's, from its returns (NumPy, independently).
    best = int(kept.ranking[0])
    returns = kept.result.returns[1:, best]
    per_bar = returns.mean() / returns.std(ddof=1)
    reported = lean.diagnostics["deflated_sharpe"]["sharpe_per_bar"]
    assert math.isclose(reported, per_bar, rel_tol=1e-12)
    assert lean.diagnostics["pbo"]["combinations"] == math.comb(8, 4)
