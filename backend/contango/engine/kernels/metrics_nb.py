"""Numba kernel for the stationary bootstrap of a return series.

The random draws are made by the caller's seeded ``numpy.random.Generator`` and passed in, so
the kernel is a pure function and the result is reproducible bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B1 = npt.NDArray[np.bool_]


@njit(cache=True)
def stationary_bootstrap_nb(
    returns: F64, excess: F64, new_block: B1, starts: I64, periods_per_year: float
) -> F64:
    """Sharpe and max drawdown of ``B`` stationary-bootstrap resamples; returns ``(B, 2)``.

    Resample ``b`` walks through the series: at step ``t`` it jumps to ``starts[b, t]`` when
    ``new_block[b, t]`` (always at ``t = 0``), otherwise it takes the next observation, wrapping
    round at the end (Politis & Romano, 1994). ``excess`` feeds the Sharpe ratio, ``returns``
    the compounded path whose max drawdown is recorded (as a positive fraction).
    """
    n_resamples, n = new_block.shape
    out = np.empty((n_resamples, 2))
    sample = np.empty(n)
    for b in range(n_resamples):
        idx = starts[b, 0]
        wealth = 1.0
        peak = 1.0
        worst = 0.0
        total = 0.0
        for t in range(n):
            if t > 0:
                idx = starts[b, t] if new_block[b, t] else (idx + 1) % n
            sample[t] = excess[idx]
            total += excess[idx]
            wealth *= 1.0 + returns[idx]
            peak = max(peak, wealth)
            worst = max(worst, 1.0 - wealth / peak)
        mean = total / n
        sq = 0.0
        for t in range(n):
            sq += (sample[t] - mean) ** 2
        sd = math.sqrt(sq / (n - 1)) if n > 1 else 0.0
        out[b, 0] = mean / sd * math.sqrt(periods_per_year) if sd > 0 else np.nan
        out[b, 1] = worst
    return out
