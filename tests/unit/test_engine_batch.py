"""Parameter sweeps: every trial of ``run_sweep`` must equal its own ``run_backtest`` run.

The reference for each trial is the general engine plus ``compute_metrics``, computed here
independently of the sweep code; equity-derived returns and the metrics of the equity curve
must match bit for bit, the trade-sum metrics (profit factor, turnover) to 1e-12.
"""

from __future__ import annotations

import math
from typing import ClassVar

import engine_twins as twins
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from contango.engine.bars import Bars
from contango.engine.batch import METRIC_NAMES, SweepResult, fast_path_blocker, run_sweep
from contango.engine.config import MarginCallConfig, MarketSpec, SimulationConfig
from contango.engine.kernels.sweep_metrics_nb import pairwise_sum_nb
from contango.engine.metrics import (
    EquityCurve,
    PerformanceMetrics,
    bar_returns,
    compute_metrics,
    traded_notional_from_fills,
    trades_from_records,
)
from contango.engine.run import run_backtest
from contango.engine.strategy import SizingContext, VectorStrategy
from contango.engine.templates import (
    DonchianBreakout,
    DonchianBreakoutParams,
    MACrossover,
    MACrossoverParams,
)

F64 = npt.NDArray[np.float64]
DAY_NS = 86_400_000_000_000
START_NS = 1_704_153_600_000_000_000  # 2024-01-02 00:00 UTC
NAN = math.nan
# The twins' real ES and CL specifications, with fees so that trade figures carry costs.
ES = twins.ES.model_copy(update={"commission": 2.25, "exchange_fee": 1.38})
CL = twins.CL.model_copy(update={"commission": 2.0})


def walk_bars(n: int, seed: int, *, holes: bool = True, markets: tuple[str, ...] = ("ES",)) -> Bars:
    """A seeded random walk of daily bars on the tick grid, with missing opens and closes."""
    rng = np.random.default_rng(seed)
    m = len(markets)
    tick = np.array([0.25 if name == "ES" else 0.01 for name in markets])
    base = np.array([4_000.0 if name == "ES" else 75.0 for name in markets])
    step = base * 0.012
    close = base + np.cumsum(rng.normal(0.0, 1.0, (n, m)) * step, axis=0)
    close = np.round(close / tick) * tick
    open_ = np.round(
        (np.vstack([close[:1], close[:-1]]) + rng.normal(0, 0.3, (n, m)) * step) / tick
    )
    open_ = open_ * tick
    high = np.maximum(open_, close) + tick * rng.integers(0, 8, (n, m))
    low = np.minimum(open_, close) - tick * rng.integers(0, 8, (n, m))
    if holes:
        for panel, share in ((open_, 0.03), (close, 0.03)):
            panel[rng.random((n, m)) < share] = NAN
        gone = rng.random(n) < 0.02  # whole bars missing (an exchange holiday)
        for panel in (open_, high, low, close):
            panel[gone] = NAN
    return Bars(
        ts=START_NS + DAY_NS * np.arange(n, dtype=np.int64),
        markets=markets,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=np.full((n, m), 1e5),
    )


def reference(
    bars: Bars,
    specs: list[MarketSpec],
    strategy: VectorStrategy,
    p: BaseModel,
    config: SimulationConfig,
) -> tuple[F64, PerformanceMetrics, int]:
    """One trial through the general engine: returns row, metrics, margin calls."""
    result = run_backtest(bars, specs, strategy=strategy, params=p, config=config)
    pv = np.array([s.point_value for s in specs])
    curve = EquityCurve(
        ts=result.ts,
        equity=result.equity,
        traded_notional=traded_notional_from_fills(result.fills, pv, bars.n_bars),
        gross_exposure=result.exposure,
    )
    metrics = compute_metrics(curve, trades_from_records(result.trades), result.markets)
    first = result.equity[0] / config.capital - 1.0
    returns = np.concatenate(([first], bar_returns(result.equity)))
    return returns, metrics, int(result.margin_calls.shape[0])


def assert_matches_engine(
    sweep: SweepResult,
    bars: Bars,
    specs: list[MarketSpec],
    strategy: VectorStrategy,
    config: SimulationConfig,
) -> int:
    """Every trial equals the engine; returns how many margin calls the trials saw."""
    calls = 0
    for i, p in enumerate(sweep.params):
        returns, metrics, n_calls = reference(bars, specs, strategy, p, config)
        calls += n_calls
        assert np.array_equal(sweep.returns[:, i], returns, equal_nan=True), f"trial {i}"
        assert sweep.equity_end[i] == metrics.end_equity
        assert sweep.n_trades[i] == metrics.n_trades
        for name in METRIC_NAMES:
            got, want = float(getattr(sweep, name)[i]), float(getattr(metrics, name))
            if name in SUMMED_IN_FILL_ORDER:
                assert got == pytest.approx(want, rel=1e-12, abs=1e-12, nan_ok=True), (i, name)
            else:  # summed in NumPy's order: the same bits
                assert got == want or (math.isnan(got) and math.isnan(want)), (i, name)
    return calls


def crossover_grid(**common: object) -> list[BaseModel]:
    return [
        MACrossoverParams.model_validate({"fast_window": f, "slow_window": s, **common})
        for f, s in ((3, 8), (5, 20), (8, 13), (2, 30), (10, 11))
    ]


# Added up per fill in the kernel, per bar then pairwise in compute_metrics: ~1e-15 apart.
SUMMED_IN_FILL_ORDER = {"profit_factor", "turnover"}

CONFIGS = {
    "defaults": SimulationConfig(),
    "costs": SimulationConfig(capital=250_000.0, slippage_ticks=2.0),
    "same_bar_close": SimulationConfig(capital=250_000.0, fill_delay=0, slippage_ticks=1.0),
    "two_bar_delay_interest": SimulationConfig(fill_delay=2, interest_rate=0.045),
    "leverage_cap_reject": SimulationConfig(
        capital=400_000.0, max_leverage=2.0, order_limits="reject", margin_cap=0.8
    ),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.parametrize("sizing", ["fixed", "vol_target"])
def test_crossover_sweep_equals_run_backtest_per_trial(name: str, sizing: str) -> None:
    bars = walk_bars(300, seed=11)
    config = CONFIGS[name]
    params = crossover_grid(sizing=sizing, contracts=4, target_vol=0.2)
    params += crossover_grid(sizing=sizing, contracts=3, allow_short=False, ma_kind="ema")
    sweep = run_sweep(bars, [ES], strategy=MACrossover(), params_list=params, config=config)
    assert sweep.fast_path
    assert sweep.returns.shape == (bars.n_bars, len(params))
    assert sweep.n_trades.max() > 0
    assert_matches_engine(sweep, bars, [ES], MACrossover(), config)


@pytest.mark.parametrize(
    "margin_call",
    [
        MarginCallConfig(action="liquidate_all", at="next_open"),
        MarginCallConfig(action="restore_initial", at="close"),
        MarginCallConfig(action="restore_initial", at="next_open"),
        MarginCallConfig(action="liquidate_all", at="close"),
    ],
)
def test_margin_calls_in_a_sweep_equal_the_engine(margin_call: MarginCallConfig) -> None:
    # 18 ES contracts on $240,000: initial 18 x 12,000 = 216,000 fits, but maintenance
    # 18 x 11,000 = 198,000 leaves $42,000 of room, i.e. a 46.7-point move against the position.
    bars = walk_bars(400, seed=5)
    config = SimulationConfig(capital=240_000.0, slippage_ticks=1.0, margin_call=margin_call)
    params = crossover_grid(sizing="fixed", contracts=18)
    sweep = run_sweep(bars, [ES], strategy=MACrossover(), params_list=params, config=config)
    calls = assert_matches_engine(sweep, bars, [ES], MACrossover(), config)
    assert calls > 0, "the scenario must trigger margin calls"


def test_other_templates_run_through_the_fused_kernel_with_their_own_targets() -> None:
    bars = walk_bars(250, seed=3, markets=("ES", "CL"))
    specs = [ES, CL]
    config = SimulationConfig(capital=500_000.0, slippage_ticks=1.0)
    params: list[BaseModel] = [
        DonchianBreakoutParams(entry_window=e, exit_window=x)
        for e, x in ((20, 10), (30, 5), (10, 5))
    ]
    sweep = run_sweep(bars, specs, strategy=DonchianBreakout(), params_list=params, config=config)
    assert sweep.fast_path
    assert sweep.n_trades.max() > 0
    assert_matches_engine(sweep, bars, specs, DonchianBreakout(), config)


def test_two_markets_share_one_account_in_the_crossover_sweep() -> None:
    bars = walk_bars(260, seed=8, markets=("ES", "CL"))
    config = SimulationConfig(capital=300_000.0, slippage_ticks=1.0, max_leverage=4.0)
    params = crossover_grid(sizing="fixed", contracts=5)
    sweep = run_sweep(bars, [ES, CL], strategy=MACrossover(), params_list=params, config=config)
    assert_matches_engine(sweep, bars, [ES, CL], MACrossover(), config)


def test_unsupported_configuration_falls_back_to_the_engine() -> None:
    bars = walk_bars(120, seed=2)
    config = SimulationConfig(participation=0.5, slippage_atr=0.1)
    assert fast_path_blocker(config, [ES]) == "a participation cap, ATR slippage"
    params = crossover_grid(sizing="fixed", contracts=2)[:2]
    sweep = run_sweep(bars, [ES], strategy=MACrossover(), params_list=params, config=config)
    assert not sweep.fast_path
    assert_matches_engine(sweep, bars, [ES], MACrossover(), config)


class _FixedParams(BaseModel):
    scale: float = 1.0


class _Fixed:
    """A strategy that holds given targets whatever its parameters say (for hand examples)."""

    name: ClassVar[str] = "fixed_targets"
    Params: ClassVar[type[BaseModel]] = _FixedParams

    def __init__(self, targets: F64) -> None:
        self._targets = targets

    def targets(self, bars: Bars, params: BaseModel, sizing: SizingContext) -> F64:
        assert isinstance(params, _FixedParams)
        return self._targets * params.scale


def test_hand_worked_two_contract_long_in_es() -> None:
    # Signal on bar 0 buys 2 at bar 1's open (4000), sold at bar 3's open (4010.25).
    closes = np.array([4000.0, 4004.0, 4006.0, 4012.0, 4011.0])
    opens = np.array([4000.0, 4000.0, 4005.0, 4010.25, 4011.0])
    bars = Bars(
        ts=START_NS + DAY_NS * np.arange(5, dtype=np.int64),
        markets=("ES",),
        open=opens[:, None],
        high=np.maximum(opens, closes)[:, None],
        low=np.minimum(opens, closes)[:, None],
        close=closes[:, None],
        volume=np.full((5, 1), 1e5),
    )
    targets = np.array([[2.0], [NAN], [0.0], [NAN], [NAN]])
    config = SimulationConfig(capital=1_000_000.0)
    sweep = run_sweep(
        bars, [ES], strategy=_Fixed(targets), params_list=[_Fixed.Params()], config=config
    )
    fees = 2 * (2.25 + 1.38)  # per side, 2 contracts
    e1 = 1_000_000.0 - fees + 2 * 4.0 * 50  # bought at 4000, marked at 4004
    e2 = 1_000_000.0 - fees + 2 * 6.0 * 50
    e3 = 1_000_000.0 - 2 * fees + 2 * 10.25 * 50  # sold at 4010.25: +1,025 gross
    expected = [0.0, e1 / 1_000_000.0 - 1, e2 / e1 - 1, e3 / e2 - 1, 0.0]
    np.testing.assert_allclose(sweep.returns[:, 0], expected, rtol=0, atol=1e-15)
    assert sweep.equity_end[0] == pytest.approx(1_000_000.0 + 1_025.0 - 2 * fees)
    assert sweep.n_trades[0] == 1
    assert sweep.win_rate[0] == 1.0
    assert sweep.exposure[0] == pytest.approx(2 / 5)  # held at the closes of bars 1 and 2
    traded = 2 * 4000.0 * 50 + 2 * 4010.25 * 50
    mean_equity = (1_000_000.0 + e1 + e2 + e3 + e3) / 5
    years = 4 / 365.25
    assert sweep.turnover[0] == pytest.approx(traded / mean_equity / years, rel=1e-12)


def test_result_does_not_depend_on_the_number_of_threads() -> None:
    bars = walk_bars(300, seed=21)
    params = crossover_grid(sizing="fixed", contracts=3) + crossover_grid(sizing="vol_target")
    config = SimulationConfig(capital=300_000.0, slippage_ticks=1.0)
    one = run_sweep(
        bars, [ES], strategy=MACrossover(), params_list=params, config=config, workers=1
    )
    two = run_sweep(
        bars, [ES], strategy=MACrossover(), params_list=params, config=config, workers=2
    )
    assert np.array_equal(one.returns, two.returns, equal_nan=True)
    for name in (*METRIC_NAMES, "equity_end", "n_trades"):
        assert np.array_equal(getattr(one, name), getattr(two, name), equal_nan=True), name


def test_fallback_process_pool_gives_the_same_result_as_one_process() -> None:
    bars = walk_bars(80, seed=4)
    params = crossover_grid(sizing="fixed", contracts=2)[:3]
    config = SimulationConfig(participation=0.5)
    one = run_sweep(bars, [ES], strategy=MACrossover(), params_list=params, config=config)
    pool = run_sweep(
        bars, [ES], strategy=MACrossover(), params_list=params, config=config, workers=2
    )
    assert np.array_equal(one.returns, pool.returns, equal_nan=True)
    assert np.array_equal(one.sharpe, pool.sharpe, equal_nan=True)


def test_table_has_one_row_per_trial_with_parameters_and_metrics() -> None:
    bars = walk_bars(150, seed=9)
    params = crossover_grid(sizing="fixed", contracts=2)
    seen: list[tuple[int, int]] = []
    sweep = run_sweep(
        bars,
        [ES],
        strategy=MACrossover(),
        params_list=params,
        config=SimulationConfig(),
        progress=lambda done, total: seen.append((done, total)),
    )
    table = sweep.table()
    assert table.num_rows == len(params)
    assert table.column("fast_window").to_pylist() == [3, 5, 8, 2, 10]
    assert table.column("sharpe").to_pylist() == pytest.approx(list(sweep.sharpe), nan_ok=True)
    assert {"trial", "slow_window", "ma_kind", "n_trades", *METRIC_NAMES} <= set(table.column_names)
    assert seen[-1] == (5, 5)


def test_bad_sweep_requests_say_what_is_wrong() -> None:
    bars = walk_bars(50, seed=1)
    with pytest.raises(ValueError, match="params_list is empty"):
        run_sweep(bars, [ES], strategy=MACrossover(), params_list=[], config=SimulationConfig())
    with pytest.raises(ValueError, match="workers must be >= 1"):
        run_sweep(
            bars,
            [ES],
            strategy=MACrossover(),
            params_list=crossover_grid(),
            config=SimulationConfig(),
            workers=0,
        )
    with pytest.raises(ValueError, match="do not match"):
        run_sweep(
            bars,
            [CL],
            strategy=MACrossover(),
            params_list=crossover_grid(),
            config=SimulationConfig(),
        )


@st.composite
def sweep_case(draw: st.DrawFn) -> tuple[Bars, SimulationConfig, list[BaseModel]]:
    n = draw(st.integers(40, 160))
    bars = walk_bars(n, seed=draw(st.integers(0, 10_000)), holes=draw(st.booleans()))
    config = SimulationConfig(
        capital=draw(st.sampled_from([60_000.0, 150_000.0, 1_000_000.0])),
        fill_delay=draw(st.integers(0, 2)),
        slippage_ticks=draw(st.sampled_from([0.0, 1.0, 2.5])),
        interest_rate=draw(st.sampled_from([0.0, 0.03])),
        order_limits=draw(st.sampled_from(["reduce", "reject"])),
        margin_cap=draw(st.sampled_from([1.0, 0.6])),
        margin_call=MarginCallConfig(
            action=draw(st.sampled_from(["liquidate_all", "restore_initial"])),
            at=draw(st.sampled_from(["next_open", "close"])),
        ),
    )
    windows = draw(
        st.lists(st.tuples(st.integers(1, 15), st.integers(2, 40)), min_size=1, max_size=4)
    )
    params: list[BaseModel] = [
        MACrossoverParams(
            fast_window=min(f, s - 1),
            slow_window=s,
            sizing="fixed",
            contracts=draw(st.integers(1, 12)),
            allow_short=draw(st.booleans()),
            ma_kind=draw(st.sampled_from(["sma", "ema"])),
        )
        for f, s in windows
    ]
    return bars, config, params


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=sweep_case())
def test_any_crossover_sweep_equals_the_engine(
    case: tuple[Bars, SimulationConfig, list[BaseModel]],
) -> None:
    bars, config, params = case
    sweep = run_sweep(bars, [ES], strategy=MACrossover(), params_list=params, config=config)
    assert_matches_engine(sweep, bars, [ES], MACrossover(), config)


def test_pairwise_sum_adds_in_numpys_order_bit_for_bit() -> None:
    # NumPy sums contiguous float64 pairwise; Sharpe and volatility match it only if the
    # kernel adds in the same order. Lengths cross every split of the written-out levels.
    rng = np.random.default_rng(17)
    for n in [*range(1, 300), 1_000, 2_056, 2_100, 2_176, 2_519, 2_520, 5_003, 70_001]:
        x = rng.normal(size=n) * 10.0 ** rng.uniform(-6, 6, n)
        assert pairwise_sum_nb(x, 0, n) == x.sum(), n
        if n > 5:
            assert pairwise_sum_nb(x, 5, n - 5) == x[5:].sum(), n


def test_wiped_out_account_measures_only_the_finite_returns_like_compute_metrics() -> None:
    # No margin requirement: 40 ES contracts on $100,000 lose $2,000 per point; a 60-point
    # fall takes equity below zero, after which returns are undefined (NaN).
    closes = np.array([4000.0, 4000.0, 3990.0, 3960.0, 3940.0, 3945.0, 3950.0])
    bars = Bars(
        ts=START_NS + DAY_NS * np.arange(7, dtype=np.int64),
        markets=("ES",),
        open=closes[:, None],
        high=closes[:, None],
        low=closes[:, None],
        close=closes[:, None],
        volume=np.full((7, 1), 1e5),
    )
    spec = MarketSpec(name="ES", point_value=50.0, tick_size=0.25)
    strategy = _Fixed(np.array([[40.0], [NAN], [NAN], [NAN], [NAN], [NAN], [NAN]]))
    config = SimulationConfig(capital=100_000.0)
    sweep = run_sweep(bars, [spec], strategy=strategy, params_list=[_Fixed.Params()], config=config)
    # bought 40 at 4000; bar 4 closes 60 points down: 100,000 - 40 x 60 x 50 = -20,000;
    # the last close (3950) leaves 100,000 - 40 x 50 x 50 = 0.
    assert sweep.equity_end[0] == 0.0
    assert np.isnan(sweep.returns[5:, 0]).all()  # after equity <= 0
    assert np.isfinite(sweep.returns[:5, 0]).all()
    assert_matches_engine(sweep, bars, [spec], strategy, config)


def test_rebalance_buffer_takes_the_per_trial_targets_path_and_still_matches() -> None:
    # The buffer is path-dependent, so the crossover plan declines it; the strategy's own
    # targets are simulated by the same fused kernel.
    bars = walk_bars(220, seed=13)
    params = crossover_grid(sizing="vol_target", target_vol=0.3, rebalance_buffer=0.2)
    assert MACrossover().batch_plan(bars, params, _sizing(bars)) is None
    config = SimulationConfig(capital=500_000.0, slippage_ticks=1.0)
    sweep = run_sweep(bars, [ES], strategy=MACrossover(), params_list=params, config=config)
    assert sweep.fast_path
    assert_matches_engine(sweep, bars, [ES], MACrossover(), config)


def _sizing(bars: Bars) -> SizingContext:
    return SizingContext(
        capital=500_000.0,
        point_value=np.array([50.0] * bars.n_markets),
        tick_size=np.array([0.25] * bars.n_markets),
        initial_margin=np.array([12_000.0] * bars.n_markets),
    )


def _plan_one_by_one(
    bars: Bars, params: list[BaseModel], sizing: SizingContext
) -> tuple[F64, F64, npt.NDArray[np.int64]]:
    """The crossover plan built set by set with the public indicators: the reference."""
    from contango.engine.indicators import ema, sma
    from contango.engine.templates.base import position_size
    from contango.engine.templates.ma_crossover import _sizing_key

    averages: dict[tuple[str, int], int] = {}
    sizes: dict[tuple[object, ...], int] = {}
    size_arrays: list[F64] = []
    trials = []
    for p in params:
        assert isinstance(p, MACrossoverParams)
        fast = averages.setdefault((p.ma_kind, p.fast_window), len(averages))
        slow = averages.setdefault((p.ma_kind, p.slow_window), len(averages))
        key = _sizing_key(p)
        if key not in sizes:
            sizes[key] = len(size_arrays)
            size_arrays.append(position_size(bars.close, p, sizing))
        trials.append((fast, slow, sizes[key], int(p.allow_short)))
    stacked = [(ema if kind == "ema" else sma)(bars.close, w) for kind, w in averages]
    return np.stack(stacked), np.stack(size_arrays), np.array(trials, dtype=np.int64)


@pytest.mark.parametrize("markets", [("ES",), ("ES", "CL")])
def test_crossover_plan_equals_building_every_set_alone(markets: tuple[str, ...]) -> None:
    bars = walk_bars(400, seed=31, markets=markets)
    rng = np.random.default_rng(5)
    params: list[BaseModel] = [
        MACrossoverParams(
            fast_window=int(f),
            slow_window=int(s),
            ma_kind=str(kind),
            allow_short=bool(short),
            sizing=str(sizing),
            contracts=int(contracts),
            target_vol=float(vol),
            vol_window=int(window),
        )
        for f, s, kind, short, sizing, contracts, vol, window in zip(
            rng.integers(1, 30, 60),
            rng.integers(31, 90, 60),
            rng.choice(["sma", "ema"], 60),
            rng.integers(0, 2, 60),
            rng.choice(["fixed", "vol_target"], 60),
            rng.integers(1, 4, 60),
            rng.choice([0.1, 0.2], 60),
            rng.choice([20, 25], 60),
            strict=True,
        )
    ]
    sizing = _sizing(bars)
    plan = MACrossover().batch_plan(bars, params, sizing)
    assert plan is not None
    averages, sizes, trials = _plan_one_by_one(bars, params, sizing)
    assert np.array_equal(plan.averages, averages, equal_nan=True)
    assert np.array_equal(plan.sizes, sizes, equal_nan=True)
    assert np.array_equal(plan.trials, trials)
    same = [MACrossoverParams(fast_window=f, slow_window=40) for f in (3, 5, 3)]
    one = MACrossover().batch_plan(bars, same, sizing)  # one sizing shared: the count path
    assert one is not None
    assert one.sizes.shape[0] == 1
    assert one.trials[:, :2].tolist() == [[0, 1], [2, 1], [0, 1]]


def test_gapless_rolling_mean_equals_the_indicator_kernel() -> None:
    from contango.engine.kernels.crossover_plan_nb import rolling_mean_gapless_nb
    from contango.engine.kernels.indicators_nb import rolling_mean_nb

    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 300):
        for scale in (1e-3, 4_000.0, 1e9):
            x = scale + np.cumsum(rng.normal(0.0, scale * 0.01, n))
            x[rng.random(n) < 0.1] *= -1.0  # signs flip: both branches of the compensation
            for window in (*range(1, 40), n, n + 1):
                out = np.empty(n)
                rolling_mean_gapless_nb(x, window, out)
                assert np.array_equal(out, rolling_mean_nb(x, window), equal_nan=True)


def test_sweep_drawdown_equals_numpy_on_hard_curves() -> None:
    # Only each stretch's trough below a peak is measured, and only when it may be a new
    # worst: ties, flat stretches, near-peak values a rounding apart, drawdowns within 1e-12
    # of 100% and a last bar below zero must still give NumPy's max(1 - equity / peak).
    rng = np.random.default_rng(23)
    curves: list[F64] = []
    for n in (2, 3, 9, 130, 600):
        walk = np.asarray(1e6 * np.cumprod(1.0 + rng.normal(0.0, 0.02, n)), dtype=np.float64)
        plateaus = np.round(walk / 5e4) * 5e4  # flat stretches and exact ties with the peak
        rounding = 1e6 * (1.0 + rng.integers(-2, 3, n) * 2.0**-52)  # a rounding apart
        curves += [
            walk,
            np.asarray(plateaus, dtype=np.float64),
            np.asarray(rounding, dtype=np.float64),
        ]
    deep = np.array([1e6, 2e6, 2e6 * 1e-13, 3e-7, 1.5e6, 2.5e6, 2.5e6 * (1 - 1e-15), 1.0])
    curves += [deep, np.append(deep, -5.0), np.append(walk, 0.0)]
    for equity in curves:
        assert _kernel_drawdown(equity) == _numpy_drawdown(equity), equity


def _kernel_drawdown(equity: F64) -> float:
    """The sweep kernel's maximum drawdown of ``equity`` (its metrics of that curve)."""
    from contango.engine.kernels import sweep_metrics_nb as smt
    from contango.engine.kernels.sweep_stats_nb import block_plan_nb

    n = equity.shape[0]
    plans = smt.trial_plans_nb(n)
    out = np.empty(smt.N_METRICS)
    no_blocks = block_plan_nb(np.empty(0, dtype=np.int64))
    smt.trial_metrics_nb(
        252.0, n / 252.0, float(equity[0]), np.empty(n), equity, np.empty(n),
        np.empty((smt.WORK_ROWS, smt.work_width_nb(plans))), plans, np.zeros(smt.N_SLOTS),
        0, out, no_blocks, np.empty(0), np.empty(0), np.empty(0),
    )  # fmt: skip
    return float(out[smt.MAX_DRAWDOWN])


def _numpy_drawdown(equity: F64) -> float:
    return float(np.max(1.0 - equity / np.maximum.accumulate(equity)))


@st.composite
def _drawdown_curve(draw: st.DrawFn) -> F64:
    """Curves made of stretches that exercise each way the kernel walks 8 bars at a time:
    climbs to new peaks (steep or a rounding apart), plateaus at the peak, dips shallower
    and deeper than the worst so far, lone spikes; the last value sometimes zero or below."""
    level = draw(st.floats(1e3, 1e7))
    values: list[float] = [level]
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.sampled_from(["climb", "ulps", "plateau", "dip", "spike", "noise"]))
        length = draw(st.integers(1, 24))
        size = draw(st.floats(1e-6, 0.6))
        for i in range(length):
            if kind == "climb":
                level *= 1.0 + size / length
            elif kind == "ulps":
                level = math.nextafter(level, math.inf if i % 3 else -math.inf)
            elif kind == "dip":
                level *= 1.0 - size / length
            elif kind == "spike":
                values.append(level * (1.0 + size) if i % 2 else level * (1.0 - size))
                continue
            elif kind == "noise":
                level *= 1.0 + draw(st.floats(-size, size)) / 10.0
            values.append(level)
    if draw(st.booleans()):
        values[-1] = draw(st.sampled_from([0.0, -5.0, values[-1] * 1e-14]))
    return np.asarray(values, dtype=np.float64)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(equity=_drawdown_curve())
def test_sweep_drawdown_equals_numpy_on_any_curve(equity: F64) -> None:
    # Runs of 8 bars are skipped or walked bar by bar; either way the figure is NumPy's.
    assert _kernel_drawdown(equity) == _numpy_drawdown(equity)
