"""1-minute bars of the front and next contracts, consistent with their daily bars.

Each session is a Brownian bridge from the day's open to its close, pinned at the day's high
and low at two minutes drawn on the session's variance clock; excursions beyond the range are
reflected back inside. Variance and volume follow an intraday U-shape (busy at the open and
the close of the day session, quiet overnight). Aggregating a contract's minutes gives back
its daily bar exactly, and minute volumes add up to the daily volume; a thin contract's quiet
minute keeps its prices with zero volume rather than disappearing, so this holds for every
contract. The session comes from the spec's trading hours in the exchange's time zone,
converted to UTC day by day (daylight saving moves it); Globex sessions open the evening
before the trade date.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from contango.data.samples.chain import I64, DailyBars, bar_table, to_tick
from contango.data.samples.processes import F64, LatentDaily, rng_for
from contango.domain.contracts import ContractSpec, TradingHours

_NS_PER_MINUTE = 60 * 10**9
# A session longer than this has an overnight part; its day session is the last
# _DAY_SESSION minutes before the final _CLOSE_GAP minutes (ES: 08:30-15:15 of 17:00-16:00 CT).
_LONG_SESSION = 12 * 60
_DAY_SESSION = 405
_CLOSE_GAP = 45
_OVERNIGHT_WEIGHT = 0.12


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def session_minutes(hours: TradingHours) -> int:
    """Length of the session in minutes (a close at or before the open spans midnight)."""
    length = (_minutes(hours.close) - _minutes(hours.open)) % (24 * 60)
    return length or 24 * 60


def session_starts(hours: TradingHours, days: npt.NDArray[np.datetime64]) -> I64:
    """UTC nanoseconds of each trade date's session open (the evening before for Globex)."""
    local_day = days - (np.timedelta64(1, "D") if hours.spans_midnight else np.timedelta64(0, "D"))
    naive = pd.DatetimeIndex(local_day.astype("datetime64[ns]")) + pd.Timedelta(
        minutes=_minutes(hours.open)
    )
    aware = naive.tz_localize(hours.timezone, ambiguous=True, nonexistent="shift_forward")
    return np.asarray(aware.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)


def intraday_profile(n: int) -> F64:
    """Relative activity of each minute of an ``n``-minute session, mean one: a U over the day
    session, a low plateau overnight."""
    weights = np.full(n, _OVERNIGHT_WEIGHT)
    if n > _LONG_SESSION:
        hi = n - _CLOSE_GAP
        lo = max(hi - _DAY_SESSION, 0)
    else:
        lo, hi = 0, n
    x = (np.arange(hi - lo) + 0.5) / (hi - lo)
    weights[lo:hi] = 1.0 + 3.0 * (2.0 * x - 1.0) ** 2
    return np.asarray(weights / weights.mean(), dtype=np.float64)


def _front_and_next(bars: DailyBars, day_index: I64) -> tuple[I64, I64]:
    """Row numbers of the front and next contracts on each day.

    The front is the nearest expiry not yet rolled out of (its roll date is today or later),
    as a trader holding the market would see it: a gold contract in its delivery month, or an
    index future in its last week, has handed its liquidity over already.
    """
    rows = bars.rows
    n_days = int(day_index.max()) + 1 if day_index.size else 0
    expiry = bars.chain.last_trade[rows.contract].astype(np.int64)
    rolled = rows.day > bars.chain.roll[rows.contract]
    order = np.lexsort((expiry, rolled, day_index))  # by day, live before rolled, expiry
    first = np.searchsorted(day_index[order], np.arange(n_days), side="left")
    front = order[first]
    nxt = order[np.minimum(first + 1, order.shape[0] - 1)]
    if np.any(day_index[nxt] != np.arange(n_days)) or np.any(rolled[nxt]):
        raise ValueError("a day of the window has a single live contract: no next contract")
    return front.astype(np.int64), nxt.astype(np.int64)


class _MinuteDraws(NamedTuple):
    eps: F64  # (days, n) path shocks
    extremes: F64  # (days, 2, n) uniforms in (0, 1] for each minute's high and low
    volume: F64  # (days, 2, n) log-normal volume noise of the front and next contracts
    anchors: F64  # (days, 2) uniforms placing the day's high and low on the session clock


def _draws(latent: LatentDaily, grid: I64, n: int, seed: int, root: str) -> _MinuteDraws:
    """Random numbers of each session, keyed by its trade date so any window agrees."""
    days = grid.shape[0]
    eps = np.empty((days, n), dtype=np.float64)
    extremes = np.empty((days, 2, n), dtype=np.float64)
    volume = np.empty((days, 2, n), dtype=np.float64)
    anchors = np.empty((days, 2), dtype=np.float64)
    for k, day in enumerate(latent.days[grid].tolist()):  # one draw per day, not per bar
        rng = rng_for(seed, root, "minute", day.isoformat(), n)
        eps[k] = rng.standard_normal(n)
        extremes[k] = 1.0 - rng.random((2, n))
        volume[k] = np.exp(0.5 * rng.standard_normal((2, n)))
        anchors[k] = rng.random(2)
    return _MinuteDraws(eps=eps, extremes=extremes, volume=volume, anchors=anchors)


def _anchor_minutes(clock: F64, uniforms: F64) -> I64:
    """Minute boundaries (days, 2) of the day's high and low: uniform on the variance clock,
    away from the session's ends, never the same boundary."""
    n = clock.shape[1] - 1
    frac = clock / clock[:, -1:]
    u = 0.05 + 0.9 * uniforms
    at = np.stack([(frac < u[:, k : k + 1]).sum(axis=1) for k in range(2)], axis=1)
    at = np.clip(at, 1, n - 1)
    clash = at[:, 1] == at[:, 0]
    at[:, 1] = np.where(clash & (at[:, 0] < n - 1), at[:, 0] + 1, at[:, 1])
    at[:, 1] = np.where(clash & (at[:, 0] >= n - 1), at[:, 0] - 1, at[:, 1])
    return np.asarray(at, dtype=np.int64)


def _paths(latent: LatentDaily, grid: I64, weights: F64, draws: _MinuteDraws) -> F64:
    """Minute OHLC in log price relative to the day's open: shape (4, days, n) for open,
    high, low, close.

    The path is a Brownian bridge pinned at four points: 0 at the open, the day's high and
    low at two minutes drawn on the variance clock, the day's close at the end. Between
    pins it wanders with the minute's volatility; excursions beyond the day's range are
    reflected back inside, so the pins are the extremes.
    """
    n = weights.shape[0]
    days = grid.shape[0]
    sigma = latent.sigma[grid][:, None]
    # Volatility rises less than volume (roughly with its square root); the session's total
    # variance is the daily model's session variance.
    shape = np.sqrt(weights) / np.sqrt(weights).mean()
    var = (sigma**2) * (1.0 - latent.overnight_share) * shape[None, :] / n
    zero = np.zeros((days, 1))
    walk = np.concatenate([zero, np.cumsum(np.sqrt(var) * draws.eps, axis=1)], axis=1)
    clock = np.concatenate([zero, np.cumsum(var, axis=1)], axis=1)
    day_high = np.log(latent.high[grid] / latent.open[grid])[:, None]
    day_low = np.log(latent.low[grid] / latent.open[grid])[:, None]
    target = np.log(latent.close[grid] / latent.open[grid])[:, None]

    inner = _anchor_minutes(clock, draws.anchors)
    pins = np.concatenate([np.zeros((days, 1), np.int64), inner, np.full((days, 1), n)], axis=1)
    levels = np.concatenate([zero, day_high, day_low, target], axis=1)
    order = np.argsort(pins, axis=1, kind="stable")
    pins, levels = np.take_along_axis(pins, order, 1), np.take_along_axis(levels, order, 1)
    # Segment of each boundary k: number of inner pins at or before it (0, 1 or 2).
    k = np.arange(n + 1)[None, :]
    seg = (k >= pins[:, 1:2]).astype(np.int64) + (k >= pins[:, 2:3])
    left, right = np.take_along_axis(pins, seg, 1), np.take_along_axis(pins, seg + 1, 1)
    c_left, c_right = np.take_along_axis(clock, left, 1), np.take_along_axis(clock, right, 1)
    w = (clock - c_left) / np.maximum(c_right - c_left, 1e-300)

    def through(values: F64) -> F64:
        lo, hi = np.take_along_axis(values, seg, 1), np.take_along_axis(values, seg + 1, 1)
        return np.asarray(lo + w * (hi - lo), dtype=np.float64)

    points = through(levels) + walk - through(np.take_along_axis(walk, pins, 1))
    points = np.where(points > day_high, 2.0 * day_high - points, points)
    points = np.clip(np.where(points < day_low, 2.0 * day_low - points, points), day_low, day_high)
    o, c = points[:, :-1], points[:, 1:]
    b = c - o
    high = o + 0.5 * (b + np.sqrt(b * b - 2.0 * var * np.log(draws.extremes[:, 0])))
    low = o + 0.5 * (b - np.sqrt(b * b - 2.0 * var * np.log(draws.extremes[:, 1])))
    return np.stack([o, np.minimum(high, day_high), np.maximum(low, day_low), c])


def _split_volume(daily: I64, weights: F64, noise: F64) -> I64:
    """Integer minute volumes summing exactly to each day's volume (largest remainder)."""
    share = weights[None, :] * noise
    share /= share.sum(axis=1, keepdims=True)
    exact = daily[:, None].astype(np.float64) * share
    base = np.floor(exact).astype(np.int64)
    missing = daily - base.sum(axis=1)
    rank = np.argsort(np.argsort(-(exact - base), axis=1, kind="stable"), axis=1, kind="stable")
    return np.asarray(base + (rank < missing[:, None]), dtype=np.int64)


def minute_table(spec: ContractSpec, latent: LatentDaily, bars: DailyBars, seed: int) -> pa.Table:
    """1-minute bars of the front and next contracts on every day of ``bars``."""
    rows = bars.rows
    days, day_index = np.unique(rows.day, return_inverse=True)
    front, nxt = _front_and_next(bars, day_index.astype(np.int64))
    n = session_minutes(spec.trading_hours)
    weights = intraday_profile(n)
    grid = rows.grid[front]
    draws = _draws(latent, grid, n, seed, spec.root)
    paths = _paths(latent, grid, weights, draws)  # (4, days, n)

    picked = np.concatenate([front, nxt])  # daily row of each (contract, day) block
    tick = spec.tick_size
    level = latent.open[rows.grid[picked]] * bars.factor[picked]
    ohlc = to_tick(level[None, :, None] * np.exp(np.concatenate([paths, paths], axis=1)), tick)
    ohlc = _pin_to_daily(ohlc, bars, picked)
    noise = np.concatenate([draws.volume[:, 0], draws.volume[:, 1]])
    volume = _split_volume(bars.volume[picked], weights, noise)

    starts = session_starts(spec.trading_hours, days)[np.concatenate([day_index[front]] * 2)]
    ts = starts[:, None] + np.arange(n, dtype=np.int64)[None, :] * _NS_PER_MINUTE
    symbols = np.array(bars.chain.symbols, dtype=object)[rows.contract[picked]]
    rank = np.unique(symbols, return_inverse=True)[1]
    order = np.lexsort((ts.ravel(), np.repeat(rank, n)))
    o, h, lo, c = (ohlc[k].ravel()[order] for k in range(4))
    return bar_table(
        ts.ravel()[order],
        np.repeat(symbols, n)[order],
        (o, h, lo, c),
        volume.ravel()[order],
        np.repeat(bars.open_interest[picked], n)[order],
    )


def _pin_to_daily(ohlc: F64, bars: DailyBars, picked: I64) -> F64:
    """Make the minutes of each (contract, day) aggregate exactly to the ticked daily bar.

    Ticking is monotone, so minutes already lie within a tick of the daily range; clipping and
    pinning the first open, last close and the extremes removes the last rounding differences.
    """
    d_open, d_close = bars.open[picked][:, None], bars.close[picked][:, None]
    d_high, d_low = bars.high[picked][:, None], bars.low[picked][:, None]
    out = np.clip(ohlc, d_low[None], d_high[None])
    out[0, :, 0] = d_open[:, 0]
    out[3, :, -1] = d_close[:, 0]
    out[1] = np.maximum(out[1], np.maximum(out[0], out[3]))
    out[2] = np.minimum(out[2], np.minimum(out[0], out[3]))
    blocks = np.arange(picked.shape[0])
    out[1, blocks, np.argmax(out[1], axis=1)] = d_high[:, 0]
    out[2, blocks, np.argmin(out[2], axis=1)] = d_low[:, 0]
    if not math.isfinite(float(out.sum())):
        raise ValueError("non-finite minute price: check the market's profile")
    return out
