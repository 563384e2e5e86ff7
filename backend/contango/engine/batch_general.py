"""Sweeps through the general engine: every trial a full :func:`run_backtest`.

The fused kernel of :mod:`contango.engine.batch` covers the common case; configurations it
cannot run (actual contracts, FX, ...) come here, one backtest per parameter set (in a pool of
fresh processes when asked), laid out as the fused kernel lays out its results, so that the
rest of a sweep cannot tell which path ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from contango.engine.bars import Bars, ContractPanel
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.kernels import sweep_metrics_nb as smt
from contango.engine.kernels import sweep_stats_nb as sst
from contango.engine.metrics import (
    EquityCurve,
    compute_metrics,
    traded_notional_from_fills,
    trades_from_records,
)
from contango.engine.run import run_backtest
from contango.engine.strategy import VectorStrategy

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# The column of each headline metric in the sweep's (k, N_METRICS) metrics array.
METRIC_COLUMNS = {
    "total_return": smt.TOTAL_RETURN,
    "cagr": smt.CAGR,
    "annual_volatility": smt.ANNUAL_VOLATILITY,
    "sharpe": smt.SHARPE,
    "sortino": smt.SORTINO,
    "calmar": smt.CALMAR,
    "max_drawdown": smt.MAX_DRAWDOWN,
    "win_rate": smt.WIN_RATE,
    "profit_factor": smt.PROFIT_FACTOR,
    "turnover": smt.TURNOVER,
    "exposure": smt.EXPOSURE,
}


class _Trial:
    """One trial through the general engine (a picklable callable for the process pool)."""

    def __init__(
        self,
        bars: Bars,
        *,
        specs: Sequence[MarketSpec],
        strategy: VectorStrategy,
        config: SimulationConfig,
        contracts: ContractPanel | None,
        fx: Mapping[str, F64] | None,
    ) -> None:
        self.bars, self.specs, self.strategy, self.config = bars, list(specs), strategy, config
        self.contracts, self.fx = contracts, fx

    def __call__(self, params: BaseModel) -> tuple[F64, F64]:
        """The trial's returns row and metrics row, as the fused kernel lays them out."""
        bars, config = self.bars, self.config
        result = run_backtest(
            bars, self.specs, strategy=self.strategy, params=params, config=config,
            contracts=self.contracts, fx=self.fx,
        )  # fmt: skip
        point_value = np.array([s.point_value for s in self.specs])
        curve = EquityCurve(
            ts=result.ts,
            equity=result.equity,
            traded_notional=traded_notional_from_fills(result.fills, point_value, bars.n_bars),
            gross_exposure=result.exposure,
        )
        figures = compute_metrics(curve, trades_from_records(result.trades), result.markets)
        row = np.empty(bars.n_bars)
        previous = np.concatenate(([config.capital], result.equity[:-1]))
        with np.errstate(divide="ignore", invalid="ignore"):
            row[:] = np.where(previous > 0, result.equity / previous - 1.0, np.nan)
        values = np.empty(smt.N_METRICS)
        for name, column in METRIC_COLUMNS.items():
            values[column] = getattr(figures, name)
        values[smt.EQUITY_END] = result.equity[-1]
        values[smt.N_TRADES] = figures.n_trades
        return row, values


def run_general(
    bars: Bars,
    *,
    specs: Sequence[MarketSpec],
    strategy: VectorStrategy,
    params_list: Sequence[BaseModel],
    config: SimulationConfig,
    workers: int | None,
    progress: Callable[[int, int], None] | None,  # (trials done, trials in all)
    contracts: ContractPanel | None,
    fx: Mapping[str, F64] | None,
    return_blocks: I64 | None = None,
) -> tuple[F64, F64, sst.Blocks]:
    """Every trial through ``run_backtest``; a spawned process pool when ``workers > 1``.
    Returns as :func:`run_fused`; the return statistics are taken from each trial's row."""
    k = len(params_list)
    returns = np.empty((k, bars.n_bars))
    metrics = np.empty((k, smt.N_METRICS))
    blocks = sst.new_blocks(k, return_blocks)
    trial = _Trial(bars, specs=specs, strategy=strategy, config=config, contracts=contracts, fx=fx)
    if workers is None or workers == 1:
        outcomes: Iterator[tuple[F64, F64]] = map(trial, params_list)
        for i, (row, values) in enumerate(outcomes):
            returns[i], metrics[i] = row, values
            if progress is not None:
                progress(i + 1, k)
        sst.rows_stats_nb(returns, blocks.starts, blocks.moments, blocks.sums, blocks.squares)
        return returns, metrics, blocks
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: forking a process whose numba threads are running is unsafe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        chunk = max(1, k // (4 * workers))
        for i, (row, values) in enumerate(pool.map(trial, params_list, chunksize=chunk)):
            returns[i], metrics[i] = row, values
            if progress is not None:
                progress(i + 1, k)
    sst.rows_stats_nb(returns, blocks.starts, blocks.moments, blocks.sums, blocks.squares)
    return returns, metrics, blocks
