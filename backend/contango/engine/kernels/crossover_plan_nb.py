"""Every moving average a crossover sweep needs, computed in one call per market.

A sweep over fast and slow windows needs each distinct average once (76 for the benchmark
grid of 1,590 parameter sets). Calling the indicator kernels window by window from Python
costs more in dispatch and copying than in arithmetic; here one compiled loop computes them
all and writes each straight into its place in the plan. The values are those of
``engine/indicators.py`` bit for bit: the exponential averages come from its kernel, the
simple ones from :func:`rolling_mean_gapless_nb`, its rolling mean restated for a series
without gaps.
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from contango.engine.kernels.indicators_nb import sma_seeded_ewm_nb

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B1 = npt.NDArray[np.bool_]


@njit(cache=True, inline="always")
def _add_compensated(total: float, comp: float, value: float) -> tuple[float, float]:
    """``indicators_nb._add_compensated`` (Neumaier's addition) with a select for its branch:
    both corrections are computed and the same one kept, so the sums are the same; but the
    comparison's outcome is random for a price series, and a mispredicted branch per value
    cost more than the arithmetic."""
    new = total + value
    big = (total - new) + value
    small = (value - new) + total
    return new, comp + (big if abs(total) >= abs(value) else small)


@njit(cache=True)
def rolling_mean_gapless_nb(x: F64, window: int, out: F64) -> None:
    """``indicators_nb.rolling_mean_nb(x, window)`` into ``out`` for a series without NaN
    (then every value enters and leaves the compensated sum, and every window from the
    ``window``-th value on is published)."""
    n = x.shape[0]
    total, comp = 0.0, 0.0
    for t in range(min(window, n)):
        total, comp = _add_compensated(total, comp, x[t])
        out[t] = np.nan
    if 0 < window <= n:
        out[window - 1] = (total + comp) / window
    for t in range(window, n):
        total, comp = _add_compensated(total, comp, x[t])
        total, comp = _add_compensated(total, comp, -x[t - window])
        out[t] = (total + comp) / window


@njit(cache=True)
def moving_averages_nb(series: F64, rows: I64, windows: I64, ema: B1, out: F64, j: int) -> None:
    """``out[k, :, j]``: the simple (or, where ``ema[k]``, SMA-seeded exponential) moving
    average over ``windows[k]`` bars of ``series``, the market's closes on its bars with data
    (``rows``); NaN on the other bars. As ``indicators.sma`` and ``indicators.ema``."""
    n = out.shape[1]
    values = np.empty(series.shape[0])
    for k in range(windows.shape[0]):
        window = windows[k]
        if ema[k]:
            values = sma_seeded_ewm_nb(series, window, 2.0 / (window + 1.0))
        else:
            rolling_mean_gapless_nb(series, window, values)
        if rows.shape[0] < n:
            out[k, :, j] = np.nan
        for i in range(rows.shape[0]):
            out[k, rows[i], j] = values[i]
