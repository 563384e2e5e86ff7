"""Return statistics gathered by the sweep: bit for bit what the research layer reads back.

``run_sweep(..., return_blocks=starts)`` must give, per trial, exactly the moments and block
sums that ``contango.research.return_stats_nb.column_stats_nb`` computes from the finished
sweep's ``returns[1:]``: on the fused kernel (finite returns and a wiped-out account), on the
per-trial engine, for any block layout (one block, many, empty ones).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from test_engine_batch import CL, ES, _Fixed, crossover_grid, walk_bars

from contango.engine.bars import Bars
from contango.engine.batch import SweepResult, run_sweep
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.kernels.sweep_stats_nb import N_MOMENTS, rows_stats_nb
from contango.engine.strategy import VectorStrategy
from contango.engine.templates import (
    DonchianBreakout,
    DonchianBreakoutParams,
    MACrossover,
    MACrossoverParams,
)
from contango.research.return_stats_nb import column_stats_nb

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def layouts(rows: int) -> list[I64]:
    """Block boundaries over ``rows`` returns: one block, 16 even ones, uneven ones with
    empty blocks (a repeated boundary), blocks of one row."""
    found = [
        np.array([0, rows]),
        np.linspace(0, rows, 17).astype(np.int64),
        np.array([0, 0, 1, 1, rows // 3, rows - 1, rows, rows]),
        np.arange(rows + 1),
    ]
    return [np.asarray(s, dtype=np.int64) for s in found]


def assert_column_stats(result: SweepResult, starts: I64) -> None:
    """The sweep's statistics equal ``column_stats_nb`` of its returns, bit for bit."""
    count, mean, deviations, squares, sums, block_squares = column_stats_nb(
        result.returns[1:], starts
    )
    moments, got_sums, got_squares = result.return_moments, result.block_sums, result.block_squares
    assert moments is not None
    assert got_sums is not None
    assert got_squares is not None
    assert moments.shape == (result.n_trials, N_MOMENTS)
    for column, want in enumerate((count, mean, deviations, squares)):
        assert np.array_equal(moments[:, column], want, equal_nan=True), column
    assert np.array_equal(got_sums, sums.T)
    assert np.array_equal(got_squares, block_squares.T)


def sweep_all_layouts(
    bars: Bars,
    specs: list[MarketSpec],
    strategy: VectorStrategy,
    params: list[BaseModel],
    config: SimulationConfig,
) -> SweepResult:
    """Every layout gives ``column_stats_nb``'s figures and leaves the sweep as it was."""
    plain = run_sweep(bars, specs, strategy=strategy, params_list=params, config=config)
    assert plain.return_moments is None
    assert plain.block_sums is None
    assert plain.block_squares is None
    for starts in layouts(bars.n_bars - 1):
        result = run_sweep(
            bars, specs, strategy=strategy, params_list=params, config=config, return_blocks=starts
        )
        assert_column_stats(result, starts)
        assert np.array_equal(result.returns, plain.returns, equal_nan=True)
        assert np.array_equal(result.sharpe, plain.sharpe, equal_nan=True)
        assert result.table().column_names == plain.table().column_names
        assert_same_without_returns(result, bars, specs, strategy, params, config, starts)
    return plain


def assert_same_without_returns(
    kept: SweepResult,
    bars: Bars,
    specs: list[MarketSpec],
    strategy: VectorStrategy,
    params: list[BaseModel],
    config: SimulationConfig,
    starts: I64,
) -> None:
    """A sweep that keeps no returns measures every trial exactly as one that keeps them."""
    dropped = run_sweep(
        bars, specs, strategy=strategy, params_list=params, config=config, return_blocks=starts,
        keep_returns=False,
    )  # fmt: skip
    assert dropped.returns is None
    for field in dataclasses.fields(SweepResult):
        if field.name in ("params", "returns"):
            continue
        want, got = getattr(kept, field.name), getattr(dropped, field.name)
        if isinstance(want, np.ndarray):
            assert np.array_equal(got, want, equal_nan=True), field.name
        else:
            assert got == want, field.name


def test_fused_crossover_sweep_gathers_the_statistics_of_its_returns() -> None:
    bars = walk_bars(300, seed=11)
    params = crossover_grid(sizing="fixed", contracts=4)
    params += crossover_grid(sizing="vol_target", allow_short=False, ma_kind="ema")
    plain = sweep_all_layouts(bars, [ES], MACrossover(), params, SimulationConfig())
    assert plain.fast_path


def test_wiped_out_account_counts_only_finite_returns_and_zeros_in_blocks() -> None:
    # 40 ES contracts on $100,000 without margin: a 50-point fall takes equity to 0, so the
    # next return is NaN (counted out of the moments, as 0 in the block sums); the account
    # then recovers and returns are finite again.
    closes = np.array([4000.0, 4000.0, 3990.0, 3960.0, 3950.0, 3955.0, 3960.0, 3970.0])
    bars = Bars(
        ts=walk_bars(8, seed=1).ts,
        markets=("ES",),
        open=closes[:, None],
        high=closes[:, None],
        low=closes[:, None],
        close=closes[:, None],
        volume=np.full((8, 1), 1e5),
    )
    spec = MarketSpec(name="ES", point_value=50.0, tick_size=0.25)
    targets = np.full((8, 1), np.nan)
    targets[0] = 40.0
    strategy = _Fixed(targets)
    config = SimulationConfig(capital=100_000.0)
    plain = sweep_all_layouts(bars, [spec], strategy, [_Fixed.Params()], config)
    assert np.isnan(plain.returns[:, 0]).tolist() == [False] * 5 + [True] + [False] * 2
    assert plain.fast_path
    starts = np.array([0, 3, 7])
    result = run_sweep(
        bars, [spec], strategy=strategy, params_list=[_Fixed.Params()], config=config,
        return_blocks=starts,
    )  # fmt: skip
    assert result.return_moments is not None
    assert result.return_moments[0, 0] == 6.0  # bars 1..7 but bar 5 have a finite return


def test_random_wipe_outs_in_a_crossover_sweep() -> None:
    bars = walk_bars(260, seed=5)
    spec = MarketSpec(name="ES", point_value=50.0, tick_size=0.25)
    params: list[BaseModel] = [
        MACrossoverParams(fast_window=f, slow_window=s, sizing="fixed", contracts=c)
        for f, s in ((2, 9), (3, 20), (5, 9))
        for c in (40, 120)
    ]
    plain = sweep_all_layouts(bars, [spec], MACrossover(), params, SimulationConfig(capital=1e5))
    assert np.isnan(plain.returns).any(axis=0).sum() >= 2, "some accounts must be wiped out"


def test_multi_market_and_per_trial_targets_paths() -> None:
    bars = walk_bars(220, seed=8, markets=("ES", "CL"))
    config = SimulationConfig(capital=300_000.0, slippage_ticks=1.0)
    sweep_all_layouts(bars, [ES, CL], MACrossover(), crossover_grid(contracts=5), config)
    donchian: list[BaseModel] = [
        DonchianBreakoutParams(entry_window=e, exit_window=x) for e, x in ((20, 10), (10, 5))
    ]
    sweep_all_layouts(bars, [ES, CL], DonchianBreakout(), donchian, config)


def test_general_engine_path_gathers_the_same_statistics() -> None:
    bars = walk_bars(150, seed=2)
    config = SimulationConfig(participation=0.5, capital=100_000.0)
    params = crossover_grid(sizing="fixed", contracts=30)[:3]
    plain = sweep_all_layouts(bars, [ES], MACrossover(), params, config)
    assert not plain.fast_path


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(1, 300),
    cuts=st.lists(st.floats(0.0, 1.0), max_size=20),
    nan_share=st.sampled_from([0.0, 0.05, 0.5, 1.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_row_statistics_equal_column_stats_bit_for_bit(
    rows: int, cuts: list[float], nan_share: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    trials = 5
    returns = rng.normal(0.0, 0.01, (trials, rows + 1)) * 10.0 ** rng.uniform(-3, 3, (trials, 1))
    returns[rng.random(returns.shape) < nan_share] = np.nan
    returns[0, 1:] = np.inf if rows % 2 else -np.inf  # non-finite, not only NaN
    starts = np.sort(np.array([0, rows, *(round(c * rows) for c in cuts)], dtype=np.int64))
    n_blocks = starts.shape[0] - 1
    moments = np.empty((trials, N_MOMENTS))
    sums, squares = np.empty((trials, n_blocks)), np.empty((trials, n_blocks))
    rows_stats_nb(returns, starts, moments, sums, squares)
    want = column_stats_nb(np.asfortranarray(returns.T[1:]), starts)
    for column in range(N_MOMENTS):
        assert np.array_equal(moments[:, column], want[column], equal_nan=True), column
    assert np.array_equal(sums, want[4].T)
    assert np.array_equal(squares, want[5].T)


def test_bad_return_blocks_say_what_is_wrong() -> None:
    bars = walk_bars(40, seed=1)
    kwargs = {
        "strategy": MACrossover(),
        "params_list": crossover_grid()[:1],
        "config": SimulationConfig(),
    }
    with pytest.raises(ValueError, match="at least 2 boundaries"):
        run_sweep(bars, [ES], return_blocks=np.array([0]), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="from 0 to n_bars - 1 = 39"):
        run_sweep(bars, [ES], return_blocks=np.array([0, 40]), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="increasing"):
        run_sweep(bars, [ES], return_blocks=np.array([0, 20, 10, 39]), **kwargs)  # type: ignore[arg-type]
