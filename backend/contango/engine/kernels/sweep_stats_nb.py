"""Per-trial return statistics that the overfitting diagnostics read, gathered by the sweep.

The Probability of Backtest Overfitting and the Deflated Sharpe Ratio need, per trial, the
count, mean, sum of squared deviations and sum of squares of its bar returns, and the sums and
sums of squares of the returns over consecutive blocks of bars. Reading them back from a
finished sweep means another pass over its whole returns matrix (tens of MB for thousands of
trials); the sweep kernel gathers them instead while each trial's returns row is in cache.

Every figure is a sum as NumPy adds a contiguous array (pairwise, ``sweep_pairwise_nb``), so
a plain ``.sum()`` of the same numbers gives it bit for bit, and the research layer's
``return_stats_nb`` (which calls :func:`series_stats_nb` per column) gives the same figures
from a finished sweep's returns. For the returns ``x`` of one trial (``returns[1:]``, blocks
``starts[b]:starts[b + 1]`` covering every row):

* ``f``, the finite returns in time order: the count is ``f.size``, the mean
  ``f.sum() / f.size`` (NaN without any), the deviations ``((f - mean) ** 2).sum()`` and the
  squares ``(f ** 2).sum()`` (both 0 without any);
* ``z``, ``x`` with its non-finite returns as 0 (no position): block ``b``'s sum is
  ``z[starts[b]:starts[b + 1]].sum()`` and its squares ``(z[...] ** 2).sum()`` (0 when empty).

With every return finite the mean and the deviations are those of the sweep's own Sharpe
ratio (``sweep_metrics_nb`` sums them so), and every sum runs on independent accumulators:
no chain of dependent additions, as time-ordered sums would be, holds the kernel up.
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

from contango.engine.kernels.sweep_pairwise_nb import (
    PairwisePlan,
    combine_nb,
    leaf_spread_nb,
    leaf_sum_squares_nb,
    most_leaves_nb,
    pairwise_plan_nb,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
# Columns of the per-trial moments.
COUNT = 0
MEAN = 1
DEVIATIONS = 2
SQUARES = 3
N_MOMENTS = 4


class BlockPlan(NamedTuple):
    """NumPy's pairwise split of every block: block ``b``'s leaves (offset into the returns
    less row 0, size) are ``leaves[first_leaf[b]:first_leaf[b + 1]]``, its postfix program
    (``sweep_pairwise_nb.PairwisePlan``, over its own leaves)
    ``program[first_token[b]:first_token[b + 1]]``. No blocks: ``starts`` empty."""

    starts: I64  # (S + 1,)
    leaves: I64  # (L, 2)
    first_leaf: I64  # (S + 1,)
    program: I64
    first_token: I64  # (S + 1,)


@njit(cache=True)
def block_plan_nb(starts: I64) -> BlockPlan:
    """The plan of blocks ``starts[b]:starts[b + 1]`` (``starts`` increasing; empty: none)."""
    n_blocks = max(starts.shape[0] - 1, 0)
    room = 0
    for b in range(n_blocks):
        room += most_leaves_nb(starts[b + 1] - starts[b])
    leaves = np.empty((room, 2), dtype=np.int64)
    program = np.empty(2 * room, dtype=np.int64)
    first_leaf = np.zeros(n_blocks + 1, dtype=np.int64)
    first_token = np.zeros(n_blocks + 1, dtype=np.int64)
    n_leaves, n_tokens = 0, 0
    for b in range(n_blocks):
        size = starts[b + 1] - starts[b]
        if size > 0:
            plan = pairwise_plan_nb(size)
            for j in range(plan.leaves.shape[0]):
                leaves[n_leaves + j, 0] = starts[b] + plan.leaves[j, 0]
                leaves[n_leaves + j, 1] = plan.leaves[j, 1]
            program[n_tokens : n_tokens + plan.program.shape[0]] = plan.program
            n_leaves += plan.leaves.shape[0]
            n_tokens += plan.program.shape[0]
        first_leaf[b + 1] = n_leaves
        first_token[b + 1] = n_tokens
    return BlockPlan(
        starts, leaves[:n_leaves].copy(), first_leaf, program[:n_tokens].copy(), first_token
    )


@njit(cache=True)
def block_sums_nb(
    x: F64, first: int, plan: BlockPlan, sums: F64, squares: F64, work_sums: F64,
    work_squares: F64, stack: F64,
) -> None:  # fmt: skip
    """Each block's sum and sum of squares of ``x[first:]`` (all finite) into ``sums`` and
    ``squares``; the work rows need a column per leaf of the longest block, the stack 64."""
    for b in range(plan.first_leaf.shape[0] - 1):
        lo, hi = plan.first_leaf[b], plan.first_leaf[b + 1]
        if lo == hi:
            sums[b], squares[b] = 0.0, 0.0  # an empty block
            continue
        for j in range(lo, hi):
            work_sums[j - lo], work_squares[j - lo] = leaf_sum_squares_nb(
                x, first + plan.leaves[j, 0], plan.leaves[j, 1]
            )
        program = plan.program[plan.first_token[b] : plan.first_token[b + 1]]
        sums[b] = combine_nb(program, work_sums, stack)
        squares[b] = combine_nb(program, work_squares, stack)


@njit(cache=True)
def _moments_nb(
    x: F64, first: int, plan: PairwisePlan, count: int, moments: F64, work: F64
) -> None:
    """The moments of ``x[first:first + count]``, all finite, laid out by ``plan``
    (``pairwise_plan_nb(count)``); ``work`` ``(3, >= max(leaves, 64))``."""
    leaves = plan.leaves
    for j in range(leaves.shape[0]):
        work[0, j], work[1, j] = leaf_sum_squares_nb(x, first + leaves[j, 0], leaves[j, 1])
    total = combine_nb(plan.program, work[0], work[2])
    squares = combine_nb(plan.program, work[1], work[2])
    mean = total / count
    for j in range(leaves.shape[0]):
        work[0, j], _ = leaf_spread_nb(x, first + leaves[j, 0], leaves[j, 1], mean)
    moments[COUNT], moments[MEAN] = float(count), mean
    moments[DEVIATIONS] = combine_nb(plan.program, work[0], work[2])
    moments[SQUARES] = squares


@njit(cache=True)
def finite_moments_nb(f: F64, count: int, moments: F64) -> None:
    """The moments of the ``count`` finite returns ``f[:count]`` into ``moments``."""
    if count == 0:
        moments[COUNT], moments[MEAN], moments[DEVIATIONS], moments[SQUARES] = 0.0, np.nan, 0.0, 0.0
        return
    plan = pairwise_plan_nb(count)
    _moments_nb(f, 0, plan, count, moments, np.empty((3, max(plan.leaves.shape[0], 64))))


@njit(cache=True)
def stats_scratch_nb(n: int) -> tuple[F64, F64]:
    """The ``work`` rows and ``buffer`` :func:`series_stats_nb` needs for series of ``n``
    returns: a column per leaf (and the combine stack's 64), a value per return."""
    return np.empty((3, max(most_leaves_nb(n), 64))), np.empty(n)


@njit(cache=True)
def series_stats_nb(
    x: F64, first: int, blocks: BlockPlan, whole: PairwisePlan, moments: F64, sums: F64,
    squares: F64, work: F64, buffer: F64, with_moments: bool = True,
) -> None:  # fmt: skip
    """:func:`return_stats_nb` with its plans and scratch given, for many series of one
    length ``n = len(x) - first``: ``whole`` is ``pairwise_plan_nb(n)``, ``work`` and
    ``buffer`` from :func:`stats_scratch_nb`. A series whose returns are all finite
    is summed where it lies. ``with_moments=False`` leaves ``moments`` alone (the block sums
    only)."""
    n = x.shape[0] - first
    count = 0
    for i in range(first, x.shape[0]):
        count += math.isfinite(x[i])
    if count == n:
        if with_moments:
            _moments_nb(x, first, whole, count, moments, work)
        block_sums_nb(x, first, blocks, sums, squares, work[0], work[1], work[2])
        return
    if with_moments:
        count = 0
        for i in range(n):
            v = x[first + i]
            if math.isfinite(v):
                buffer[count] = v
                count += 1
        finite_moments_nb(buffer, count, moments)
    for i in range(n):
        v = x[first + i]
        buffer[i] = v if math.isfinite(v) else 0.0
    block_sums_nb(buffer, 0, blocks, sums, squares, work[0], work[1], work[2])


@njit(cache=True)
def return_stats_nb(
    x: F64, first: int, plan: BlockPlan, moments: F64, sums: F64, squares: F64
) -> None:  # fmt: skip
    """The statistics of the returns ``x[first:]`` of one trial, some maybe non-finite, into
    ``moments`` ``(N_MOMENTS,)``, ``sums`` and ``squares`` ``(S,)``."""
    n = x.shape[0] - first
    work, buffer = stats_scratch_nb(n)
    series_stats_nb(
        x, first, plan, pairwise_plan_nb(max(n, 1)), moments, sums, squares, work, buffer
    )


@njit(cache=True, nogil=True)
def rows_stats_nb(returns: F64, starts: I64, moments: F64, sums: F64, squares: F64) -> None:
    """:func:`return_stats_nb` of every row of ``returns`` ``(k, n)`` from index 1 (nothing
    when ``starts`` is empty)."""
    if starts.shape[0] == 0:
        return
    plan = block_plan_nb(starts)
    n = returns.shape[1] - 1
    whole = pairwise_plan_nb(max(n, 1))
    work, buffer = stats_scratch_nb(n)
    for i in range(returns.shape[0]):
        series_stats_nb(returns[i], 1, plan, whole, moments[i], sums[i], squares[i], work, buffer)


class Blocks(NamedTuple):
    """Where a sweep's return statistics go, with the blocks' pairwise plan
    (:class:`BlockPlan`, flat: a parallel loop takes no nested tuple). Not
    wanted: ``starts`` empty and the outputs ``(k, 0)``."""

    starts: I64  # (S + 1,) block boundaries over the rows of returns[1:]
    leaves: I64
    first_leaf: I64
    program: I64
    first_token: I64
    moments: F64  # (k, N_MOMENTS)
    sums: F64  # (k, S)
    squares: F64  # (k, S)


def new_blocks(k: int, starts: I64 | None) -> Blocks:
    """Outputs for the return statistics of ``k`` trials (``(k, 0)``: none wanted)."""
    plan = block_plan_nb(np.empty(0, dtype=np.int64) if starts is None else starts)
    n_blocks = plan.first_leaf.shape[0] - 1
    width = N_MOMENTS if n_blocks > 0 else 0
    return Blocks(
        *plan, np.empty((k, width)), np.empty((k, n_blocks)), np.empty((k, n_blocks))
    )  # fmt: skip


def blocks_slice(blocks: Blocks, lo: int, hi: int) -> Blocks:
    """The outputs of trials ``lo:hi`` (views)."""
    return blocks._replace(
        moments=blocks.moments[lo:hi], sums=blocks.sums[lo:hi], squares=blocks.squares[lo:hi]
    )


@njit(cache=True, inline="always")
def plan_of_nb(blocks: Blocks) -> BlockPlan:
    """The plan held in ``blocks``."""
    return BlockPlan(
        blocks.starts, blocks.leaves, blocks.first_leaf, blocks.program, blocks.first_token
    )
