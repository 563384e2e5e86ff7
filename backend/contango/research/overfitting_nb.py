"""Numba kernels of the Probability of Backtest Overfitting (CSCV, see ``overfitting.py``).

The NumPy twin builds two ``C(S, S/2) x N`` matrices of Sharpe ratios (12,870 x 1,590 for
16 blocks: 160 MB each) and ranks them; here a combination and its complement (whose halves
are the same two, swapped) are one pair of a parallel loop that keeps ``O(N)`` scratch and
writes only those two rows of the outputs, so results do not depend on the number of threads.

* Blocks are gathered in groups of up to 8, and the sums of every subset of a group are
  tabulated once (``subset_sums_nb``), so a half's sums are 2 additions for 16 blocks, not 8.
* Within a half every trial has the same number of bars ``n``, and the per-bar Sharpe
  ``(s / n) / sqrt((q - s^2 / n) / (n - 1))`` is an increasing function of the key
  ``s |s| / (n q - s^2)``: ranks and the in-sample best come from keys (one division, no
  square root), and only the winner's Sharpe is computed in full.
* The out-of-sample half is summed from its own blocks, not as ``total - in-sample`` (the
  subtraction loses digits when the half's sum is small against the total's).

Most of the cost is streaming the tables (four rows per trial and half, 32 bytes) and the ~10
operations of a key; with two groups (10 to 16 blocks, up to 4,096 trials)
``cscv_two_groups_nb`` keeps the rest small, and passes over each half's rows once:

* two pairs whose combinations share the first group's subset are keyed together, one loop
  per side (three rows read per trial and half, not four); consecutive couples share rows
  (``overfitting`` orders them), read again while still in the cache;
* the in-sample best is found inside that loop: the largest key's bits (a positive float
  orders as its bits do as an integer, a maximum the compiler vectorises, unlike a float
  one) and the first index whose key has the largest leading bits (the index packed under
  them); checking that guess's key settles it, and a near tie falls back to a scan;
* the loop keeps float32 copies of the keys, from which a winner is ranked in the other
  half at 16 comparisons per instruction: rounding to float32 is monotonic, so a copy below
  (above) the winner's copy is a key below (above) the winner's key, and only the keys whose
  copies equal the winner's (itself, duplicates, near ties) are computed again in float64.

Every comparison that decides a winner or a rank is therefore made on the float64 keys of
the plain method, with its results. Other groupings (8 blocks or fewer, more than 4,096
trials) key one half at a time (``cscv_nb``), its sums added a group at a time over all
trials (vectorised) in the same order.

The block sums come from ``return_stats_nb`` (or from the sweep kernel, which gathers them as
it goes). Every kernel releases the interpreter (``nogil``), so Python bookkeeping can run in
another thread meanwhile.

The twin rounds differently (its matrix product adds blocks in its own order), so the two
agree to ~1e-15 relative; ranks could differ only between trials whose Sharpe ratios are equal
to the last few bits yet computed from different numbers. Trials with identical returns tie
exactly in both. A half whose variance is below ``NO_DISPERSION`` times its mean square counts
as flat (no Sharpe ratio): constant returns leave only rounding noise there, whose sign would
otherwise decide between NaN and a Sharpe ratio of 10^8.

With ``NUMBA_DISABLE_JIT=1`` the same loops run as plain Python (the tests run both ways).
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from contango.kernel_cache import use_versioned_cache

use_versioned_cache()

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]

# Variance below this share of the mean square is rounding noise of constant returns.
NO_DISPERSION = 1e-9


def table_shape(n_rows: int, n: int, group: int) -> tuple[int, int, int]:
    """The shape of :func:`subset_sums_nb`'s table of ``n_rows x n`` values in groups of
    ``group`` rows."""
    return ((n_rows + group - 1) // group, 1 << group, n)


def subset_sums_nb(values: F64, group: int) -> F64:
    """``out[g, code]``: the sum of the rows of ``values`` (``S x N``) in group ``g`` (rows
    ``g * group`` onwards) whose bits are set in ``code``, added in ascending row order."""
    out = np.empty(table_shape(values.shape[0], values.shape[1], group))
    fill_subset_sums_nb(values, group, out)
    return out


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def fill_subset_sums_nb(values: F64, group: int, out: F64) -> None:
    """:func:`subset_sums_nb` into ``out`` (of :func:`table_shape`), every entry written."""
    n_rows, n = values.shape
    n_groups = (n_rows + group - 1) // group
    for g in prange(n_groups):
        first = g * group
        used = 1 << min(group, n_rows - first)
        out[g, 0] = 0.0
        out[g, used:] = 0.0  # codes of blocks beyond the last: never read
        for code in range(1, used):
            high = 0
            while code >> (high + 1):
                high += 1
            rest = code ^ (1 << high)  # tabulated already: smaller code
            for j in range(n):
                out[g, code, j] = out[g, rest, j] + values[first + high, j]


@njit(cache=True, inline="always", error_model="numpy")
def _half_sum_nb(tables: F64, codes: I64, j: int) -> float:
    """Trial ``j``'s sum over a half: one tabulated subset per group, groups in order."""
    total = tables[0, codes[0], j]
    for g in range(1, codes.size):
        total += tables[g, codes[g], j]
    return total  # type: ignore[no-any-return]


@njit(cache=True, inline="always", error_model="numpy")
def _key_nb(s: float, q: float, bars: float) -> float:
    """Ranks like the per-bar Sharpe ratio; -inf when flat (no Sharpe ratio ranks lowest).

    No branch around the division: a flat half divides by 1 instead and its quotient is
    dropped, so the compiler divides several trials per instruction (the division is most of
    the cost of a combination), and no 0 / 0 is ever computed (as plain Python either)."""
    spread = bars * q - s * s  # n (n - 1) times the variance
    keep = spread > NO_DISPERSION * (bars - 1.0) * q
    key = s * abs(s) / (spread if keep else 1.0)
    return key if keep else -np.inf


@njit(cache=True, error_model="numpy")
def half_sharpe_nb(s: float, q: float, bars: float) -> float:
    """Per-bar Sharpe (ddof=1) from a half's sums, operation by operation as the twin."""
    mean = s / bars
    var = (q - bars * (mean * mean)) / (bars - 1.0)
    if var > NO_DISPERSION * q / bars:
        return mean / np.sqrt(var)  # type: ignore[no-any-return]
    return np.nan


_SIGN = -(2**63)  # the bits of -0.0: below every key's bits as a signed integer


@njit(cache=True, inline="always", error_model="numpy")
def _bits_nb(key: float) -> int:
    """A key's float64 bits as a signed integer: positive keys order as their bits do, a
    maximum the compiler vectorises (it does not vectorise a float maximum)."""
    return int(np.float64(key).view(np.int64))


@njit(cache=True, error_model="numpy")
def _largest_nb(key: F64) -> int:
    """The index of the largest of ``key``, the first of equals (no NaN in keys: a flat half
    is -inf). With no positive key the maximum is taken as floats (-0 and 0 tie)."""
    top = _SIGN
    for j in range(key.size):
        top = max(top, _bits_nb(key[j]))
    if top > 0:
        largest = np.int64(top).view(np.float64)
    else:
        largest = key[0]
        for j in range(1, key.size):
            largest = max(largest, key[j])
    i = 0
    while key[i] != largest:
        i += 1
    return i


@njit(cache=True, error_model="numpy")
def _half_keys_nb(
    sub_sums: F64, sub_squares: F64, codes: I64, bars: float, key: F64, s: F64, q: F64
) -> int:
    """A half's ranking keys (its sums into scratch ``s`` and ``q`` a group at a time, in
    the order of ``_half_sum_nb``, loops the compiler vectorises); returns the index of the
    largest (the first of equals)."""
    s[:] = sub_sums[0, codes[0]]
    q[:] = sub_squares[0, codes[0]]
    for g in range(1, codes.size):
        s_g, q_g = sub_sums[g, codes[g]], sub_squares[g, codes[g]]
        for j in range(key.size):
            s[j] += s_g[j]
            q[j] += q_g[j]
    for j in range(key.size):
        key[j] = _key_nb(s[j], q[j], bars)
    return _largest_nb(key)


@njit(cache=True, error_model="numpy")
def _choose_nb(
    top: int, oos_key: F64, oos_sums: F64, oos_squares: F64, oos_codes: I64, oos_bars: float
) -> tuple[int, float, float]:
    """The in-sample best ``top``, its out-of-sample rank and Sharpe ratio."""
    own = oos_key[top]
    below = 0
    equal = 0  # counts the trial itself
    for j in range(oos_key.size):
        below += oos_key[j] < own
        equal += oos_key[j] == own
    s = _half_sum_nb(oos_sums, oos_codes, top)
    q = _half_sum_nb(oos_squares, oos_codes, top)
    return top, below + (equal + 1) / 2.0, half_sharpe_nb(s, q, oos_bars)


_PAIRS_PER_TASK = 16  # pairs per parallel task: 403 tasks for 16 blocks


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def cscv_nb(
    sub_sums: F64,
    sub_squares: F64,
    is_codes: I64,
    is_bars: F64,
    oos_bars: F64,
    pairs: I64,
) -> tuple[I64, F64, F64]:
    """For each combination (row ``c`` of the ``C x groups`` subset codes): the in-sample best
    trial (the first of equals), its 1-based out-of-sample rank (1 = worst, ties averaged)
    and its out-of-sample per-bar Sharpe (NaN when flat).

    Each row of ``pairs`` names a combination and its complement, whose in-sample half is the
    first one's out-of-sample half: one task keys the two halves once and serves both, with
    the very numbers each would have computed alone (same subset codes, same bar counts), at
    half the work. Scratch is allocated per task of ``_PAIRS_PER_TASK`` pairs, not per pair.
    """
    n_combos = is_codes.shape[0]
    n = sub_sums.shape[2]
    best = np.zeros(n_combos, dtype=np.int64)
    rank = np.zeros(n_combos)
    oos_sharpe = np.zeros(n_combos)
    n_pairs = pairs.shape[0]
    for task in prange((n_pairs + _PAIRS_PER_TASK - 1) // _PAIRS_PER_TASK):
        key_a, key_b, s, q = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
        for p in range(task * _PAIRS_PER_TASK, min((task + 1) * _PAIRS_PER_TASK, n_pairs)):
            a, b = pairs[p, 0], pairs[p, 1]
            top_a = _half_keys_nb(sub_sums, sub_squares, is_codes[a], is_bars[a], key_a, s, q)
            top_b = _half_keys_nb(sub_sums, sub_squares, is_codes[b], is_bars[b], key_b, s, q)
            best[a], rank[a], oos_sharpe[a] = _choose_nb(
                top_a, key_b, sub_sums, sub_squares, is_codes[b], oos_bars[a]
            )
            best[b], rank[b], oos_sharpe[b] = _choose_nb(
                top_b, key_a, sub_sums, sub_squares, is_codes[a], oos_bars[b]
            )
    return best, rank, oos_sharpe


# ---------------------------------------------------------------- two groups of blocks


@njit(cache=True, inline="always", error_model="numpy")
def _packed_nb(bits: int, j: int, low: int) -> int:
    """A key's bits with ``low - j`` in place of the last ones (``low`` >= every index): the
    largest packed value names the first trial among those whose keys' leading bits are the
    largest."""
    return (bits & ~low) | (low - j)


@njit(cache=True, error_model="numpy")
def _two_halves_keys_nb(
    s0: F64,
    q0: F64,
    s1: F64,
    q1: F64,
    t1: F64,
    r1: F64,
    bars: F64,
    low: int,
    copies: F32,
    found: I64,
) -> None:
    """Keys of two halves that share the first group's subset (sums ``s0``, squares ``q0``)
    and differ in the second's (``s1``, ``q1`` and ``t1``, ``r1``), over ``bars[0]`` and
    ``bars[1]`` bars: their float32 copies into ``copies[0]``, ``copies[1]``; ``found[2 h]``
    the bits of half ``h``'s largest key, ``found[2 h + 1]`` a guess of its first index."""
    top0, top1, pack0, pack1 = _SIGN, _SIGN, _SIGN, _SIGN
    for j in range(copies.shape[1]):
        k0 = _key_nb(s0[j] + s1[j], q0[j] + q1[j], bars[0])
        k1 = _key_nb(s0[j] + t1[j], q0[j] + r1[j], bars[1])
        copies[0, j], copies[1, j] = np.float32(k0), np.float32(k1)
        b0, b1 = _bits_nb(k0), _bits_nb(k1)
        top0, top1 = max(top0, b0), max(top1, b1)
        pack0, pack1 = max(pack0, _packed_nb(b0, j, low)), max(pack1, _packed_nb(b1, j, low))
    found[0], found[1], found[2], found[3] = top0, low - (pack0 & low), top1, low - (pack1 & low)


@njit(cache=True, error_model="numpy")
def _first_largest_nb(
    s0: F64, q0: F64, s1: F64, q1: F64, bars: float, top: int, guess: int, scratch: F64
) -> int:
    """The index of the half's largest key, the first of equals. When that key is positive,
    ``top`` is its bits and ``guess`` the first trial among those whose keys' leading bits are
    the largest: the answer if its key is the largest, since every trial with the largest key
    has those leading bits. Otherwise (a near tie, or no positive key) keys are recomputed."""
    if top > 0 and _bits_nb(_key_nb(s0[guess] + s1[guess], q0[guess] + q1[guess], bars)) == top:
        return guess
    for j in range(scratch.size):
        scratch[j] = _key_nb(s0[j] + s1[j], q0[j] + q1[j], bars)
    return _largest_nb(scratch)


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _below_equal_nb(copies: F32, own: np.float32) -> tuple[np.float32, np.float32]:
    """How many ``copies`` are below ``own`` and equal to it, counted in floats the compiler
    may add in any order (``reassoc``): sums of ones are exact in any order."""
    below, equal = np.float32(0.0), np.float32(0.0)
    for j in range(copies.size):
        below += np.float32(1.0) if copies[j] < own else np.float32(0.0)
        equal += np.float32(1.0) if copies[j] == own else np.float32(0.0)
    return below, equal


@njit(cache=True, error_model="numpy")
def _twice_rank_nb(copies: F32, own: float, s0: F64, q0: F64, s1: F64, q1: F64, bars: float) -> int:
    """Twice the number of the half's keys below ``own`` (one of them) plus the number equal
    to it, from float32 ``copies``: rounding is monotonic, so a copy below (above) own's copy
    is a key below (above) own; keys whose copies equal own's are recomputed."""
    own32 = np.float32(own)
    below, equal = _below_equal_nb(copies, own32)
    if equal == 1.0:  # own's copy alone
        return 2 * int(below) + 1
    twice = 2 * int(below)
    for j in range(copies.size):
        if copies[j] == own32:
            key = _key_nb(s0[j] + s1[j], q0[j] + q1[j], bars)
            twice += int(key < own) + int(key <= own)  # numpy bools would add as "or"
    return twice


@njit(cache=True, error_model="numpy")
def _couple_nb(
    sums: F64,
    squares: F64,
    codes: I64,
    is_bars: F64,
    oos_bars: F64,
    couple: I64,
    low: int,
    scratch: tuple[F32, F64, I64, F64, I64],
    out: tuple[I64, F64, F64],
) -> None:
    """Two pairs whose combinations (``couple[0]``, ``couple[2]``) share the first group's
    subset, as their complements (``couple[1]``, ``couple[3]``) do: each side's two halves are
    keyed in one loop and their winners found, then each winner is ranked in its complement."""
    copies, keys, found, bars, tops = scratch
    best, rank, oos_sharpe = out
    halves = (couple[0], couple[2], couple[1], couple[3])  # half h + 2 complements half h
    s0 = (sums[0, codes[halves[0], 0]], sums[0, codes[halves[2], 0]])  # per side
    q0 = (squares[0, codes[halves[0], 0]], squares[0, codes[halves[2], 0]])
    second = (codes[halves[0], 1], codes[halves[1], 1], codes[halves[2], 1], codes[halves[3], 1])
    s1 = (sums[1, second[0]], sums[1, second[1]], sums[1, second[2]], sums[1, second[3]])
    q1 = (
        squares[1, second[0]],
        squares[1, second[1]],
        squares[1, second[2]],
        squares[1, second[3]],
    )
    for side in range(2):
        h = 2 * side
        bars[0], bars[1] = is_bars[halves[h]], is_bars[halves[h + 1]]
        s, q = s0[side], q0[side]
        _two_halves_keys_nb(s, q, s1[h], q1[h], s1[h + 1], q1[h + 1], bars, low, copies[h:], found)
        for k in range(2):
            guess = (found[2 * k], found[2 * k + 1])
            tops[h + k] = _first_largest_nb(s, q, s1[h + k], q1[h + k], bars[k], *guess, keys)
    for h in range(4):
        top, other, side = tops[h], (h + 2) % 4, 1 - h // 2  # the complement's side
        s, q = s0[side][top] + s1[other][top], q0[side][top] + q1[other][top]
        own = _key_nb(s, q, is_bars[halves[other]])
        rows = (s0[side], q0[side], s1[other], q1[other])
        twice = _twice_rank_nb(copies[other], own, *rows, is_bars[halves[other]])
        best[halves[h]], rank[halves[h]] = top, (twice + 1) / 2.0
        oos_sharpe[halves[h]] = half_sharpe_nb(s, q, oos_bars[halves[h]])


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def cscv_two_groups_nb(
    sub_sums: F64,
    sub_squares: F64,
    is_codes: I64,
    is_bars: F64,
    oos_bars: F64,
    couples: I64,
    tasks: I64,
) -> tuple[I64, F64, F64]:
    """:func:`cscv_nb` for blocks in two groups, with the same results. Each row of
    ``couples`` holds two rows of ``pairs`` whose first combinations share the first group's
    subset (a pair without such a partner is repeated); task ``t`` takes couples
    ``tasks[t]:tasks[t + 1]``, neighbours that share table rows."""
    n_combos, n = is_codes.shape[0], sub_sums.shape[2]
    low = 1  # 2^k - 1 >= every index: the bits an index takes under a key's leading bits
    while low < n:
        low = 2 * low + 1
    out = (np.zeros(n_combos, dtype=np.int64), np.zeros(n_combos), np.zeros(n_combos))
    for task in prange(tasks.size - 1):
        scratch = (
            np.empty((4, n), dtype=np.float32),
            np.empty(n),
            np.empty(4, dtype=np.int64),
            np.empty(2),
            np.empty(4, dtype=np.int64),
        )
        for c in range(tasks[task], tasks[task + 1]):
            _couple_nb(
                sub_sums, sub_squares, is_codes, is_bars, oos_bars, couples[c], low, scratch, out
            )
    return out
