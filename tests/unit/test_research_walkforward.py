"""Walk-forward windows, out-of-sample returns with warm-up, stitching, parameter stability."""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from pydantic import BaseModel

from contango.engine.bars import Bars, ContractPanel
from contango.engine.batch import run_sweep
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.run import run_backtest
from contango.engine.strategy import SizingContext
from contango.engine.templates import MACrossoverParams, get_template
from contango.research.config import parse_research_config
from contango.research.trials import TrialKey, trial_id
from contango.research.walkforward import (
    MarketData,
    Window,
    oos_returns,
    parameter_stability,
    plan_windows,
    run_walkforward,
    slice_bars,
    slice_contracts,
)
from contango.services.backtest_data import LoadedData
from contango.services.research import run_config_sweep, simulation_of
from contango.services.trials import load_trial_log
from contango.services.walkforward import run_config_walkforward

# ES: $50 per point, tick 0.25
ES = MarketSpec(name="ES", point_value=50.0, tick_size=0.25, initial_margin=12_000.0)
CAPITAL = 250_000.0
CONFIG = SimulationConfig(capital=CAPITAL)  # no costs, no slippage, fill at the next open


def _es_bars(n: int = 400, seed: int = 9) -> Bars:
    rng = np.random.default_rng(seed)
    close = np.round((4500.0 + np.cumsum(rng.normal(0, 20.0, n))) / 0.25) * 0.25
    open_ = np.round((close + rng.normal(0, 5.0, n)) / 0.25) * 0.25
    col = lambda a: a[:, None]  # noqa: E731
    return Bars(
        ts=np.arange(n, dtype=np.int64) * 86_400 * 10**9 + 1_600_000_000 * 10**9,
        markets=("ES",),
        open=col(open_),
        high=col(np.maximum(open_, close) + 2.0),
        low=col(np.minimum(open_, close) - 2.0),
        close=col(close),
        volume=col(np.full(n, 1000.0)),
    )


class NoParams(BaseModel):
    """No parameters."""


class AlwaysLong:
    """One ES contract long on every bar."""

    name: ClassVar[str] = "always_long"
    Params: ClassVar[type[BaseModel]] = NoParams

    def targets(self, bars: Bars, params: BaseModel, sizing: SizingContext) -> np.ndarray:
        return np.ones(bars.close.shape)


def test_rolling_and_anchored_windows_by_hand() -> None:
    # 20 bars, 8 in-sample, 5 out-of-sample: OOS windows start at 8, 13, 18 (the last one is
    # 2 bars long); rolling IS windows are the 8 bars before; anchored ones start at bar 0.
    rolling = plan_windows(20, in_sample=8, out_of_sample=5, mode="rolling")
    assert [(w.is_start, w.is_end, w.oos_start, w.oos_end) for w in rolling] == [
        (0, 8, 8, 13),
        (5, 13, 13, 18),
        (10, 18, 18, 20),
    ]
    anchored = plan_windows(20, in_sample=8, out_of_sample=5, mode="anchored", warmup=3)
    assert [(w.is_start, w.is_end) for w in anchored] == [(0, 8), (0, 13), (0, 18)]
    assert [w.warmup_start for w in anchored] == [5, 10, 15]
    with pytest.raises(ValueError, match="leave no out-of-sample window"):
        plan_windows(9, in_sample=8, out_of_sample=5)


def test_oos_returns_of_a_long_position_by_hand() -> None:
    bars = _es_bars()
    window = Window(index=0, is_start=0, is_end=100, oos_start=100, oos_end=104, warmup_start=50)
    r = oos_returns(
        MarketData(bars=bars, specs=[ES]),
        strategy=AlwaysLong(),
        params=NoParams(),
        config=CONFIG,
        window=window,
    )
    close, open_ = bars.close[:, 0], bars.open[:, 0]
    # flat until the close of bar 99, whose signal buys 1 contract at bar 100's open:
    # bar 100 earns (close[100] - open[100]) x $50; then close-to-close on the equity so far
    equity = [CAPITAL, CAPITAL + (close[100] - open_[100]) * 50.0]
    for t in (101, 102, 103):
        equity.append(equity[-1] + (close[t] - close[t - 1]) * 50.0)
    expected = np.diff(equity) / np.array(equity[:-1])
    np.testing.assert_allclose(r, expected, rtol=1e-12)


def test_warm_up_gives_the_oos_window_the_full_history_positions() -> None:
    # SMA 10/40 with 60 warm-up bars: the averages on every OOS bar are the full run's, so from
    # the second OOS bar on (the first one differs: the full run may already hold a position)
    # the dollar P&L per bar is the full run's exactly.
    bars = _es_bars()
    strategy = get_template("ma_crossover")
    params = MACrossoverParams(fast_window=10, slow_window=40, sizing="fixed")
    window = Window(index=0, is_start=0, is_end=200, oos_start=200, oos_end=260, warmup_start=140)
    data = MarketData(bars=bars, specs=[ES])
    r = oos_returns(data, strategy=strategy, params=params, config=CONFIG, window=window)
    equity = CAPITAL * np.cumprod(np.concatenate([[1.0], 1.0 + r]))
    full = run_backtest(bars, [ES], strategy=strategy, params=params, config=CONFIG)
    np.testing.assert_allclose(np.diff(equity)[1:], np.diff(full.equity[199:260])[1:], atol=1e-6)
    assert np.abs(np.diff(full.equity[200:260])).sum() > 0  # the window does trade


def test_walkforward_picks_the_in_sample_best_and_compounds_the_oos_returns() -> None:
    bars = _es_bars()
    strategy = get_template("ma_crossover")
    candidates = [
        MACrossoverParams(fast_window=f, slow_window=s, sizing="fixed")
        for f in (5, 10)
        for s in (30, 60)
    ]
    data = MarketData(bars=bars, specs=[ES])
    windows = plan_windows(bars.n_bars, in_sample=150, out_of_sample=80, warmup=70)
    result = run_walkforward(
        data, strategy=strategy, params_list=candidates, config=CONFIG, windows=windows
    )
    assert len(result.outcomes) == 4  # OOS from 150: 150-230, 230-310, 310-390, 390-400
    for o in result.outcomes:
        w = o.window
        part = data.between(w.is_start, w.is_end)
        sweep = run_sweep(part.bars, [ES], strategy=strategy, params_list=candidates, config=CONFIG)
        assert o.params == candidates[int(np.nanargmax(sweep.sharpe))]
        assert o.oos_returns.shape == (w.oos_end - w.oos_start,)
    stitched = np.concatenate([o.oos_returns for o in result.outcomes])
    np.testing.assert_array_equal(result.returns, stitched)
    assert result.equity[-1] == pytest.approx(CAPITAL * np.prod(1 + stitched), rel=1e-12)
    np.testing.assert_array_equal(result.ts, bars.ts[150:400])
    assert result.stability["windows"] == 4


def test_parameter_stability_by_hand() -> None:
    candidates = [{"fast_window": f, "slow_window": 100, "ma_kind": "sma"} for f in (10, 20, 40)]
    chosen = [candidates[0], candidates[0], candidates[1], candidates[2]]
    out = parameter_stability(chosen, candidates)
    # only fast_window varies: chosen 10, 10, 20, 40; mode 10 in 2 of 4 windows;
    # std = sqrt(((-10)^2 + (-10)^2 + 0^2 + 20^2) / 4) = sqrt(150) = 12.247 over range 30
    assert list(out["params"]) == ["fast_window"]
    fast = out["params"]["fast_window"]
    assert (fast["distinct"], fast["mode"], fast["mode_share"]) == (3, 10, 0.5)
    assert fast["dispersion"] == pytest.approx(math.sqrt(150) / 30, rel=1e-12)
    assert out["modal_share"] == 0.5


def test_contract_panel_slices_reindex_expiry_bars() -> None:
    panel = ContractPanel(
        contract=np.array([[0], [0], [1], [1], [1]]),
        roll_price=np.full((5, 1), np.nan),
        expiry_bar=np.array([[1], [1], [4], [4], [4]]),
        names=(("ESH6", "ESM6"),),
    )
    part = slice_contracts(panel, 2, 5)
    assert part is not None
    assert part.expiry_bar[:, 0].tolist() == [2, 2, 2]
    assert part.contract[:, 0].tolist() == [1, 1, 1]


WALK_CONFIG = """\
name: es-walk
markets:
  - {root: ES, dataset: ES.1d, mode: continuous, adjustment: difference}
strategy:
  name: ma_crossover
  params: {sizing: fixed, contracts: 1}
simulation: {capital: 250000}
sweep:
  params:
    fast_window: {grid: [5, 10]}
    slow_window: {grid: [20, 40]}
walkforward: {in_sample_bars: 150, out_of_sample_bars: 100, warmup_bars: 50}
"""


def test_walkforward_records_every_in_sample_trial_and_the_dsr_counts_them(
    tmp_path: Path,
) -> None:
    config, _ = parse_research_config(WALK_CONFIG, "walk.yaml")
    bars = _es_bars(400)
    es = MarketSpec(name="ES", point_value=50.0, tick_size=0.25, initial_margin=12_000.0)
    loaded = LoadedData(bars=bars, specs=[es], contracts=None, fx={}, data_versions={"ES.1d": "v1"})
    result = run_config_walkforward(config, loaded, registry_folder=tmp_path)
    key = TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "v1"})
    log = load_trial_log(key, tmp_path)
    grid = [MACrossoverParams(fast_window=f, slow_window=s, sizing="fixed", contracts=1)
            for f in (5, 10) for s in (20, 40)]  # fmt: skip
    assert len(result.outcomes) == 3  # out-of-sample from bar 150: 150, 250, 350..399
    assert log.n_trials == 3 * len(grid)
    day = lambda i: str(np.datetime64(int(bars.ts[i]), "ns").astype("datetime64[D]"))  # noqa: E731
    simulation = config.backtest.simulation.model_dump(mode="json")
    markets = [m.model_dump(mode="json") for m in config.backtest.markets]
    for o, chunk in zip(result.outcomes, np.split(np.arange(log.n_trials), 3), strict=True):
        w = o.window
        sweep = run_sweep(
            slice_bars(bars, w.is_start, w.is_end), [es], strategy=get_template("ma_crossover"),
            params_list=grid, config=simulation_of(config),
        )  # fmt: skip
        context = {"start": day(w.is_start), "end": day(w.is_end - 1), "markets": markets,
                   "simulation": simulation}  # fmt: skip
        for i, p in zip(chunk, grid, strict=True):
            record = log.records[i]
            assert record.trial_id == trial_id(p.model_dump(mode="json"), context)
            assert record.n_obs == w.is_end - w.is_start - 1
            assert record.sharpe == sweep.sharpe[chunk.tolist().index(i)]
            column = sweep.returns[1:, chunk.tolist().index(i)]
            assert record.sharpe_per_bar == pytest.approx(
                column.mean() / column.std(ddof=1), rel=1e-12
            )
    # A sweep over the whole period afterwards is deflated against these trials too.
    report = run_config_sweep(config, loaded, registry_folder=tmp_path)
    assert report.diagnostics["deflated_sharpe"]["n_trials"] == 4 * len(grid)
    # Walking forward again adds nothing: the same trials have the same ids.
    run_config_walkforward(config, loaded, registry_folder=tmp_path)
    assert load_trial_log(key, tmp_path).n_trials == 4 * len(grid)
