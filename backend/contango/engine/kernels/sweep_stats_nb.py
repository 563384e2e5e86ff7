"""Per-trial return statistics that the overfitting diagnostics read, gathered by the sweep.

The Probability of Backtest Overfitting and the Deflated Sharpe Ratio need, per trial, the
count, mean, sum of squared deviations and sum of squares of its bar returns, and the sums and
sums of squares of the returns over consecutive blocks of bars. Reading them back from a
finished sweep means another pass over its whole returns matrix (tens of MB for thousands of
trials); the sweep kernel gathers them instead while each trial's returns row is in cache.

The figures must equal, bit for bit, what the research layer's ``column_stats_nb`` computes
from the sweep's returns (the engine does not import research: this module restates its
arithmetic). For the returns ``x`` of one trial (``returns[1:]``, blocks
``starts[b]:starts[b + 1]`` covering every row):

* finite returns are added in time order into a count, a total and a sum of squares; a
  non-finite return (after a wiped-out account) counts as 0 in the block sums only;
* each block's sum and sum of squares start from 0 and add its rows in time order;
* the mean is ``total / count`` (NaN without a finite return); the deviations ``x - mean`` of
  finite returns (0 for the others) are squared and added in time order in a second pass.

Sequential sums are chains of dependent additions (each waits for the previous one); the
fused kernel runs them in loops that have other, independent work to overlap with: the first
pass with the pairwise sum of the same returns (:func:`leaf_sum_chains_nb`), the deviations
with the pairwise spread of ``sweep_pairwise_nb``. :func:`return_stats_nb` is the plain
version, for a trial whose account was wiped out and for the per-trial engine.
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from contango.engine.kernels.sweep_pairwise_nb import add8, fold8, row8

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
# Columns of the per-trial moments.
COUNT = 0
MEAN = 1
DEVIATIONS = 2
SQUARES = 3
N_MOMENTS = 4


# The first pass's running sums: total, sum of squares, the current block's sum and sum of
# squares (the current block and the index at which it ends travel beside them).
Chains = tuple[float, float, float, float]


@njit(cache=True)
def flush_nb(
    end_at: int, block_sum: float, block_sq: float, block: int, first: int, starts: I64,
    sums: F64, squares: F64,
) -> tuple[int, int]:  # fmt: skip
    """Write out the block ending at index ``end_at`` and any empty ones after it (sums 0);
    returns the next block and the index at which it ends (-1 after the last). A real call:
    it runs once per block, and inlined it would make the loop around it reference-count
    the arrays at every return."""
    n_blocks = starts.shape[0] - 1
    end = end_at
    while end == end_at:
        sums[block] = block_sum
        squares[block] = block_sq
        block_sum, block_sq = 0.0, 0.0
        block += 1
        end = first + starts[block + 1] if block < n_blocks else -1
    return block, end


@njit(cache=True)
def first_block_nb(first: int, starts: I64, sums: F64, squares: F64) -> tuple[int, int]:
    """The first block and the index at which it ends, for returns from index ``first`` on
    (leading empty blocks are written out)."""
    if starts[1] == 0:
        return flush_nb(first, 0.0, 0.0, 0, first, starts, sums, squares)
    return 0, first + starts[1]


@njit(cache=True, inline="always")
def _add_nb(x: float, total: float, sq: float, block_sum: float, block_sq: float) -> Chains:
    q = x * x
    return total + x, sq + q, block_sum + x, block_sq + q


@njit(cache=True, inline="always")
def leaf_sum_chains_nb(
    x: F64, lo: int, size: int, chains: Chains, block: int, end: int, first: int,
    starts: I64, sums: F64, squares: F64,
) -> tuple[float, Chains, int, int]:  # fmt: skip
    """One pairwise leaf of ``x[lo:lo + size]`` (all finite) as ``leaf_sum_nb``, with the
    first pass of the statistics carried along in time order (its chains of additions wait
    on each other; the leaf's sum is independent work that fills the gaps); ``block`` ends
    at index ``end``. The per-value steps are written out on scalars: an array handed to a
    helper inside the loop would be reference-counted at every value."""
    total, sq, block_sum, block_sq = chains
    hi = lo + size
    last = hi - size % 8 if size >= 8 else lo
    res = 0.0
    if size >= 8:
        r = row8(x, lo)
        for b in range(lo, last, 8):
            if b > lo:
                r = add8(r, row8(x, b))
            for i in range(b, b + 8):
                total, sq, block_sum, block_sq = _add_nb(x[i], total, sq, block_sum, block_sq)
                if i + 1 == end:
                    block, end = flush_nb(end, block_sum, block_sq, block, first, starts, sums,
                                          squares)  # fmt: skip
                    block_sum, block_sq = 0.0, 0.0
        res = fold8(r)
    for i in range(last, hi):  # the tail, or a leaf under 8 values (a plain sum from 0)
        res += x[i]
        total, sq, block_sum, block_sq = _add_nb(x[i], total, sq, block_sum, block_sq)
        if i + 1 == end:
            block, end = flush_nb(end, block_sum, block_sq, block, first, starts, sums,
                                  squares)  # fmt: skip
            block_sum, block_sq = 0.0, 0.0
    return res, (total, sq, block_sum, block_sq), block, end


@njit(cache=True)
def return_stats_nb(x: F64, first: int, starts: I64, moments: F64, sums: F64, squares: F64) -> None:
    """The statistics of the returns ``x[first:]`` of one trial, some maybe non-finite, into
    ``moments`` ``(N_MOMENTS,)``, ``sums`` and ``squares`` ``(S,)``: the plain two passes."""
    count, total, sq = 0.0, 0.0, 0.0
    for b in range(starts.shape[0] - 1):
        block_sum, block_sq = 0.0, 0.0
        for i in range(first + starts[b], first + starts[b + 1]):
            v = x[i]
            if math.isfinite(v):
                count += 1.0
                total += v
                sq += v * v
            else:
                v = 0.0
            block_sum += v
            block_sq += v * v
        sums[b] = block_sum
        squares[b] = block_sq
    mean = total / count if count > 0.0 else np.nan
    dev = 0.0
    for i in range(first, x.shape[0]):
        d = x[i] - mean if math.isfinite(x[i]) else 0.0
        dev += d * d
    moments[COUNT], moments[MEAN], moments[DEVIATIONS], moments[SQUARES] = count, mean, dev, sq


@njit(cache=True, nogil=True)
def rows_stats_nb(returns: F64, starts: I64, moments: F64, sums: F64, squares: F64) -> None:
    """:func:`return_stats_nb` of every row of ``returns`` ``(k, n)`` (nothing when
    ``starts`` is empty)."""
    if starts.shape[0] == 0:
        return
    for i in range(returns.shape[0]):
        return_stats_nb(returns[i], 1, starts, moments[i], sums[i], squares[i])
