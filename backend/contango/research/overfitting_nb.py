"""Numba kernels of the Probability of Backtest Overfitting (CSCV, see ``overfitting.py``).

The NumPy twin builds two ``C(S, S/2) x N`` matrices of Sharpe ratios (12,870 x 1,590 for
16 blocks: 160 MB each) and ranks them; here a combination and its complement (whose halves
are the same two, swapped) are one task of a parallel loop that keeps ``O(N)`` scratch and
writes only those two rows of the outputs, so results do not depend on the number of threads.
Three things make a combination cheap:

* blocks are gathered in groups of up to 8, and the sums of every subset of a group are
  tabulated once (``subset_sums_nb``), so a half's sums are 2 additions for 16 blocks, not 8;
* within a half every trial has the same number of bars ``n``, and the per-bar Sharpe
  ``(s / n) / sqrt((q - s^2 / n) / (n - 1))`` is an increasing function of the key
  ``s |s| / (n q - s^2)``: ranks and the in-sample best come from keys (one division, no
  square root), and only the winner's Sharpe is computed in full;
* the out-of-sample half is summed from its own blocks, not as ``total - in-sample`` (the
  subtraction loses digits when the half's sum is small against the total's);
* a half's keys come straight from the tables in a loop without branches, which the
  compiler vectorises (the division is most of the work); its sums are not kept.

The block sums are read from the returns together with each trial's moments
(``column_stats_nb``, one pass over a sweep's column-major returns). Every kernel releases
the interpreter (``nogil``), so Python bookkeeping can run in another thread meanwhile.

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

# Variance below this share of the mean square is rounding noise of constant returns.
NO_DISPERSION = 1e-9


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


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def subset_sums_nb(values: F64, group: int) -> F64:
    """``out[g, code]``: the sum of the rows of ``values`` (``S x N``) in group ``g`` (rows
    ``g * group`` onwards) whose bits are set in ``code``, added in ascending row order."""
    n_rows, n = values.shape
    n_groups = (n_rows + group - 1) // group
    out = np.zeros((n_groups, 1 << group, n))
    for g in prange(n_groups):
        first = g * group
        for code in range(1, 1 << min(group, n_rows - first)):
            high = 0
            while code >> (high + 1):
                high += 1
            rest = code ^ (1 << high)  # tabulated already: smaller code
            for j in range(n):
                out[g, code, j] = out[g, rest, j] + values[first + high, j]
    return out


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


@njit(cache=True, error_model="numpy")
def _half_keys_nb(sub_sums: F64, sub_squares: F64, codes: I64, bars: float, key: F64) -> int:
    """A half's ranking keys, straight from the tables (its sums are not kept: only the
    winner's are needed again); returns the index of the largest (the first of equals).
    Two groups (16 blocks) get their own loop, which the compiler vectorises; the sums are
    the same either way."""
    if codes.size == 2:
        s0, s1 = sub_sums[0, codes[0]], sub_sums[1, codes[1]]
        q0, q1 = sub_squares[0, codes[0]], sub_squares[1, codes[1]]
        for j in range(key.size):
            key[j] = _key_nb(s0[j] + s1[j], q0[j] + q1[j], bars)
    else:
        for j in range(key.size):
            key[j] = _key_nb(
                _half_sum_nb(sub_sums, codes, j), _half_sum_nb(sub_squares, codes, j), bars
            )
    return _largest_nb(key)


_LANES = 8  # partial maxima: independent comparisons the compiler can put in one register
_CHUNK = 64  # keys per partial maximum: the scan for the first largest stays within one


@njit(cache=True, error_model="numpy")
def _largest_nb(key: F64) -> int:
    """The index of the largest of ``key``, the first of equals (no NaN in keys: a flat half
    is -inf). The maximum is exact in any order: it is taken per chunk of ``_CHUNK`` keys
    over ``_LANES`` interleaved partial maxima, which the compiler vectorises; the first
    chunk holding it is then scanned for the first index (tracking indices in the lanes
    instead measured slower: selects of indices are not vectorised)."""
    lanes = np.empty(_LANES)
    top = -np.inf
    top_chunk = 0
    for c0 in range(0, key.size, _CHUNK):
        c1 = min(c0 + _CHUNK, key.size)
        lanes[:] = -np.inf
        whole = c1 - (c1 - c0) % _LANES
        for j0 in range(c0, whole, _LANES):
            for lane in range(_LANES):
                v = key[j0 + lane]
                lanes[lane] = v if v > lanes[lane] else lanes[lane]
        chunk_top = -np.inf
        for j in range(whole, c1):
            chunk_top = max(chunk_top, key[j])
        for lane in range(_LANES):
            chunk_top = max(chunk_top, lanes[lane])
        if chunk_top > top:
            top, top_chunk = chunk_top, c0
    i = top_chunk
    while key[i] != top:
        i += 1
    return i


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
        key_a, key_b = np.empty(n), np.empty(n)
        for p in range(task * _PAIRS_PER_TASK, min((task + 1) * _PAIRS_PER_TASK, n_pairs)):
            a, b = pairs[p, 0], pairs[p, 1]
            top_a = _half_keys_nb(sub_sums, sub_squares, is_codes[a], is_bars[a], key_a)
            top_b = _half_keys_nb(sub_sums, sub_squares, is_codes[b], is_bars[b], key_b)
            best[a], rank[a], oos_sharpe[a] = _choose_nb(
                top_a, key_b, sub_sums, sub_squares, is_codes[b], oos_bars[a]
            )
            best[b], rank[b], oos_sharpe[b] = _choose_nb(
                top_b, key_a, sub_sums, sub_squares, is_codes[a], oos_bars[b]
            )
    return best, rank, oos_sharpe
