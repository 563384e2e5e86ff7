"""Technical indicators on a panel of bars, computed per market over that market's own bars.

Every function takes a ``(n,)`` series or an ``(n, m)`` panel (one column per market, time along
axis 0) and returns an array of the same shape.

Missing bars. A NaN marks a bar a market does not have (an exchange holiday, a data gap). Each
market's indicator is computed over its *valid* bars only, as if the holes were not there, and the
result is NaN at the holes: a 20-bar SMA is the mean of the market's last 20 real closes, not a
window polluted by another exchange's calendar. NaNs are never filled or forward-carried.

Warm-up. A window indicator needs ``window`` valid bars (the exact count is in each docstring);
before that it is NaN. Strategies treat NaN targets as "keep the position", so warm-up never
opens a trade.

Look-ahead. Every value at bar ``t`` uses data up to and including bar ``t`` only; the Donchian
channel goes further and excludes bar ``t`` so that "close above the channel" is a breakout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from contango.engine.kernels.indicators_nb import (
    rolling_extreme_nb,
    rolling_mean_nb,
    rolling_std_nb,
    sma_seeded_ewm_nb,
)

F64 = npt.NDArray[np.float64]
Series1D = Callable[..., F64]  # one gap-free 1-D array per input panel


def _check_window(window: int, name: str = "window") -> None:
    if not isinstance(window, int | np.integer) or window < 1:
        raise ValueError(f"{name} must be a whole number of bars >= 1, got {window!r}")


def _per_market(fn: Series1D, *panels: F64) -> F64:
    """Apply a gap-free 1-D computation to each market's valid bars and scatter it back.

    A bar is valid when every input panel is finite there (ATR needs high, low and close).
    The loop is over markets (a handful), never over bars.
    """
    arrays = [np.asarray(p, dtype=np.float64) for p in panels]
    first = arrays[0]
    if any(a.shape != first.shape for a in arrays):
        raise ValueError(f"input panels differ in shape: {[a.shape for a in arrays]}")
    if first.ndim not in (1, 2):
        raise ValueError(f"expected a (n,) series or an (n, m) panel, got shape {first.shape}")
    cols = [a.reshape(a.shape[0], -1) for a in arrays]
    valid = np.logical_and.reduce([np.isfinite(c) for c in cols])
    if cols[0].shape[1] == 1 and valid.all():  # one market, no gap: nothing to gather
        return np.array(fn(*(c[:, 0] for c in cols)), dtype=np.float64).reshape(first.shape)
    out = np.full(cols[0].shape, np.nan)
    for j in range(out.shape[1]):
        rows = np.flatnonzero(valid[:, j])
        if rows.size:
            compact = [c[rows, j] for c in cols]
            out[rows, j] = fn(*compact)
    return out.reshape(first.shape)


def sma(close: F64, window: int) -> F64:
    """Simple moving average of the last ``window`` valid bars (first ``window - 1`` are NaN)."""
    _check_window(window)
    return _per_market(lambda x: rolling_mean_nb(x, window), close)


def ema(close: F64, window: int) -> F64:
    """Exponential moving average, ``alpha = 2 / (window + 1)``, seeded with the SMA of the first
    ``window`` valid bars (first ``window - 1`` are NaN)."""
    _check_window(window)
    alpha = 2.0 / (window + 1.0)
    return _per_market(lambda x: sma_seeded_ewm_nb(x, window, alpha), close)


def wilder_smooth(values: F64, window: int) -> F64:
    """Wilder's smoothing (``alpha = 1 / window``), seeded with the SMA of the first ``window``."""
    _check_window(window)
    return _per_market(lambda x: sma_seeded_ewm_nb(x, window, 1.0 / window), values)


def rolling_std(close: F64, window: int, ddof: int = 1) -> F64:
    """Standard deviation of the last ``window`` valid bars (``ddof=1``: sample, like pandas)."""
    _check_window(window)
    if ddof < 0 or ddof >= window:
        raise ValueError(f"ddof must be in [0, window), got ddof={ddof} for window={window}")
    return _per_market(lambda x: rolling_std_nb(x, window, ddof), close)


def _true_range_1d(high: F64, low: F64, close: F64) -> F64:
    prev_close = np.concatenate(([np.nan], close[:-1]))
    # The first bar has no previous close, so its range is high - low (fmax ignores the NaNs).
    return np.fmax(high - low, np.fmax(np.abs(high - prev_close), np.abs(low - prev_close)))


def true_range(high: F64, low: F64, close: F64) -> F64:
    """``max(high - low, |high - prev close|, |low - prev close|)``; defined from the first bar
    (where it is ``high - low``). The previous close is the market's previous *valid* bar."""
    return _per_market(_true_range_1d, high, low, close)


def atr(high: F64, low: F64, close: F64, window: int) -> F64:
    """Wilder's average true range: the SMA of the first ``window`` true ranges, then
    ``atr[t] = atr[t-1] + (tr[t] - atr[t-1]) / window``. First ``window - 1`` bars are NaN."""
    _check_window(window)

    def one(h: F64, lo: F64, c: F64) -> F64:
        return sma_seeded_ewm_nb(_true_range_1d(h, lo, c), window, 1.0 / window)

    return _per_market(one, high, low, close)


def _rsi_1d(x: F64, window: int) -> F64:
    out = np.full(x.shape[0], np.nan)
    if x.shape[0] <= window:
        return out
    change = np.diff(x)
    avg_gain = sma_seeded_ewm_nb(np.maximum(change, 0.0), window, 1.0 / window)
    avg_loss = sma_seeded_ewm_nb(np.maximum(-change, 0.0), window, 1.0 / window)
    with np.errstate(divide="ignore", invalid="ignore"):
        # 100 * g / (g + 0) can round to 100.00000000000001; the index is bounded by definition.
        rsi = np.clip(100.0 * avg_gain / (avg_gain + avg_loss), 0.0, 100.0)
    # No move at all over the window: neither overbought nor oversold.
    rsi = np.where((avg_gain == 0.0) & (avg_loss == 0.0), 50.0, rsi)
    out[1:] = rsi
    return out


def rsi(close: F64, window: int = 14) -> F64:
    """Wilder's relative strength index in [0, 100].

    Average gain and loss are Wilder-smoothed close-to-close changes, seeded with the mean of the
    first ``window`` changes, so the first value is at bar ``window`` (``window`` NaNs before).
    ``RSI = 100 * gain / (gain + loss)``, which equals ``100 - 100 / (1 + gain / loss)`` and is
    100 when there were no losses; 50 when the price did not move at all.
    """
    _check_window(window)
    return _per_market(lambda x: _rsi_1d(x, window), close)


class Bands(NamedTuple):
    """An indicator channel: ``lower <= middle <= upper`` bar by bar (NaN in warm-up)."""

    lower: F64
    middle: F64
    upper: F64


def bollinger(close: F64, window: int = 20, width: float = 2.0) -> Bands:
    """Bollinger bands: SMA ± ``width`` population standard deviations (``ddof=0``, as Bollinger
    defines them) of the last ``window`` valid bars."""
    if not width > 0:
        raise ValueError(f"Bollinger width must be > 0 standard deviations, got {width}")
    middle = sma(close, window)
    spread = width * rolling_std(close, window, ddof=0)
    return Bands(lower=middle - spread, middle=middle, upper=middle + spread)


def _previous_extreme(x: F64, window: int, highest: bool) -> F64:
    """Extreme of the ``window`` bars before each bar: the window ending at t-1, published at t,
    so bar t never sees its own high or low."""
    out = np.full(x.shape[0], np.nan)
    out[1:] = rolling_extreme_nb(x[:-1], window, highest)
    return out


def donchian(high: F64, low: F64, window: int) -> Bands:
    """Donchian channel over the PREVIOUS ``window`` valid bars (bar ``t`` itself excluded).

    ``upper[t] = max(high[t-window .. t-1])``, ``lower[t] = min(low[...])``, middle their mean.
    Excluding the current bar makes ``close[t] > upper[t]`` a genuine breakout known at the close
    of bar ``t``. First ``window`` bars are NaN.
    """
    _check_window(window)
    upper = _per_market(lambda h: _previous_extreme(h, window, highest=True), high)
    lower = _per_market(lambda lo: _previous_extreme(lo, window, highest=False), low)
    return Bands(lower=lower, middle=(upper + lower) / 2.0, upper=upper)


def _lagged(x: F64, lag: int) -> F64:
    out = np.full(x.shape[0], np.nan)
    if x.shape[0] > lag:
        out[lag:] = x[:-lag]
    return out


def momentum(close: F64, lookback: int) -> F64:
    """Return over the last ``lookback`` valid bars: ``close[t] / close[t - lookback] - 1``.

    NaN for the first ``lookback`` bars and wherever the earlier price is not positive (a return
    on a zero or negative back-adjusted price has no meaning).
    """
    _check_window(lookback, "lookback")

    def one(x: F64) -> F64:
        base = _lagged(x, lookback)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(base > 0.0, x / base - 1.0, np.nan)

    return _per_market(one, close)


def price_change(close: F64, lookback: int = 1) -> F64:
    """Points moved over the last ``lookback`` valid bars: ``close[t] - close[t - lookback]``.

    Differences, unlike ratios, stay meaningful on back-adjusted prices that cross zero.
    """
    _check_window(lookback, "lookback")
    return _per_market(lambda x: x - _lagged(x, lookback), close)


def _log_returns_1d(x: F64) -> F64:
    prev = _lagged(x, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((prev > 0.0) & (x > 0.0), np.log(x / prev), np.nan)


def log_returns(close: F64) -> F64:
    """``log(close[t] / close[t-1])`` between consecutive valid bars; NaN on the first bar and
    wherever either price is not positive."""
    return _per_market(_log_returns_1d, close)


def realized_volatility(close: F64, window: int, bars_per_year: float = 252.0) -> F64:
    """Annualised volatility: sample std (``ddof=1``) of the last ``window`` log returns times
    ``sqrt(bars_per_year)``.

    The first value is at bar ``window`` (it needs ``window`` returns, hence ``window + 1``
    prices). A window containing an undefined return (non-positive price) is NaN.
    """
    _check_window(window)
    if window < 2:
        raise ValueError(f"realized volatility needs window >= 2 returns, got {window}")
    if not bars_per_year > 0:
        raise ValueError(f"bars_per_year must be > 0, got {bars_per_year}")
    scale = float(np.sqrt(bars_per_year))

    def one(x: F64) -> F64:
        # A NaN inside the window propagates, so an undefined return never hides in the std.
        return scale * rolling_std_nb(_log_returns_1d(x), window, 1)

    return _per_market(one, close)
