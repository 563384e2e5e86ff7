"""Numba kernels of a sweep's return statistics: each trial's moments and per-block sums.

What the Deflated Sharpe Ratio (per-bar Sharpe ratios) and PBO (CSCV block sums) read from a
``T x N`` returns matrix, in one pass where the layout allows. The sums add rows in time order,
as NumPy reduces ``axis=0`` of a large array, so the figures equal NumPy's (and the sweep
kernel's, which gathers the same sums while each trial's returns are in cache,
``contango.engine.kernels.sweep_stats_nb``) bit for bit. Non-finite returns count as 0 (no
position).

With ``NUMBA_DISABLE_JIT=1`` the same loops run as plain Python (the tests run both ways).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from contango.kernel_cache import use_versioned_cache

use_versioned_cache()

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def block_stats_nb(returns: F64, starts: I64) -> tuple[F64, F64]:
    """Per-block sums and sums of squares (``S x N``) of ``returns`` (``T x N``), blocks
    ``starts[b]:starts[b + 1]``; non-finite returns count as 0 (no position)."""
    n_blocks = starts.size - 1
    n = returns.shape[1]
    sums = np.zeros((n_blocks, n))
    squares = np.zeros((n_blocks, n))
    for b in prange(n_blocks):
        for t in range(starts[b], starts[b + 1]):
            for j in range(n):
                x = returns[t, j]
                if not np.isfinite(x):
                    x = 0.0
                sums[b, j] += x
                squares[b, j] += x * x
    return sums, squares


_COLUMNS_PER_TASK = 256  # 2 KB of each row per task: whole cache lines, enough tasks


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def column_moments_nb(returns: F64) -> tuple[F64, F64, F64, F64]:
    """Per column of ``returns`` (``T x N``): the count of finite returns, their mean, the
    sum of squared deviations from it and the sum of squares; non-finite returns count as 0
    in the sums. Rows are added in order, as NumPy reduces ``axis=0`` of a large array, so the
    figures equal NumPy's (bit for bit on a sweep's returns; small arrays NumPy may add
    pairwise)."""
    n_bars, n = returns.shape
    count = np.zeros(n)
    mean = np.zeros(n)
    deviations = np.zeros(n)
    squares = np.zeros(n)
    for task in prange((n + _COLUMNS_PER_TASK - 1) // _COLUMNS_PER_TASK):
        first = task * _COLUMNS_PER_TASK
        last = min(first + _COLUMNS_PER_TASK, n)
        for t in range(n_bars):
            for j in range(first, last):
                x = returns[t, j]
                if np.isfinite(x):
                    count[j] += 1.0
                    mean[j] += x
                    squares[j] += x * x
        for j in range(first, last):
            mean[j] = mean[j] / count[j] if count[j] > 0.0 else np.nan
        for t in range(n_bars):
            for j in range(first, last):
                x = returns[t, j]
                d = x - mean[j] if np.isfinite(x) else 0.0
                deviations[j] += d * d
    return count, mean, deviations, squares


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def column_stats_nb(returns: F64, starts: I64) -> tuple[F64, F64, F64, F64, F64, F64]:
    """:func:`column_moments_nb` and :func:`block_stats_nb` of ``returns`` in one read, one
    column at a time: for a Fortran-ordered matrix (a sweep's, whose trials are contiguous
    columns) the other two stride across every column on each row. Each figure adds the
    same numbers in the same order as those kernels, so they are equal bit for bit; blocks
    ``starts[b]:starts[b + 1]`` must cover every row (``starts[-1] == T``)."""
    n_bars, n = returns.shape
    n_blocks = starts.size - 1
    count, mean, deviations, squares = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    sums = np.zeros((n_blocks, n))
    block_squares = np.zeros((n_blocks, n))
    for j in prange(n):
        c, total, sq = 0.0, 0.0, 0.0
        for b in range(n_blocks):
            block_sum, block_sq = 0.0, 0.0
            for t in range(starts[b], starts[b + 1]):
                x = returns[t, j]
                if np.isfinite(x):
                    c += 1.0
                    total += x
                    sq += x * x
                else:
                    x = 0.0
                block_sum += x
                block_sq += x * x
            sums[b, j] = block_sum
            block_squares[b, j] = block_sq
        m = total / c if c > 0.0 else np.nan
        dev = 0.0
        for t in range(n_bars):
            x = returns[t, j]
            d = x - m if np.isfinite(x) else 0.0
            dev += d * d
        count[j], mean[j], deviations[j], squares[j] = c, m, dev, sq
    return count, mean, deviations, squares, sums, block_squares
