"""Parameter sweeps: one strategy, many parameter sets, one market panel, one account config.

``run_sweep`` runs every parameter set as its own backtest and returns what a ranked table and
the overfitting diagnostics (PBO, deflated Sharpe) need: each trial's bar returns and its
headline metrics, computed as :func:`contango.engine.metrics.compute_metrics` computes them for
a single run (risk-free rate 0, periods per year inferred from the timestamps).

Exactness: on the fused path each trial's equity, hence its returns, is bit-identical to
``run_backtest``'s; return moments (Sharpe, Sortino, volatility), drawdown and mean equity
are summed in NumPy's order and match ``compute_metrics`` bit for bit; trade statistics and
turnover add in fill order and agree to ~1e-15 relative.

Given ``return_blocks``, the sweep also gathers each trial's return statistics for the
overfitting diagnostics (``kernels/sweep_stats_nb.py``) while its returns are at hand, so they
need not be read back from the whole returns matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from contango.engine.bars import Bars, ContractPanel
from contango.engine.batch_general import METRIC_COLUMNS, run_general
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.inputs import build_data, build_markets
from contango.engine.kernels import sweep_metrics_nb as smt
from contango.engine.kernels import sweep_nb as snb
from contango.engine.kernels import sweep_stats_nb as sst
from contango.engine.metrics import years_between
from contango.engine.run import check_targets, sizing_context, strategy_targets
from contango.engine.strategy import SizingContext, VectorStrategy
from contango.engine.templates.ma_crossover import MACrossover

if TYPE_CHECKING:  # pyarrow loads on first use: a sweep alone never needs it
    import pyarrow as pa

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Progress = Callable[[int, int], None]

METRIC_NAMES: tuple[str, ...] = (
    "total_return",
    "cagr",
    "annual_volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "win_rate",
    "profit_factor",
    "turnover",
    "exposure",
)

_CHUNK_BYTES = 16 * 2**20  # target arrays of strategies without a batch plan, per chunk
_PLAN_CHUNK = 2048  # trials per kernel call when the plan builds targets (progress steps)
_TASKS_PER_CHUNK = 2  # kernel tasks (of snb.TRIALS_PER_TASK trials) a thread takes at a time


@dataclass(frozen=True, kw_only=True, eq=False)
class SweepResult:
    """Per-trial results of a sweep; trial ``i`` ran ``params[i]``.

    ``returns[:, i]`` are trial ``i``'s simple returns per bar: row 0 is the first close's
    equity over the starting capital, row ``t`` is ``equity[t] / equity[t-1] - 1`` (NaN after
    the account was wiped out). The metrics follow ``compute_metrics``, whose curve starts at
    the first close, so they use rows ``1:``. ``returns`` is Fortran-ordered: a trial's column
    is contiguous. A sweep run with ``keep_returns=False`` has none (each trial's row is
    measured and dropped): 1,590 trials of 10 years of daily bars are 32 MB.
    """

    params: tuple[BaseModel, ...]
    ts: I64  # (n_bars,) int64 ns UTC
    returns: F64 | None = None  # (n_bars, k); None when the sweep was told not to keep them
    equity_end: F64  # (k,)
    total_return: F64
    cagr: F64
    annual_volatility: F64
    sharpe: F64
    sortino: F64
    calmar: F64
    max_drawdown: F64
    n_trades: I64  # closed trades
    win_rate: F64
    profit_factor: F64
    turnover: F64  # traded notional / average equity, per year
    exposure: F64  # share of bars with a position on
    periods_per_year: float
    fast_path: bool  # True when the fused sweep kernel ran, False for the per-trial engine
    # With ``return_blocks`` (see ``run_sweep``), per trial: count of finite returns, their
    # mean, sum of squared deviations, sum of squares (k, 4); per block sums and sums of
    # squares (k, S). Of ``returns[1:]``, non-finite returns counting as 0.
    return_moments: F64 | None = None
    block_sums: F64 | None = None
    block_squares: F64 | None = None

    @property
    def n_trials(self) -> int:
        """Number of parameter sets."""
        return len(self.params)

    def table(self) -> pa.Table:
        """One row per trial: ``trial``, the parameters flattened, then the metrics."""
        import pyarrow as pa  # loaded on first use

        columns: dict[str, Any] = {"trial": np.arange(self.n_trials, dtype=np.int64)}
        dumps = [p.model_dump(mode="json") for p in self.params]
        names = list(dumps[0]) if dumps else []
        for name in names:
            columns[name] = [d.get(name) for d in dumps]
        columns["equity_end"] = self.equity_end
        for name in METRIC_NAMES:
            columns[name] = getattr(self, name)
        columns["n_trades"] = self.n_trades
        return pa.table(columns)


def fast_path_blocker(config: SimulationConfig, specs: Sequence[MarketSpec]) -> str | None:
    """Why the fused kernel cannot run this configuration, or ``None`` when it can."""
    reasons = {
        "contract_mode 'contracts' (rolls, expiries)": config.contract_mode != "continuous",
        "order_size 'delta'": config.order_size != "target",
        "a participation cap": config.participation is not None,
        "ATR slippage": config.slippage_atr != 0.0,
        "markets in another currency (FX)": any(
            s.currency != config.account_currency for s in specs
        ),
    }
    found = [name for name, present in reasons.items() if present]
    return ", ".join(found) if found else None


def run_sweep(
    bars: Bars,
    specs: Sequence[MarketSpec],
    *,
    strategy: VectorStrategy,
    params_list: Sequence[BaseModel],
    config: SimulationConfig,
    workers: int | None = None,
    progress: Progress | None = None,
    contracts: ContractPanel | None = None,
    fx: Mapping[str, F64] | None = None,
    return_blocks: I64 | None = None,
    keep_returns: bool = True,
) -> SweepResult:
    """Backtest ``strategy`` once per parameter set in ``params_list``.

    The fused kernel (``kernels/sweep_nb.py``) runs every configuration it reproduces bit for
    bit: continuous contracts, target positions filled at the open ``fill_delay`` bars later
    or at the signal bar's close, fees, slippage in ticks, max contracts, leverage and margin
    limits, margin calls and interest, all markets in the account currency. The moving-average
    crossover builds every trial's targets inside the kernel from moving averages computed
    once per window (``MACrossover.batch_plan``); other strategies' targets are computed per
    parameter set, then simulated together. Anything else (actual contracts with rolls,
    participation caps, ATR slippage, FX, ``order_size='delta'``) falls back to
    :func:`~contango.engine.run.run_backtest` per trial, in a pool of ``workers`` processes
    when ``workers > 1``; ``contracts`` and ``fx`` are only used by that path.

    ``workers`` caps the threads (fast path) or processes (fallback); the result does not
    depend on it. ``progress(done, total)`` is called as trials finish.

    ``return_blocks`` (``S + 1`` increasing row numbers, ``0`` first and ``n_bars - 1`` last)
    cuts the rows of ``returns[1:]`` into blocks ``[starts[b], starts[b + 1])``; given, the
    result carries each trial's return moments and per-block sums and sums of squares
    (``kernels/sweep_stats_nb.py`` says exactly how they are added up).

    ``keep_returns=False`` leaves ``returns`` out of the result (the metrics and statistics
    are the same): what the overfitting diagnostics need is in the statistics, and a chosen
    trial's returns are one more backtest away.
    """
    k = len(params_list)
    if k == 0:
        raise ValueError("params_list is empty: a sweep needs at least one parameter set")
    if bars.n_bars < 2:
        raise ValueError(f"a sweep needs at least 2 bars to measure returns, got {bars.n_bars}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    starts = None if return_blocks is None else checked_blocks(return_blocks, bars.n_bars)
    blocker = fast_path_blocker(config, specs)
    if blocker is None:
        returns, metrics, stats = run_fused(
            bars, specs=specs, strategy=strategy, params_list=params_list, config=config,
            workers=workers, progress=progress, return_blocks=starts, keep_returns=keep_returns,
        )  # fmt: skip
    else:
        returns, metrics, stats = run_general(
            bars, specs=specs, strategy=strategy, params_list=params_list, config=config,
            workers=workers, progress=progress, contracts=contracts, fx=fx,
            return_blocks=starts,
        )  # fmt: skip
    years = years_between(np.asarray(bars.ts, dtype=np.int64))
    figures = {
        name: np.ascontiguousarray(metrics[:, METRIC_COLUMNS[name]]) for name in METRIC_NAMES
    }
    return SweepResult(
        params=tuple(params_list),
        ts=np.asarray(bars.ts, dtype=np.int64),
        returns=returns.T if keep_returns else None,
        equity_end=np.ascontiguousarray(metrics[:, smt.EQUITY_END]),
        n_trades=metrics[:, smt.N_TRADES].astype(np.int64),
        periods_per_year=(bars.n_bars - 1) / years,
        fast_path=blocker is None,
        return_moments=None if starts is None else stats.moments,
        block_sums=None if starts is None else stats.sums,
        block_squares=None if starts is None else stats.squares,
        **figures,
    )


def checked_blocks(return_blocks: I64, n_bars: int) -> I64:
    """``return_blocks`` as int64 after checking they cut ``returns[1:]`` into blocks."""
    starts = np.ascontiguousarray(return_blocks, dtype=np.int64)
    if starts.ndim != 1 or starts.shape[0] < 2:
        raise ValueError("return_blocks must be 1-D with at least 2 boundaries (1 block)")
    if starts[0] != 0 or starts[-1] != n_bars - 1:
        raise ValueError(
            f"return_blocks must run from 0 to n_bars - 1 = {n_bars - 1}, "
            f"got {starts[0]} .. {starts[-1]}"
        )
    if np.any(np.diff(starts) < 0):
        raise ValueError("return_blocks must be increasing")
    return starts


@contextmanager
def _threads(workers: int | None) -> Iterator[None]:
    """Run numba's parallel loops on at most ``workers`` threads, handing out trials in small
    chunks (trials differ in cost: a fast average trades far more often, and equal static
    halves would leave one thread idle), then restore both settings."""
    import numba

    before = numba.get_num_threads()
    chunk_before = numba.get_parallel_chunksize()
    if workers is not None:
        most = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
        numba.set_num_threads(min(workers, most))
    numba.set_parallel_chunksize(_TASKS_PER_CHUNK)
    try:
        yield
    finally:
        numba.set_parallel_chunksize(chunk_before)
        numba.set_num_threads(before)


def _kernel_inputs(
    bars: Bars, specs: Sequence[MarketSpec], config: SimulationConfig
) -> tuple[snb.SweepData, snb.SweepMarkets, snb.SweepParams, SizingContext]:
    """Validated kernel inputs (the single-run checks) and what strategies size with."""
    data = build_data(bars, specs, config)
    mk = build_markets(bars, specs, config)
    years = years_between(data.ts)
    par = snb.SweepParams(
        capital=float(config.capital),
        fill_delay=int(config.fill_delay),
        reject_orders=config.order_limits == "reject",
        max_leverage=float(np.inf if config.max_leverage is None else config.max_leverage),
        margin_cap=float(config.margin_cap),
        interest_rate=float(config.interest_rate),
        liquidate_all=config.margin_call.action == "liquidate_all",
        liquidate_at_close=config.margin_call.at == "close",
        periods_per_year=(data.ts.shape[0] - 1) / years,
        years=years,
    )
    markets = snb.SweepMarkets(
        point_value=mk.point_value,
        slippage=float(config.slippage_ticks) * mk.tick_size,
        fee=mk.fee,
        initial_margin=mk.initial_margin,
        maintenance_margin=mk.maintenance_margin,
        max_contracts=mk.max_contracts,
    )
    sweep_data = snb.SweepData(open=data.open, close=data.close, days=data.days)
    return sweep_data, markets, par, sizing_context(data, mk, config.capital)


def _checked_targets(targets: F64, bars: Bars, trial: int) -> F64:
    """:func:`~contango.engine.run.check_targets`, its error naming the trial."""
    try:
        return check_targets(targets, bars)
    except ValueError as exc:
        raise ValueError(f"trial {trial}: {exc}") from exc


def run_fused(
    bars: Bars,
    *,
    specs: Sequence[MarketSpec],
    strategy: VectorStrategy,
    params_list: Sequence[BaseModel],
    config: SimulationConfig,
    workers: int | None,
    progress: Progress | None,
    return_blocks: I64 | None = None,
    keep_returns: bool = True,
) -> tuple[F64, F64, sst.Blocks]:
    """Every trial through the fused kernel: returns ``(k, n)`` (``(0, n)`` when not kept:
    each trial's row then lives in its task's scratch), metrics ``(k, N_METRICS)`` and the
    return statistics (``(k, 0)`` arrays without ``return_blocks``, checked)."""
    data, mk, par, sizing = _kernel_inputs(bars, specs, config)
    k, n, m = len(params_list), bars.n_bars, bars.n_markets
    returns = np.empty((k if keep_returns else 0, n))
    metrics = np.empty((k, smt.N_METRICS))
    blocks = sst.new_blocks(k, return_blocks)
    plans = smt.trial_plans_nb(n)
    plan = (
        strategy.batch_plan(bars, params_list, sizing)
        if isinstance(strategy, MACrossover)
        else None
    )
    chunk = _PLAN_CHUNK if plan is not None else max(1, _CHUNK_BYTES // (8 * n * m))
    with _threads(workers):
        for lo in range(0, k, chunk):
            hi = min(lo + chunk, k)
            if plan is not None:
                snb.sweep_crossover_nb(
                    data, mk, par, plans, plan.averages, plan.sizes, plan.trials[lo:hi],
                    returns[lo:hi], metrics[lo:hi], sst.blocks_slice(blocks, lo, hi),
                )  # fmt: skip
            else:
                targets = np.empty((hi - lo, n, m))
                for i in range(lo, hi):
                    raw = strategy_targets(strategy, bars, params_list[i], sizing)
                    targets[i - lo] = _checked_targets(raw, bars, i)
                snb.sweep_targets_nb(
                    data, mk, par, plans, targets, returns[lo:hi], metrics[lo:hi],
                    sst.blocks_slice(blocks, lo, hi),
                )  # fmt: skip
            if progress is not None:
                progress(hi, k)
    return returns, metrics, blocks
