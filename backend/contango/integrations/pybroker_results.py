"""PyBroker's test result brought into Contango's result model, in points and contracts.

Conventions of the conversion (each one a difference between the two engines):

* Equity: Contango's equity is cash plus the open P&L of every position. PyBroker's
  ``equity`` column holds open *shorts* at cost (their open P&L is left out); its
  ``market_value`` column marks them too, and is the one that equals Contango's equity.
* Trades: PyBroker books one trade per entry lot, first in first out; Contango books one trade
  per round trip (flat to flat, or a reversal), at volume-weighted prices. With one lot per
  position (a fixed size that is entered once) the two lists are the same.
* Trade P&L: PyBroker's ``pnl`` is before fees; fees sit on the orders. ``pnl_gross`` is
  PyBroker's ``pnl`` and ``fees`` are the trade's share of its entry and exit orders' fees
  (per contract, pro rata), so ``pnl_net`` is comparable with Contango's.
* MAE / MFE: PyBroker records them per share (per contract); Contango per trade. They are
  multiplied by the contracts traded.
* Open positions: PyBroker lists only closed trades (with ``exit_on_last_bar`` off); a position
  still open at the end shows in the equity curve and in ``positions``, not in ``trades``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from contango.engine.metrics import EquityCurve, PerformanceMetrics, TradeTable, compute_metrics
from contango.integrations.pybroker_bridge import PointValueScaling, utc_ns

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_STOP_REASONS = {"loss": "stop_loss", "profit": "take_profit", "trailing": "stop_loss"}


@dataclass(frozen=True, kw_only=True, eq=False)
class PyBrokerOutcome:
    """A PyBroker run in Contango's terms: money in the account currency, prices in points."""

    ts: I64  # (n,) int64 ns UTC, the bars PyBroker marked the portfolio on
    markets: tuple[str, ...]
    equity: F64  # (n,) PyBroker's market_value: cash + every position marked at the close
    cash: F64  # (n,)
    positions: F64  # (n, m) signed contracts held after each bar
    fills: pd.DataFrame  # one row per PyBroker order, prices in points
    trades: pd.DataFrame  # closed trades, Contango's trades_frame columns
    capital: float
    price_offsets: dict[str, float]

    def curve(self, close_points: F64, point_value: F64) -> EquityCurve:
        """The equity curve for :func:`compute_metrics` (closes in points, ``(n, m)``)."""
        n = self.ts.shape[0]
        bar = np.searchsorted(self.ts, utc_ns(self.fills["ts"]))
        notional = (
            self.fills["qty"].abs().to_numpy()
            * self.fills["price"].to_numpy()
            * point_value[self.fills["market_index"].to_numpy()]
        )
        traded = np.bincount(bar, weights=notional, minlength=n).astype(np.float64)
        exposure = np.nansum(np.abs(self.positions * close_points) * point_value, axis=1)
        return EquityCurve(
            ts=self.ts, equity=self.equity, traded_notional=traded, gross_exposure=exposure
        )

    def trade_table(self) -> TradeTable:
        """Closed trades as :func:`compute_metrics` reads them."""
        return TradeTable(
            market=self.trades["market"].map(self.markets.index).to_numpy(np.int64),
            pnl_net=self.trades["pnl_net"].to_numpy(np.float64),
            bars_held=self.trades["bars_held"].to_numpy(np.int64),
        )

    def metrics(self, close_points: F64, point_value: F64, **options: Any) -> PerformanceMetrics:
        """Contango's performance metrics of this run (options as for compute_metrics)."""
        return compute_metrics(
            self.curve(close_points, point_value), self.trade_table(), self.markets, **options
        )


def _fills(orders: pd.DataFrame, scalings: Mapping[str, PointValueScaling]) -> pd.DataFrame:
    """PyBroker orders with signed contracts and prices back in points."""
    markets = sorted(scalings)
    sign = np.where(orders["type"].to_numpy() == "buy", 1.0, -1.0)
    symbols = orders["symbol"].astype(str)
    pv = symbols.map({s: scalings[s].point_value for s in markets}).to_numpy(np.float64)
    offset = symbols.map({s: scalings[s].price_offset for s in markets}).to_numpy(np.float64)
    return pd.DataFrame(
        {
            "ts": pd.to_datetime(utc_ns(orders["date"]), utc=True),
            "market": symbols.to_numpy(),
            "market_index": symbols.map(markets.index).to_numpy(np.int64),
            "qty": sign * orders["shares"].to_numpy(np.float64),
            "price": orders["fill_price"].to_numpy(np.float64) / pv - offset,
            "fees": orders["fees"].to_numpy(np.float64),
        }
    )


def _trades(
    raw: pd.DataFrame, fills: pd.DataFrame, scalings: Mapping[str, PointValueScaling], ts: I64
) -> pd.DataFrame:
    """PyBroker's closed trades in Contango's trades_frame layout."""
    symbols = raw["symbol"].astype(str)
    pv = symbols.map({s: v.point_value for s, v in scalings.items()}).to_numpy(np.float64)
    offset = symbols.map({s: v.price_offset for s, v in scalings.items()}).to_numpy(np.float64)
    # Fee per contract of each (market, bar) from the orders filled there.
    per_bar = fills.assign(abs_qty=fills["qty"].abs()).groupby(["market", "ts"])
    fee_per_contract = per_bar["fees"].sum() / per_bar["abs_qty"].sum()
    entry_ts = pd.to_datetime(utc_ns(raw["entry_date"]), utc=True)
    exit_ts = pd.to_datetime(utc_ns(raw["exit_date"]), utc=True)
    shares = raw["shares"].to_numpy(np.float64)
    entry_fee = fee_per_contract.reindex(list(zip(symbols, entry_ts, strict=True))).to_numpy()
    exit_fee = fee_per_contract.reindex(list(zip(symbols, exit_ts, strict=True))).to_numpy()
    fees = np.nan_to_num(entry_fee * shares) + np.nan_to_num(exit_fee * shares)
    pnl = raw["pnl"].to_numpy(np.float64)
    entry_bar = np.searchsorted(ts, utc_ns(raw["entry_date"]))
    exit_bar = np.searchsorted(ts, utc_ns(raw["exit_date"]))
    stop = raw["stop"] if "stop" in raw else pd.Series([None] * len(raw))
    return pd.DataFrame(
        {
            "market": symbols.to_numpy(),
            "contract": "",
            "direction": np.where(raw["type"].to_numpy() == "long", 1, -1),
            "entry_ts": entry_ts,
            "exit_ts": exit_ts,
            "entry_bar": entry_bar,
            "exit_bar": exit_bar,
            "quantity": shares,
            "entry_price": raw["entry"].to_numpy(np.float64) / pv - offset,
            "exit_price": raw["exit"].to_numpy(np.float64) / pv - offset,
            "pnl_gross": pnl,
            "fees": fees,
            "slippage": 0.0,
            "pnl_net": pnl - fees,
            "mae": raw["mae"].to_numpy(np.float64) * shares,
            "mfe": raw["mfe"].to_numpy(np.float64) * shares,
            "bars_held": exit_bar - entry_bar,
            "exit_reason": [_STOP_REASONS.get(str(s), "signal") for s in stop],
            "is_open": False,
        }
    )


def outcome_from_test_result(
    result: Any,
    scalings: Mapping[str, PointValueScaling],
    *,
    capital: float,
) -> PyBrokerOutcome:
    """Convert a ``pybroker.strategy.TestResult`` of a run on bridge-scaled prices."""
    portfolio = result.portfolio
    ts = utc_ns(portfolio.index)
    markets = tuple(sorted(scalings))
    fills = _fills(result.orders, scalings)
    bar = np.searchsorted(ts, utc_ns(fills["ts"]))
    change = np.zeros((ts.shape[0], len(markets)))
    np.add.at(change, (bar, fills["market_index"].to_numpy()), fills["qty"].to_numpy())
    return PyBrokerOutcome(
        ts=ts,
        markets=markets,
        equity=portfolio["market_value"].to_numpy(np.float64),
        cash=portfolio["cash"].to_numpy(np.float64),
        positions=np.cumsum(change, axis=0),
        fills=fills,
        trades=_trades(result.trades, fills, scalings, ts),
        capital=capital,
        price_offsets={s: scalings[s].price_offset for s in markets},
    )
