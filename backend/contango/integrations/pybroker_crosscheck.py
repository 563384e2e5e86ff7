"""Cross-check: the moving-average crossover in Contango's engine and in PyBroker, reconciled.

Both engines run the same rule (long ``contracts`` while the fast simple average of the close
is above the slow one; short, or flat when shorts are off, while below; flat on a tie) with
fills at the next bar's open, per-contract fees, no slippage and enough capital that neither
margin (Contango) nor cash (PyBroker) ever trims an order. PyBroker computes its averages itself
from the prices it is given; nothing but the bars is shared.

Reconciled differences (see :mod:`~contango.integrations.pybroker_results`): PyBroker's
``market_value`` is compared with Contango's equity, its trade P&L is taken before fees and its
MAE/MFE per contract, and only closed trades are compared; the position still open at the end
is compared bar by bar through the positions and the equity curve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel

from contango.domain.rolls import Adjustment, RollRule
from contango.engine.bars import Bars
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.metrics import (
    EquityCurve,
    PerformanceMetrics,
    compute_metrics,
    traded_notional_from_fills,
    trades_from_records,
)
from contango.engine.result import BacktestResult
from contango.engine.run import run_backtest
from contango.engine.templates.ma_crossover import MACrossover, MACrossoverParams
from contango.integrations.pybroker_bridge import (
    PointValueScaling,
    auto_price_offset,
    equivalent_config,
    isolated_scope,
    pybroker_frame,
)
from contango.integrations.pybroker_bridge import pybroker as _pybroker
from contango.integrations.pybroker_results import PyBrokerOutcome, outcome_from_test_result
from contango.integrations.pybroker_source import ContangoDataSource, registry_market

F64 = npt.NDArray[np.float64]
CENT = 0.005  # "agrees to the cent": differences below half a cent
_COMPARED_FIELDS = ("entry_price", "exit_price", "pnl_gross", "fees", "pnl_net", "mae", "mfe")
_HEADLINE_METRICS = (
    "end_equity",
    "total_return",
    "sharpe",
    "max_drawdown",
    "n_trades",
    "win_rate",
    "profit_factor",
    "turnover",
    "exposure",
)


def ma_crossover_execution(params: MACrossoverParams) -> Callable[[Any], None]:
    """PyBroker execution function of the crossover with a fixed size in contracts."""
    if params.sizing != "fixed" or params.ma_kind != "sma" or params.rebalance_buffer != 0:
        raise ValueError(
            "the PyBroker crossover reproduces sizing='fixed', ma_kind='sma' and "
            f"rebalance_buffer=0 only, got sizing={params.sizing!r}, "
            f"ma_kind={params.ma_kind!r}, rebalance_buffer={params.rebalance_buffer}"
        )
    fast, slow, size = params.fast_window, params.slow_window, params.contracts
    open_price = _pybroker.common.PriceType.OPEN

    def execute(ctx: Any) -> None:
        close = ctx.close
        if close.shape[0] < slow:
            return
        gap = close[-fast:].mean() - close[-slow:].mean()
        target = size if gap > 0 else (-size if gap < 0 and params.allow_short else 0)
        long, short = ctx.long_pos(), ctx.short_pos()
        held = (int(long.shares) if long else 0) - (int(short.shares) if short else 0)
        if target > held:
            ctx.buy_shares, ctx.buy_fill_price = target - held, open_price
        elif target < held:
            ctx.sell_shares, ctx.sell_fill_price = held - target, open_price

    return execute


@dataclass(frozen=True, kw_only=True, eq=False)
class Reconciliation:
    """Contango's run and PyBroker's run side by side, with their largest differences."""

    contango: BacktestResult
    pybroker: PyBrokerOutcome
    contango_trades: pd.DataFrame  # closed trades
    pybroker_trades: pd.DataFrame
    contango_metrics: PerformanceMetrics
    pybroker_metrics: PerformanceMetrics

    def mismatches(self, tolerance: float = CENT) -> list[str]:
        """What disagrees, in words; empty when the runs agree to ``tolerance`` (currency)."""
        ours, theirs = self.contango_trades, self.pybroker_trades
        problems: list[str] = []
        if len(ours) != len(theirs):
            return [f"closed trades: Contango {len(ours)}, PyBroker {len(theirs)}"]
        for column in ("entry_ts", "exit_ts", "direction", "quantity"):
            differs = np.flatnonzero(ours[column].to_numpy() != theirs[column].to_numpy())
            if differs.size:
                problems.append(f"trade {int(differs[0])}: {column} differs")
        for column in _COMPARED_FIELDS:
            gap = np.abs(ours[column].to_numpy() - theirs[column].to_numpy())
            if gap.size and gap.max() >= tolerance:
                problems.append(f"{column}: largest difference {gap.max():.6f}")
        if not np.array_equal(self.contango.ts, self.pybroker.ts):
            problems.append("the runs marked equity on different bars")
        elif self.largest_equity_difference() >= tolerance:
            problems.append(f"equity: largest difference {self.largest_equity_difference():.6f}")
        if not np.array_equal(self.contango.positions, self.pybroker.positions):
            problems.append("positions held after some bar differ")
        return problems

    def largest_equity_difference(self) -> float:
        """Largest absolute gap between the two equity curves, in currency."""
        return float(np.max(np.abs(self.contango.equity - self.pybroker.equity)))

    def metric_differences(self) -> dict[str, float]:
        """Absolute difference of each headline metric (NaN where both are undefined)."""
        out = {}
        for name in _HEADLINE_METRICS:
            a = float(getattr(self.contango_metrics, name))
            b = float(getattr(self.pybroker_metrics, name))
            out[name] = 0.0 if a == b or (np.isnan(a) and np.isnan(b)) else abs(a - b)
        return out


def contango_metrics(result: BacktestResult, markets: list[MarketSpec]) -> PerformanceMetrics:
    """Contango's own metrics of a run, from its equity, fills and trades."""
    point_value = np.array([m.point_value for m in markets])
    curve = EquityCurve(
        ts=result.ts,
        equity=result.equity,
        traded_notional=traded_notional_from_fills(result.fills, point_value, result.ts.shape[0]),
        gross_exposure=result.exposure,
    )
    return compute_metrics(curve, trades_from_records(result.trades), result.markets)


def reconcile(
    contango: BacktestResult, pybroker: PyBrokerOutcome, bars: Bars, markets: list[MarketSpec]
) -> Reconciliation:
    """Put the two runs side by side; both computed their metrics with Contango's code."""
    trades = contango.trades_frame()
    point_value = np.array([m.point_value for m in markets])
    return Reconciliation(
        contango=contango,
        pybroker=pybroker,
        contango_trades=trades.loc[~trades["is_open"]].reset_index(drop=True),
        pybroker_trades=pybroker.trades,
        contango_metrics=contango_metrics(contango, markets),
        pybroker_metrics=pybroker.metrics(bars.close, point_value),
    )


def _run_pybroker(
    data: Any, symbol: str, params: MACrossoverParams, config: Any, dates: tuple[Any, Any]
) -> Any:
    strategy = _pybroker.Strategy(data, dates[0], dates[1], config)
    strategy.add_execution(ma_crossover_execution(params), [symbol])
    return strategy.backtest(calc_bootstrap=False)


def cross_check_ma_crossover(
    bars: Bars,
    market: MarketSpec,
    params: BaseModel,
    simulation: SimulationConfig,
    *,
    price_offset: float | None = None,
) -> Reconciliation:
    """Run the crossover on a one-market panel in both engines and reconcile the results."""
    if bars.n_markets != 1 or bars.markets[0] != market.name:
        raise ValueError(f"expected a one-market panel of {market.name}, got {bars.markets}")
    chosen = params if isinstance(params, MACrossoverParams) else MACrossoverParams()
    ours = run_backtest(bars, [market], strategy=MACrossover(), params=chosen, config=simulation)
    ohlcv = np.column_stack([bars.open, bars.high, bars.low, bars.close, bars.volume])
    offset = auto_price_offset(bars.low) if price_offset is None else price_offset
    scaling = PointValueScaling(point_value=market.point_value, price_offset=offset)
    frame = pybroker_frame(market.name, bars.ts, ohlcv, scaling)
    config = equivalent_config(simulation, [market], long_only=not chosen.allow_short)
    with isolated_scope():
        raw = _run_pybroker(
            frame, market.name, chosen, config, (frame["date"].iloc[0], frame["date"].iloc[-1])
        )
    theirs = outcome_from_test_result(raw, {market.name: scaling}, capital=simulation.capital)
    return reconcile(ours, theirs, bars, [market])


def cross_check_from_store(
    root: str,
    params: MACrossoverParams,
    simulation: SimulationConfig,
    *,
    rule: RollRule,
    adjustment: Adjustment = Adjustment.DIFFERENCE,
    version: str | None = None,
    commission: float = 0.0,
    exchange_fee: float = 0.0,
) -> tuple[Reconciliation, dict[str, str]]:
    """The cross-check on a stored root: PyBroker reads it through :class:`ContangoDataSource`,
    Contango reads the same continuous series; returns the reconciliation and data versions."""
    market = registry_market(root, commission=commission, exchange_fee=exchange_fee)
    config = equivalent_config(simulation, [market], long_only=not params.allow_short)
    pinned = {root: version} if version is not None else None
    with isolated_scope():  # PyBroker's dates are naive UTC; the store's range is inside these
        source = ContangoDataSource(rule=rule, adjustment=adjustment, versions=pinned)
        raw = _run_pybroker(source, root, params, config, ("1970-01-02", "2199-12-31"))
    series = source.loaded[root]
    bars = series.bars()
    ours = run_backtest(bars, [market], strategy=MACrossover(), params=params, config=simulation)
    theirs = outcome_from_test_result(raw, source.scalings, capital=simulation.capital)
    return reconcile(ours, theirs, bars, [market]), source.data_versions
