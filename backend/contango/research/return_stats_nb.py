"""Numba kernels of a sweep's return statistics: each trial's moments and per-block sums.

What the Deflated Sharpe Ratio (per-bar Sharpe ratios) and PBO (CSCV block sums) read from a
``T x N`` returns matrix, one column (trial) at a time. Each figure is a sum as NumPy adds a
contiguous array (pairwise): ``engine.kernels.sweep_stats_nb`` says exactly which, and the
sweep kernel gathers the very same figures while each trial's returns are in cache, so the
two agree bit for bit. Non-finite returns count as 0 in the block sums (no position) and are
left out of the moments.

A column of a Fortran-ordered matrix (a sweep's) is read where it lies; the columns of a
row-major one are copied out a few at a time first (the same numbers in the same order).

With ``NUMBA_DISABLE_JIT=1`` the same loops run as plain Python (the tests run both ways).
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from contango.engine.kernels.sweep_pairwise_nb import PairwisePlan, pairwise_plan_nb
from contango.engine.kernels.sweep_stats_nb import (
    COUNT,
    DEVIATIONS,
    MEAN,
    N_MOMENTS,
    SQUARES,
    BlockPlan,
    block_plan_nb,
    series_stats_nb,
    stats_scratch_nb,
)
from contango.kernel_cache import use_versioned_cache

use_versioned_cache()

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


_COLUMNS_PER_TASK = 8  # a row's 8 values of a row-major matrix are one cache line


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _columns_nb(
    returns: F64, plan: BlockPlan, whole: PairwisePlan, moments: F64, sums: F64, squares: F64,
    with_moments: bool,
) -> None:  # fmt: skip
    """Each column's statistics into row ``j`` of ``moments`` and column ``j`` of ``sums``
    and ``squares`` (the plans come in as arguments: a parallel loop takes in a tuple made
    outside it only so). A task takes ``_COLUMNS_PER_TASK`` columns with one scratch; when
    the matrix is not column-major it copies them out first, row by row (reading a column
    where it lies would touch a cache line per value)."""
    n_bars, n = returns.shape
    n_blocks = sums.shape[0]
    by_column = returns.strides[0] == returns.itemsize
    for task in prange((n + _COLUMNS_PER_TASK - 1) // _COLUMNS_PER_TASK):
        first = task * _COLUMNS_PER_TASK
        last = min(first + _COLUMNS_PER_TASK, n)
        copies = np.empty((0 if by_column else last - first, n_bars))
        if not by_column:
            for t in range(n_bars):
                for j in range(first, last):
                    copies[j - first, t] = returns[t, j]
        work, buffer = stats_scratch_nb(n_bars)
        column_sums, column_squares = np.empty(n_blocks), np.empty(n_blocks)
        for j in range(first, last):
            column = returns[:, j] if by_column else copies[j - first]
            series_stats_nb(
                column, 0, plan, whole, moments[j], column_sums, column_squares, work, buffer,
                with_moments,
            )  # fmt: skip
            for b in range(n_blocks):
                sums[b, j] = column_sums[b]
                squares[b, j] = column_squares[b]


@njit(cache=True, nogil=True, error_model="numpy")
def column_stats_nb(returns: F64, starts: I64) -> tuple[F64, F64, F64, F64, F64, F64]:
    """Per column of ``returns`` (``T x N``): the count of finite returns, their mean, the
    sum of squared deviations from it and the sum of squares, then the per-block sums and
    sums of squares (``S x N``, blocks ``starts[b]:starts[b + 1]`` covering every row,
    non-finite returns as 0)."""
    n = returns.shape[1]
    n_blocks = starts.size - 1
    moments = np.empty((n, N_MOMENTS))
    sums, squares = np.empty((n_blocks, n)), np.empty((n_blocks, n))
    whole = pairwise_plan_nb(max(returns.shape[0], 1))
    _columns_nb(returns, block_plan_nb(starts), whole, moments, sums, squares, True)
    count = np.ascontiguousarray(moments[:, COUNT])
    mean = np.ascontiguousarray(moments[:, MEAN])
    deviations = np.ascontiguousarray(moments[:, DEVIATIONS])
    return count, mean, deviations, np.ascontiguousarray(moments[:, SQUARES]), sums, squares


@njit(cache=True, nogil=True, error_model="numpy")
def column_moments_nb(returns: F64) -> tuple[F64, F64, F64, F64]:
    """The moments of :func:`column_stats_nb` alone."""
    whole = np.array([0, returns.shape[0]], dtype=np.int64)
    count, mean, deviations, squares, _, _ = column_stats_nb(returns, whole)
    return count, mean, deviations, squares


@njit(cache=True, nogil=True, error_model="numpy")
def block_stats_nb(returns: F64, starts: I64) -> tuple[F64, F64]:
    """The block sums and sums of squares of :func:`column_stats_nb` alone (its moments are
    not computed); a row-major matrix is summed row by row, every column at once."""
    n = returns.shape[1]
    n_blocks = starts.size - 1
    sums, squares = np.empty((n_blocks, n)), np.empty((n_blocks, n))
    plan = block_plan_nb(starts)
    if returns.strides[1] == returns.itemsize and n > 1:
        _row_major_blocks_nb(returns, plan, sums, squares)
        return sums, squares
    whole = pairwise_plan_nb(max(returns.shape[0], 1))
    none = np.empty((n, N_MOMENTS))
    _columns_nb(returns, plan, whole, none, sums, squares, False)
    return sums, squares


_ROW_COLUMNS = 128  # columns a task of the row-major sums takes: 1 KB of each row


@njit(cache=True, inline="always", error_model="numpy")
def _clean(v: float) -> float:
    return v if np.isfinite(v) else 0.0


@njit(cache=True, error_model="numpy")
def _leaf_rows_nb(
    returns: F64, lo: int, size: int, c0: int, acc: F64, acc_sq: F64, out: F64, out_sq: F64
) -> None:  # fmt: skip
    """One leaf, rows ``lo:lo + size``, of columns ``c0:c0 + len(out)``: ``leaf_sum_squares_nb``
    of each column (non-finite returns as 0) into ``out`` and ``out_sq``."""
    w = out.shape[0]
    tail = lo  # a leaf under 8 values: a plain sum from 0
    if size >= 8:
        for i in range(8):
            for c in range(w):
                v = _clean(returns[lo + i, c0 + c])
                acc[i, c] = v
                acc_sq[i, c] = v * v
        tail = lo + size - size % 8
        for row in range(lo + 8, tail, 8):
            for i in range(8):
                for c in range(w):
                    v = _clean(returns[row + i, c0 + c])
                    acc[i, c] += v
                    acc_sq[i, c] += v * v
        for c in range(w):
            out[c] = ((acc[0, c] + acc[1, c]) + (acc[2, c] + acc[3, c])) + (
                (acc[4, c] + acc[5, c]) + (acc[6, c] + acc[7, c])
            )
            out_sq[c] = ((acc_sq[0, c] + acc_sq[1, c]) + (acc_sq[2, c] + acc_sq[3, c])) + (
                (acc_sq[4, c] + acc_sq[5, c]) + (acc_sq[6, c] + acc_sq[7, c])
            )
    else:
        out[:] = 0.0
        out_sq[:] = 0.0
    for row in range(tail, lo + size):
        for c in range(w):
            v = _clean(returns[row, c0 + c])
            out[c] += v
            out_sq[c] += v * v


@njit(cache=True, error_model="numpy")
def _combine_rows_nb(program: I64, leaf: F64, stack: F64) -> None:
    """``combine_nb`` of every column at once: the total into ``stack[0]``."""
    top = -1
    for token in program:
        if token < 0:  # add the two sums on top of the stack
            for c in range(stack.shape[1]):
                stack[top - 1, c] = stack[top - 1, c] + stack[top, c]
            top -= 1
        else:
            top += 1
            stack[top, :] = leaf[token, :]


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def _row_major_blocks_nb(returns: F64, plan: BlockPlan, sums: F64, squares: F64) -> None:
    """Each column's block sums and sums of squares (non-finite returns as 0) of a row-major
    matrix, in NumPy's pairwise order per column as ``sweep_pairwise_nb`` adds a contiguous
    array (8 running sums per leaf, folded, then the tail; leaves added back by the plan),
    the very same operations done for a row of columns at a time, so reading row by row."""
    n = returns.shape[1]
    n_blocks = plan.first_leaf.shape[0] - 1
    most = 1
    for b in range(n_blocks):
        most = max(most, plan.first_leaf[b + 1] - plan.first_leaf[b])
    for task in prange((n + _ROW_COLUMNS - 1) // _ROW_COLUMNS):
        c0 = task * _ROW_COLUMNS
        w = min(c0 + _ROW_COLUMNS, n) - c0
        acc, acc_sq = np.empty((8, w)), np.empty((8, w))
        leaf, leaf_sq = np.empty((most, w)), np.empty((most, w))
        stack = np.empty((64, w))
        for b in range(n_blocks):
            first, stop = plan.first_leaf[b], plan.first_leaf[b + 1]
            if first == stop:  # an empty block
                sums[b, c0 : c0 + w] = 0.0
                squares[b, c0 : c0 + w] = 0.0
                continue
            for k in range(stop - first):
                lo, size = plan.leaves[first + k, 0], plan.leaves[first + k, 1]
                _leaf_rows_nb(returns, lo, size, c0, acc, acc_sq, leaf[k], leaf_sq[k])
            program = plan.program[plan.first_token[b] : plan.first_token[b + 1]]
            _combine_rows_nb(program, leaf, stack)
            sums[b, c0 : c0 + w] = stack[0, :]
            _combine_rows_nb(program, leaf_sq, stack)
            squares[b, c0 : c0 + w] = stack[0, :]
