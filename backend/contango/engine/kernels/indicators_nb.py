"""Numba kernels for the recursive indicators (EMA, Wilder smoothing).

Recursions cannot be vectorized in NumPy, so they live here as plain loops that numba compiles.
The kernels take one gap-free 1-D series: the public wrappers in ``engine/indicators.py`` drop a
market's missing bars before calling them and put the NaNs back afterwards. With
``NUMBA_DISABLE_JIT=1`` the same loops run as ordinary Python, which is how the tests check them
against pandas without the compiler in the way.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

F64 = npt.NDArray[np.float64]


@njit(cache=True)
def sma_seeded_ewm_nb(x: F64, window: int, alpha: float) -> F64:
    """Exponential smoothing seeded with the simple mean of the first ``window`` values.

    ``out[window - 1] = mean(x[:window])`` and ``out[t] = out[t-1] + alpha * (x[t] - out[t-1])``
    afterwards; earlier values are NaN (warm-up). Seeding with the mean rather than the first
    value is the convention of Wilder and of most charting packages, and it makes the first
    published value independent of a single outlier bar. ``alpha = 2 / (window + 1)`` gives the
    classic EMA, ``alpha = 1 / window`` Wilder's smoothing (ATR, RSI).
    """
    n = x.shape[0]
    out = np.full(n, np.nan)
    if window < 1 or n < window:
        return out
    seed = 0.0
    for i in range(window):
        seed += x[i]
    value = seed / window
    out[window - 1] = value
    for i in range(window, n):
        value = value + alpha * (x[i] - value)
        out[i] = value
    return out


@njit(cache=True)
def _add_compensated(total: float, comp: float, value: float) -> tuple[float, float]:
    """Neumaier's compensated addition: ``total + comp`` carries the rounding error lost."""
    new = total + value
    if abs(total) >= abs(value):
        comp += (total - new) + value
    else:
        comp += (value - new) + total
    return new, comp


@njit(cache=True)
def rolling_mean_nb(x: F64, window: int) -> F64:
    """Mean of each trailing window with an ``O(n)`` compensated running sum.

    A plain running sum drifts as values enter and leave; Neumaier compensation keeps the error
    at a few ulps, so results match a fresh sum per window to ~1e-12 relative. A NaN inside a
    window makes that window NaN (it is never added to the sum).
    """
    n = x.shape[0]
    out = np.full(n, np.nan)
    total = 0.0
    comp = 0.0
    last_nan = -1
    for t in range(n):
        if np.isnan(x[t]):
            last_nan = t
        else:
            total, comp = _add_compensated(total, comp, x[t])
        if t >= window and not np.isnan(x[t - window]):
            total, comp = _add_compensated(total, comp, -x[t - window])
        if t >= window - 1 and last_nan <= t - window:
            out[t] = (total + comp) / window
    return out


@njit(cache=True)
def rolling_std_nb(x: F64, window: int, ddof: int) -> F64:
    """Standard deviation of each trailing window, two-pass (mean first) for accuracy."""
    n = x.shape[0]
    out = np.full(n, np.nan)
    for t in range(window - 1, n):
        total = 0.0
        for i in range(t - window + 1, t + 1):
            total += x[i]
        mean = total / window
        sq = 0.0
        for i in range(t - window + 1, t + 1):
            sq += (x[i] - mean) ** 2
        out[t] = np.sqrt(sq / (window - ddof))
    return out


@njit(cache=True)
def rolling_extreme_nb(x: F64, window: int, highest: bool) -> F64:
    """Highest (``highest=True``) or lowest value of each trailing window, ``O(n)``.

    A monotone queue of candidate indices: a new value evicts every older candidate it beats,
    since those can never be the extreme again while it is in the window. A NaN inside a window
    makes that window NaN.
    """
    n = x.shape[0]
    out = np.full(n, np.nan)
    queue = np.empty(n, dtype=np.int64)
    head = 0
    tail = 0
    last_nan = -1
    for t in range(n):
        v = x[t]
        if np.isnan(v):
            last_nan = t
        else:
            while tail > head and (x[queue[tail - 1]] <= v if highest else x[queue[tail - 1]] >= v):
                tail -= 1
            queue[tail] = t
            tail += 1
        while tail > head and queue[head] <= t - window:
            head += 1
        if t >= window - 1 and last_nan <= t - window and tail > head:
            out[t] = x[queue[head]]
    return out
