"""Performance metrics of a backtest: from a per-bar equity curve and a table of closed trades.

Conventions (each chosen so that the figures match what a futures trader reads elsewhere):

* Returns are simple bar returns ``equity[t] / equity[t-1] - 1``. A futures account can be wiped
  out; a return after equity reached zero or below is undefined and left out.
* Calendar time comes from ``ts`` (int64 ns, UTC): a year is 365.25 days. ``periods_per_year``
  is inferred as ``(n - 1) / years`` unless given: daily futures bars give ~252, not 365.
* Sharpe is ``mean(r - rf_p) / std(r - rf_p, ddof=1) * sqrt(periods_per_year)`` with the
  per-period risk-free rate ``rf_p = (1 + rf)^(1/ppy) - 1``. Sortino replaces the std by the
  downside deviation ``sqrt(mean(min(r - rf_p, 0)^2))`` taken over all periods.
* Drawdowns are positive numbers: ``max_drawdown = 0.25`` means 25% below the running peak.
  The fraction and the currency amount are each the worst of their kind (they can fall on
  different bars). A drawdown's duration runs from the peak to the first bar back at the peak
  (recovery), or to the last bar when it never recovered.
* Trade statistics use closed trades; a trade with ``pnl_net == 0`` counts, but as neither a
  win nor a loss (win rate = wins / trades).
* Turnover is traded notional over average equity, per year; exposure is the share of bars with
  a position on.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple, cast

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

NS_PER_DAY = 86_400 * 10**9
DAYS_PER_YEAR = 365.25


class EquityCurve(NamedTuple):
    """The account, bar by bar, after each bar's close (all ``(n,)``)."""

    ts: I64  # int64 ns UTC, strictly increasing
    equity: F64  # account equity, currency; equity[0] is the starting point
    traded_notional: F64  # sum over fills on the bar of |contracts| * price * point value
    gross_exposure: F64  # sum over markets of |contracts| * price * point value held


class TradeTable(NamedTuple):
    """Closed trades (all ``(k,)``): which market, net P&L after costs, bars held."""

    market: I64  # index into the run's market names
    pnl_net: F64
    bars_held: I64


def trades_from_records(records: npt.NDArray[np.void]) -> TradeTable:
    """Build a :class:`TradeTable` from trade records with fields ``market``, ``pnl_net``,
    ``entry_bar``, ``exit_bar`` and optionally ``is_open`` (open trades are left out)."""
    missing = {"market", "pnl_net", "entry_bar", "exit_bar"} - set(records.dtype.names or ())
    if missing:
        raise ValueError(f"trade records lack the fields {sorted(missing)}")
    closed = records
    if "is_open" in (records.dtype.names or ()):
        closed = records[records["is_open"] == 0]
    return TradeTable(
        market=closed["market"].astype(np.int64),
        pnl_net=closed["pnl_net"].astype(np.float64),
        bars_held=(closed["exit_bar"] - closed["entry_bar"]).astype(np.int64),
    )


def traded_notional_from_fills(fills: npt.NDArray[np.void], point_value: F64, n_bars: int) -> F64:
    """Per-bar traded notional ``sum(|qty| * price * point_value * fx)`` from fill records with
    fields ``bar``, ``market``, ``qty``, ``price`` and optionally ``fx`` (account currency per
    unit of the market's currency; 1 when absent)."""
    names = set(fills.dtype.names or ())
    missing = {"bar", "market", "qty", "price"} - names
    if missing:
        raise ValueError(f"fill records lack the fields {sorted(missing)}")
    fx = fills["fx"] if "fx" in names else 1.0
    value = np.abs(fills["qty"]) * fills["price"] * point_value[fills["market"]] * fx
    return np.bincount(fills["bar"], weights=value, minlength=n_bars).astype(np.float64)


@dataclass(frozen=True, kw_only=True)
class MarketBreakdown:
    """One market's share of the result (closed trades)."""

    market: str
    pnl: float
    n_trades: int
    win_rate: float
    share_of_pnl: float  # pnl / total pnl of all markets (NaN when the total is 0)
    return_contribution: float  # pnl / starting equity


@dataclass(frozen=True, kw_only=True)
class PerformanceMetrics:
    """Summary figures of a run; NaN where a figure is undefined (e.g. no trades)."""

    start_equity: float
    end_equity: float
    total_return: float
    years: float
    periods_per_year: float
    cagr: float
    annual_volatility: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: float
    max_drawdown_amount: float
    max_drawdown_bars: int
    max_drawdown_days: float
    max_drawdown_recovered: bool
    longest_drawdown_bars: int
    longest_drawdown_days: float
    n_trades: int
    win_rate: float
    profit_factor: float
    expectancy: float
    average_win: float
    average_loss: float
    average_bars_held: float
    turnover: float
    exposure: float
    average_leverage: float
    per_market: tuple[MarketBreakdown, ...]

    def as_json_dict(self) -> dict[str, Any]:
        """Plain dict for JSON: NaN and infinities (undefined figures) become ``None``."""
        return cast("dict[str, Any]", json_safe(asdict(self)))


def json_safe(value: object) -> object:
    """``value`` with NaN and infinities (undefined figures) as ``None``, for JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def validate_curve(curve: EquityCurve) -> None:
    """Refuse curves the metrics cannot describe, saying which array is wrong."""
    n = curve.ts.shape[0]
    if n < 2:
        raise ValueError(f"an equity curve needs at least 2 bars, got {n}")
    for field in ("equity", "traded_notional", "gross_exposure"):
        arr = getattr(curve, field)
        if arr.shape != (n,):
            raise ValueError(f"EquityCurve.{field} has shape {arr.shape}, expected ({n},)")
        if not np.all(np.isfinite(arr)):
            raise ValueError(
                f"EquityCurve.{field} has non-finite values at bars "
                f"{np.flatnonzero(~np.isfinite(arr))[:5].tolist()}"
            )
    if np.any(np.diff(curve.ts) <= 0):
        bad = int(np.flatnonzero(np.diff(curve.ts) <= 0)[0]) + 1
        raise ValueError(f"EquityCurve.ts must be strictly increasing; bar {bad} is not")
    if not curve.equity[0] > 0:
        raise ValueError(f"starting equity must be > 0, got {curve.equity[0]}")


def bar_returns(equity: F64) -> F64:
    """Simple returns between bars; NaN after a non-positive equity (a wiped-out account)."""
    prev = equity[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(prev > 0, equity[1:] / prev - 1.0, np.nan)


def years_between(ts: I64) -> float:
    """Calendar years from the first to the last timestamp (365.25-day years)."""
    return float(ts[-1] - ts[0]) / NS_PER_DAY / DAYS_PER_YEAR


def sharpe_ratio(excess: F64, periods_per_year: float) -> float:
    """Annualised Sharpe of per-period excess returns; NaN with fewer than 2 or no dispersion."""
    r = excess[np.isfinite(excess)]
    if r.size < 2:
        return float("nan")
    sd = float(r.std(ddof=1))
    return float(r.mean()) / sd * float(np.sqrt(periods_per_year)) if sd > 0 else float("nan")


def sortino_ratio(excess: F64, periods_per_year: float) -> float:
    """Annualised Sortino: mean excess over the downside deviation (target = risk-free)."""
    r = excess[np.isfinite(excess)]
    if r.size < 1:
        return float("nan")
    downside = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2)))
    if downside == 0:
        return float("nan")
    return float(r.mean()) / downside * float(np.sqrt(periods_per_year))


class Drawdowns(NamedTuple):
    """Drawdown figures of one equity path (see the module docstring for conventions)."""

    max_fraction: float
    max_amount: float
    max_bars: int  # peak -> recovery (or end) of the deepest fractional drawdown
    max_days: float
    recovered: bool
    longest_bars: int
    longest_days: float


def max_drawdown_fraction(equity: F64) -> float:
    """Deepest fall below the running peak, as a positive fraction of the peak."""
    peak = np.maximum.accumulate(equity)
    return float(np.max(1.0 - equity / peak))


def drawdowns(equity: F64, ts: I64) -> Drawdowns:
    """Depth and duration of the drawdowns of a positive-start equity path."""
    n = equity.shape[0]
    bars = np.arange(n)
    peak = np.maximum.accumulate(equity)
    at_high = equity >= peak
    frac = 1.0 - equity / peak
    trough = int(np.argmax(frac))
    peak_bar = int(np.maximum.accumulate(np.where(at_high, bars, 0))[trough])
    back = np.flatnonzero(equity[trough:] >= peak[trough])
    recovered = bool(back.size > 0)  # a curve that never fell has nothing to recover: True
    end = trough + int(back[0]) if back.size else n - 1
    if frac[trough] == 0:
        end = peak_bar = trough
    # Episodes run from one high to the next; one with no bar in between is no drawdown.
    highs = np.flatnonzero(at_high)
    ends = np.append(highs[1:], n - 1)
    under = np.where(ends - highs > 1, ends - highs, 0)
    under[-1] = ends[-1] - highs[-1]  # the unrecovered tail counts to the last bar
    longest = int(np.argmax(under))
    return Drawdowns(
        max_fraction=float(frac[trough]),
        max_amount=float(np.max(peak - equity)),
        max_bars=end - peak_bar,
        max_days=float(ts[end] - ts[peak_bar]) / NS_PER_DAY,
        recovered=recovered,
        longest_bars=int(under[longest]),
        longest_days=float(ts[ends[longest]] - ts[highs[longest]]) / NS_PER_DAY
        if under[longest] > 0
        else 0.0,
    )


class TradeStats(NamedTuple):
    """Figures of the closed-trade list (NaN when there are no trades)."""

    n_trades: int
    win_rate: float
    profit_factor: float
    expectancy: float
    average_win: float
    average_loss: float
    average_bars_held: float


def trade_stats(pnl: F64, bars_held: I64) -> TradeStats:
    """Win rate, profit factor (gross profit / gross loss), expectancy (mean P&L per trade)."""
    n = int(pnl.shape[0])
    if n == 0:
        nan = float("nan")
        return TradeStats(0, nan, nan, nan, nan, nan, nan)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_profit, gross_loss = float(wins.sum()), float(-losses.sum())
    if gross_loss > 0:
        profit_factor = gross_profit / gross_loss
    else:
        profit_factor = float("inf") if gross_profit > 0 else float("nan")
    return TradeStats(
        n_trades=n,
        win_rate=wins.size / n,
        profit_factor=profit_factor,
        expectancy=float(pnl.mean()),
        average_win=float(wins.mean()) if wins.size else float("nan"),
        average_loss=float(losses.mean()) if losses.size else float("nan"),
        average_bars_held=float(bars_held.mean()),
    )


def market_breakdown(
    trades: TradeTable, markets: tuple[str, ...], start_equity: float
) -> tuple[MarketBreakdown, ...]:
    """P&L, trade count, win rate and contribution per market (markets with no trade included)."""
    m = len(markets)
    if trades.market.size and (trades.market.min() < 0 or trades.market.max() >= m):
        raise ValueError(f"trade market index out of range 0..{m - 1}")
    pnl = np.bincount(trades.market, weights=trades.pnl_net, minlength=m)
    count = np.bincount(trades.market, minlength=m)
    wins = np.bincount(trades.market, weights=(trades.pnl_net > 0).astype(np.float64), minlength=m)
    total = float(pnl.sum())
    return tuple(
        MarketBreakdown(
            market=markets[j],
            pnl=float(pnl[j]),
            n_trades=int(count[j]),
            win_rate=float(wins[j] / count[j]) if count[j] else float("nan"),
            share_of_pnl=float(pnl[j] / total) if total != 0 else float("nan"),
            return_contribution=float(pnl[j] / start_equity),
        )
        for j in range(m)
    )


def compute_metrics(
    curve: EquityCurve,
    trades: TradeTable,
    markets: tuple[str, ...],
    *,
    risk_free_rate: float = 0.0,
    periods_per_year: float | None = None,
) -> PerformanceMetrics:
    """All summary metrics of a run (see the module docstring for every convention)."""
    validate_curve(curve)
    equity, ts = curve.equity, curve.ts
    years = years_between(ts)
    ppy = periods_per_year if periods_per_year is not None else (equity.shape[0] - 1) / years
    if not ppy > 0:
        raise ValueError(f"periods_per_year must be > 0, got {ppy}")
    start, end = float(equity[0]), float(equity[-1])
    total_return = end / start - 1.0
    cagr = (end / start) ** (1.0 / years) - 1.0 if end > 0 else -1.0
    r = bar_returns(equity)
    excess = r - ((1.0 + risk_free_rate) ** (1.0 / ppy) - 1.0)
    finite = r[np.isfinite(r)]
    vol = float(finite.std(ddof=1)) * float(np.sqrt(ppy)) if finite.size > 1 else float("nan")
    dd = drawdowns(equity, ts)
    ts_stats = trade_stats(trades.pnl_net, trades.bars_held)
    mean_equity = float(equity.mean())
    return PerformanceMetrics(
        start_equity=start,
        end_equity=end,
        total_return=total_return,
        years=years,
        periods_per_year=float(ppy),
        cagr=cagr,
        annual_volatility=vol,
        sharpe=sharpe_ratio(excess, ppy),
        sortino=sortino_ratio(excess, ppy),
        calmar=cagr / dd.max_fraction if dd.max_fraction > 0 else float("nan"),
        max_drawdown=dd.max_fraction,
        max_drawdown_amount=dd.max_amount,
        max_drawdown_bars=dd.max_bars,
        max_drawdown_days=dd.max_days,
        max_drawdown_recovered=dd.recovered,
        longest_drawdown_bars=dd.longest_bars,
        longest_drawdown_days=dd.longest_days,
        **ts_stats._asdict(),
        turnover=float(curve.traded_notional.sum()) / mean_equity / years
        if mean_equity > 0
        else float("nan"),
        exposure=float(np.mean(curve.gross_exposure > 0)),
        # Leverage means nothing once the account is wiped out.
        average_leverage=float(np.mean(curve.gross_exposure / equity))
        if np.all(equity > 0)
        else float("nan"),
        per_market=market_breakdown(trades, markets, start),
    )


# ---------------------------------------------------------------- returns tables


class PeriodReturns(NamedTuple):
    """Compounded returns per calendar period (UTC), e.g. per day or per month."""

    period: npt.NDArray[np.datetime64]  # the period's label (datetime64[D] or [M])
    returns: F64  # last equity of the period / last equity of the previous period - 1


def period_returns(curve: EquityCurve, unit: str = "M") -> PeriodReturns:
    """Returns per UTC day (``unit="D"``) or month (``"M"``); the first period is measured from
    the curve's first equity, so the periods compound exactly to the total return."""
    if unit not in ("D", "M"):
        raise ValueError(f"unit must be 'D' (day) or 'M' (month), got {unit!r}")
    validate_curve(curve)
    labels = curve.ts.astype("datetime64[ns]").astype(f"datetime64[{unit}]")
    last = np.append(np.flatnonzero(labels[1:] != labels[:-1]), labels.shape[0] - 1)
    closing = curve.equity[last]
    opening = np.concatenate(([curve.equity[0]], closing[:-1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        rets = np.where(opening > 0, closing / opening - 1.0, np.nan)
    return PeriodReturns(period=labels[last], returns=rets)


class MonthlyTable(NamedTuple):
    """Monthly returns laid out for a heatmap: one row per year, columns January..December."""

    years: I64  # (k,)
    returns: F64  # (k, 12), NaN for months outside the run
    annual: F64  # (k,) compounded return of each calendar year's months


def monthly_table(curve: EquityCurve) -> MonthlyTable:
    """The monthly returns of :func:`period_returns` as a year x month grid."""
    months = period_returns(curve, "M")
    month_index = months.period.astype(np.int64)  # months since 1970-01
    year = 1970 + month_index // 12
    years = np.arange(year.min(), year.max() + 1, dtype=np.int64)
    grid = np.full((years.shape[0], 12), np.nan)
    grid[year - years[0], month_index % 12] = months.returns
    annual = np.prod(1.0 + np.nan_to_num(grid, nan=0.0), axis=1) - 1.0
    return MonthlyTable(years=years, returns=grid, annual=annual)
