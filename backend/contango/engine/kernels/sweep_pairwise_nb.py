"""Sums in NumPy's pairwise order, bit for bit, for the sweep kernel's per-trial figures.

NumPy sums a contiguous float64 array pairwise: a run of at most 128 values is a leaf, added
with 8 interleaved accumulators (value ``i`` goes to accumulator ``i % 8``), folded as
``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``, then the tail below a multiple of 8
added one by one (a leaf under 8 values is a plain left-to-right sum from 0); a longer run is
split at ``n // 2`` rounded down to a multiple of 8 and the halves' sums are added. Means,
standard deviations and the mean equity of ``compute_metrics`` agree with the kernel's bit for
bit only if the kernel adds in exactly that order.

Every trial of a sweep has the same number of bars, so the split is planned once per kernel
call (:func:`pairwise_plan_nb`): the leaves in index order and a postfix program that adds
their sums back up. A trial then runs plain loops over the leaves (values in registers, no
recursion, no allocation) and one short combine per figure.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Acc8 = tuple[float, float, float, float, float, float, float, float]

PW_BLOCK = 128  # NumPy's PW_BLOCKSIZE
_ADD = -1  # program token: add the two sums on top of the stack
_DEPTH = 64  # stack room: the tree is at most log2(n) deep


class PairwisePlan(NamedTuple):
    """How NumPy splits ``n`` values: leaves ``(L, 2)`` as (offset, size) in index order, and
    a postfix program over them (a leaf's index pushes its sum; ``-1`` adds the top two)."""

    leaves: I64
    program: I64


@njit(cache=True)
def most_leaves_nb(n: int) -> int:
    """At most how many leaves NumPy's split of ``n`` values has (a split leaf holds over 60
    values)."""
    return n // 32 + 2


@njit(cache=True)
def pairwise_plan_nb(n: int) -> PairwisePlan:
    """NumPy's pairwise split of ``n`` values (``n >= 1``), walked depth first: a run is
    replaced by its first half, its second half and an add, in that order."""
    leaves = np.empty((most_leaves_nb(n), 2), dtype=np.int64)
    program = np.empty(2 * leaves.shape[0], dtype=np.int64)
    todo = np.empty((3 * _DEPTH, 3), dtype=np.int64)  # (offset, size, 1 for "add now")
    top, n_leaves, n_tokens = 0, 0, 0
    todo[0, 0], todo[0, 1], todo[0, 2] = 0, n, 0
    while top >= 0:
        lo, size, add = todo[top, 0], todo[top, 1], todo[top, 2]
        top -= 1
        if add == 1:
            program[n_tokens] = _ADD
            n_tokens += 1
        elif size <= PW_BLOCK:
            leaves[n_leaves, 0], leaves[n_leaves, 1] = lo, size
            program[n_tokens] = n_leaves
            n_leaves += 1
            n_tokens += 1
        else:
            half = size // 2
            half -= half % 8
            todo[top + 1, 0], todo[top + 1, 1], todo[top + 1, 2] = lo, size, 1
            todo[top + 2, 0], todo[top + 2, 1], todo[top + 2, 2] = lo + half, size - half, 0
            todo[top + 3, 0], todo[top + 3, 1], todo[top + 3, 2] = lo, half, 0
            top += 3
    return PairwisePlan(leaves[:n_leaves].copy(), program[:n_tokens].copy())


@njit(cache=True, inline="always")
def combine_nb(program: I64, sums: F64, stack: F64) -> float:
    """The pairwise total from the leaves' ``sums``, added as the plan's program says."""
    top = -1
    for token in program:
        if token == _ADD:
            stack[top - 1] = stack[top - 1] + stack[top]
            top -= 1
        else:
            top += 1
            stack[top] = sums[token]
    return stack[0]  # type: ignore[no-any-return]


@njit(cache=True, inline="always")
def row8(x: F64, b: int) -> Acc8:
    return (x[b], x[b + 1], x[b + 2], x[b + 3], x[b + 4], x[b + 5], x[b + 6], x[b + 7])


@njit(cache=True, inline="always")
def add8(r: Acc8, v: Acc8) -> Acc8:
    return (
        r[0] + v[0], r[1] + v[1], r[2] + v[2], r[3] + v[3],
        r[4] + v[4], r[5] + v[5], r[6] + v[6], r[7] + v[7],
    )  # fmt: skip


@njit(cache=True, inline="always")
def fold8(r: Acc8) -> float:
    return ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))


@njit(cache=True, inline="always")
def leaf_sum_nb(x: F64, lo: int, size: int) -> float:
    """One leaf: the sum of ``x[lo:lo + size]`` in NumPy's order."""
    if size < 8:
        res = 0.0
        for i in range(lo, lo + size):
            res += x[i]
        return res
    r = row8(x, lo)
    last = lo + size - size % 8
    for b in range(lo + 8, last, 8):
        r = add8(r, row8(x, b))
    res = fold8(r)
    for i in range(last, lo + size):
        res += x[i]
    return res


@njit(cache=True, inline="always")
def _times8(r: Acc8) -> Acc8:
    return (
        r[0] * r[0], r[1] * r[1], r[2] * r[2], r[3] * r[3],
        r[4] * r[4], r[5] * r[5], r[6] * r[6], r[7] * r[7],
    )  # fmt: skip


@njit(cache=True, inline="always")
def leaf_sum_squares_nb(x: F64, lo: int, size: int) -> tuple[float, float]:
    """One leaf: the sums of ``x[lo:lo + size]`` and of its squares (``x * x``, as NumPy's
    temporary ``x ** 2``), each in NumPy's order."""
    if size < 8:
        res, sq = 0.0, 0.0
        for i in range(lo, lo + size):
            res += x[i]
            sq += x[i] * x[i]
        return res, sq
    r = row8(x, lo)
    q = _times8(r)
    last = lo + size - size % 8
    for b in range(lo + 8, last, 8):
        v = row8(x, b)
        r, q = add8(r, v), add8(q, _times8(v))
    res, sq = fold8(r), fold8(q)
    for i in range(last, lo + size):
        res += x[i]
        sq += x[i] * x[i]
    return res, sq


@njit(cache=True, inline="always")
def _squares8(x: F64, b: int, mean: float) -> tuple[Acc8, Acc8]:
    """``(x - mean) ** 2`` and ``minimum(x, 0) ** 2`` of 8 values, as NumPy's temporaries."""
    e = (
        x[b] - mean, x[b + 1] - mean, x[b + 2] - mean, x[b + 3] - mean,
        x[b + 4] - mean, x[b + 5] - mean, x[b + 6] - mean, x[b + 7] - mean,
    )  # fmt: skip
    f = (
        min(x[b], 0.0), min(x[b + 1], 0.0), min(x[b + 2], 0.0), min(x[b + 3], 0.0),
        min(x[b + 4], 0.0), min(x[b + 5], 0.0), min(x[b + 6], 0.0), min(x[b + 7], 0.0),
    )  # fmt: skip
    return (
        (e[0] * e[0], e[1] * e[1], e[2] * e[2], e[3] * e[3],
         e[4] * e[4], e[5] * e[5], e[6] * e[6], e[7] * e[7]),
        (f[0] * f[0], f[1] * f[1], f[2] * f[2], f[3] * f[3],
         f[4] * f[4], f[5] * f[5], f[6] * f[6], f[7] * f[7]),
    )  # fmt: skip


@njit(cache=True, inline="always")
def leaf_spread_nb(x: F64, lo: int, size: int, mean: float) -> tuple[float, float]:
    """One leaf of the squared deviations from ``mean`` and of the squared shortfalls below 0,
    each in NumPy's order (``(x - mean) ** 2`` and ``minimum(x, 0) ** 2`` summed)."""
    hi = lo + size
    last = hi - size % 8 if size >= 8 else lo
    squares, shortfall = 0.0, 0.0
    if size >= 8:
        d, s = _squares8(x, lo, mean)
        for b in range(lo + 8, last, 8):
            dd, ss = _squares8(x, b, mean)
            d, s = add8(d, dd), add8(s, ss)
        squares, shortfall = fold8(d), fold8(s)
    for i in range(last, hi):  # the tail, or a leaf under 8 values (plain sums from 0)
        e, f = x[i] - mean, min(x[i], 0.0)
        squares += e * e
        shortfall += f * f
    return squares, shortfall
