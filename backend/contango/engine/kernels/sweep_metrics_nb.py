"""Per-trial performance figures of the sweep kernel, as ``engine/metrics.py`` computes them.

``compute_metrics`` works on NumPy arrays; the sweep computes the same figures inside the
kernel, trial by trial, from the same equity curve. NumPy sums contiguous float64 arrays
pairwise (8 interleaved accumulators over blocks of 128 values, halves added recursively);
:func:`pairwise_sum_nb` adds in exactly that order, so means and standard deviations agree bit
for bit, not just to rounding. Trade figures come from running sums kept during the
simulation (the order of additions differs from NumPy's: agreement to ~1e-15 relative).
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

F64 = npt.NDArray[np.float64]

_PAIRWISE_BLOCK = 128  # NumPy's PW_BLOCKSIZE

# Columns of the per-trial metrics matrix.
TOTAL_RETURN = 0
CAGR = 1
ANNUAL_VOLATILITY = 2
SHARPE = 3
SORTINO = 4
CALMAR = 5
MAX_DRAWDOWN = 6
WIN_RATE = 7
PROFIT_FACTOR = 8
TURNOVER = 9
EXPOSURE = 10
EQUITY_END = 11
N_TRADES = 12
N_METRICS = 13

# Slots of a trial's running sums (filled by the simulation, read here).
CASH = 0
LAST_CALL = 1
CLOSED = 2
WINS = 3
PROFIT = 4
LOSS = 5
NOTIONAL = 6
N_SLOTS = 7


@njit(cache=True, inline="always")
def _fold8(r: tuple[float, float, float, float, float, float, float, float]) -> float:
    return ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))


@njit(cache=True, inline="always")
def _drawdown_step(value: float, peak: float, worst: float) -> tuple[float, float]:
    """One bar of ``max(1 - equity / running peak)``, dividing only where it might matter."""
    if value >= peak:
        return value, worst
    # The exact fraction is computed wherever the cheap test (1e-9 wider than rounding can
    # move it) says it may exceed the worst so far; elsewhere it cannot.
    threshold = peak * (1.0 - worst)
    if value < threshold + abs(threshold) * 1e-9 + 1e-300:
        worst = max(worst, 1.0 - value / peak)
    return peak, worst


@njit(cache=True)
def _leaf_nb(a: F64, lo: int, n: int, mode: int, mean: float, state: F64) -> tuple[float, float]:
    """NumPy's leaf of the pairwise sum (8 interleaved accumulators, then the tail) of
    ``a[lo:lo + n]`` (``mode`` 0), of ``(a - mean)^2`` and ``min(a, 0)^2`` together (1), or
    of ``a`` while carrying the running drawdown of ``a`` in ``state`` (2)."""
    x = a[lo : lo + n]  # loop counters on a slice: no negative-index checks
    if mode == 1:
        return _leaf_spread(x, n, mean)
    if mode == 2:
        return _leaf_equity(x, n, state), 0.0
    return _leaf_sum(x, n), 0.0


@njit(cache=True, inline="always")
def _leaf_sum(x: F64, n: int) -> float:
    """Sum of ``x[:n]`` as NumPy's pairwise leaf adds it: 8 interleaved accumulators, then the
    tail (below 8 values, a plain left-to-right sum)."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += x[i]
        return res
    r0, r1, r2, r3, r4, r5, r6, r7 = x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
    last = n - n % 8
    for b in range(8, last, 8):
        r0 += x[b]
        r1 += x[b + 1]
        r2 += x[b + 2]
        r3 += x[b + 3]
        r4 += x[b + 4]
        r5 += x[b + 5]
        r6 += x[b + 6]
        r7 += x[b + 7]
    res = _fold8((r0, r1, r2, r3, r4, r5, r6, r7))
    for i in range(last, n):
        res += x[i]
    return res


@njit(cache=True, inline="always")
def _leaf_spread(x: F64, n: int, mean: float) -> tuple[float, float]:
    """Squared deviations from ``mean`` and squared shortfalls below 0, summed as NumPy sums
    the temporaries ``(x - mean) ** 2`` and ``minimum(x, 0) ** 2``."""
    if n < 8:
        dev, short = 0.0, 0.0
        for i in range(n):
            d, s = x[i] - mean, min(x[i], 0.0)
            dev += d * d
            short += s * s
        return dev, short
    e0, e1, e2, e3 = x[0] - mean, x[1] - mean, x[2] - mean, x[3] - mean
    e4, e5, e6, e7 = x[4] - mean, x[5] - mean, x[6] - mean, x[7] - mean
    d0, d1, d2, d3, d4, d5, d6, d7 = e0 * e0, e1 * e1, e2 * e2, e3 * e3, e4 * e4, e5 * e5, \
        e6 * e6, e7 * e7  # fmt: skip
    f0, f1, f2, f3 = min(x[0], 0.0), min(x[1], 0.0), min(x[2], 0.0), min(x[3], 0.0)
    f4, f5, f6, f7 = min(x[4], 0.0), min(x[5], 0.0), min(x[6], 0.0), min(x[7], 0.0)
    s0, s1, s2, s3, s4, s5, s6, s7 = f0 * f0, f1 * f1, f2 * f2, f3 * f3, f4 * f4, f5 * f5, \
        f6 * f6, f7 * f7  # fmt: skip
    last = n - n % 8
    for b in range(8, last, 8):
        e = x[b] - mean
        d0 += e * e
        e = x[b + 1] - mean
        d1 += e * e
        e = x[b + 2] - mean
        d2 += e * e
        e = x[b + 3] - mean
        d3 += e * e
        e = x[b + 4] - mean
        d4 += e * e
        e = x[b + 5] - mean
        d5 += e * e
        e = x[b + 6] - mean
        d6 += e * e
        e = x[b + 7] - mean
        d7 += e * e
        f = min(x[b], 0.0)
        s0 += f * f
        f = min(x[b + 1], 0.0)
        s1 += f * f
        f = min(x[b + 2], 0.0)
        s2 += f * f
        f = min(x[b + 3], 0.0)
        s3 += f * f
        f = min(x[b + 4], 0.0)
        s4 += f * f
        f = min(x[b + 5], 0.0)
        s5 += f * f
        f = min(x[b + 6], 0.0)
        s6 += f * f
        f = min(x[b + 7], 0.0)
        s7 += f * f
    dev = _fold8((d0, d1, d2, d3, d4, d5, d6, d7))
    short = _fold8((s0, s1, s2, s3, s4, s5, s6, s7))
    for i in range(last, n):
        e, f = x[i] - mean, min(x[i], 0.0)
        dev += e * e
        short += f * f
    return dev, short


@njit(cache=True, inline="always")
def _leaf_equity(x: F64, n: int, state: F64) -> float:
    """Sum of ``x`` in NumPy's leaf order; the drawdown walks the same values in time order."""
    peak, worst = state[0], state[1]
    for i in range(n):
        peak, worst = _drawdown_step(x[i], peak, worst)
    state[0], state[1] = peak, worst
    return _leaf_sum(x, n)


@njit(cache=True)
def _pairwise_nb(
    a: F64, lo: int, n: int, mode: int, mean: float, state: F64
) -> tuple[float, float]:
    """Pairs of sums over ``a[lo:lo + n]`` (see :func:`_leaf_nb`) in NumPy's pairwise order.

    NumPy splits a run longer than 128 values at ``half = n // 2`` rounded down to a multiple
    of 8 and adds the two halves' sums. The recursion is unrolled onto a small stack (numba's
    cache cannot reload recursive functions reliably); leaves are visited in index order.
    """
    if n <= _PAIRWISE_BLOCK:
        return _leaf_nb(a, lo, n, mode, mean, state)
    starts = np.empty(64, dtype=np.int64)  # depth <= log2(n): 64 covers any array
    sizes = np.empty(64, dtype=np.int64)
    left = np.empty((64, 2))
    second = np.zeros(64, dtype=np.bool_)
    d = 0
    starts[0], sizes[0] = lo, n
    while True:
        size = sizes[d]
        if size > _PAIRWISE_BLOCK:  # descend into the first half
            half = size // 2
            half -= half % 8
            starts[d + 1], sizes[d + 1], second[d + 1] = starts[d], half, False
            d += 1
            continue
        v0, v1 = _leaf_nb(a, starts[d], size, mode, mean, state)
        while True:  # hand the values up until a node still needs its second half
            if d == 0:
                return v0, v1
            if second[d]:
                d -= 1
                v0, v1 = left[d, 0] + v0, left[d, 1] + v1
                continue
            parent = d - 1
            left[parent, 0], left[parent, 1] = v0, v1
            half = sizes[parent] // 2
            half -= half % 8
            starts[d], sizes[d], second[d] = starts[parent] + half, sizes[parent] - half, True
            break


@njit(cache=True)
def pairwise_sum_nb(a: F64, lo: int, n: int) -> float:
    """Sum of ``a[lo:lo + n]`` in NumPy's pairwise order, bit for bit."""
    return _pairwise_nb(a, lo, n, 0, 0.0, np.empty(0))[0]


@njit(cache=True)
def _spread_nb(
    values: F64, lo: int, n: int, all_finite: bool, scratch: F64
) -> tuple[float, float, float, int]:
    """Mean, sum of squared deviations and of squared shortfalls below 0 of the finite values
    of ``values[lo:lo + n]``, in NumPy's order (``std(ddof=1)`` squares ``x - mean`` into a
    temporary and sums it pairwise); and how many values were finite."""
    count = n
    if not all_finite:  # a wiped-out account: NumPy measures the finite values only
        count = 0
        for i in range(lo, lo + n):
            if np.isfinite(values[i]):
                scratch[count] = values[i]
                count += 1
        values, lo = scratch, 0
    if count == 0:
        return np.nan, np.nan, np.nan, 0
    mean = _pairwise_nb(values, lo, count, 0, 0.0, scratch)[0] / count
    squares, shortfall = _pairwise_nb(values, lo, count, 1, mean, scratch)
    return mean, squares, shortfall, count


@njit(cache=True)
def trial_metrics_nb(
    periods_per_year: float, years: float, returns: F64, equity: F64, scratch: F64,
    acc: F64, exposed: int, out: F64,
) -> None:  # fmt: skip
    """The figures of ``compute_metrics`` (risk-free rate 0) from one trial's equity curve.

    ``returns[1:]`` are the bar returns ``compute_metrics`` measures (its curve starts at the
    first close); ``scratch`` needs room for ``n`` values.
    """
    n = equity.shape[0]
    nan = np.nan
    root = math.sqrt(periods_per_year)
    start, end = equity[0], equity[n - 1]
    cagr = (end / start) ** (1.0 / years) - 1.0 if end > 0 else -1.0
    state = np.array([equity[0], 0.0])  # running peak, worst drawdown
    mean_equity = _pairwise_nb(equity, 0, n, 2, 0.0, state)[0] / n
    worst = state[1]
    all_finite = True  # a return is NaN only after a non-positive equity
    for t in range(n - 1):
        if not equity[t] > 0:
            all_finite = False
    mean, squares, shortfall, count = _spread_nb(returns, 1, n - 1, all_finite, scratch)
    sd = math.sqrt(squares / (count - 1)) if count > 1 else nan
    downside = math.sqrt(shortfall / count) if count > 0 else nan
    closed = acc[CLOSED]
    out[TOTAL_RETURN] = end / start - 1.0
    out[CAGR] = cagr
    out[ANNUAL_VOLATILITY] = sd * root if count > 1 else nan
    out[SHARPE] = mean / sd * root if count > 1 and sd > 0 else nan
    out[SORTINO] = mean / downside * root if count > 0 and downside > 0 else nan
    out[CALMAR] = cagr / worst if worst > 0 else nan
    out[MAX_DRAWDOWN] = worst
    out[WIN_RATE] = acc[WINS] / closed if closed > 0 else nan
    out[PROFIT_FACTOR] = _profit_factor(closed, acc[PROFIT], -acc[LOSS])
    out[TURNOVER] = acc[NOTIONAL] / mean_equity / years if mean_equity > 0 else nan
    out[EXPOSURE] = exposed / n
    out[EQUITY_END] = end
    out[N_TRADES] = closed


@njit(cache=True, inline="always")
def _profit_factor(closed: float, gross_profit: float, gross_loss: float) -> float:
    if closed == 0:
        return np.nan
    if gross_loss > 0:
        return gross_profit / gross_loss
    return np.inf if gross_profit > 0 else np.nan
