"""Overfitting diagnostics of a parameter search: Deflated Sharpe Ratio and PBO.

* **Probabilistic Sharpe Ratio** (Bailey and López de Prado, 2012): the probability that the
  true Sharpe ratio exceeds a benchmark ``sr*``, given the estimate ``sr`` from ``T``
  observations with skewness ``g3`` and kurtosis ``g4`` (3 for a normal law)::

      PSR = Phi((sr - sr*) * sqrt(T - 1) / sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr^2))

* **Deflated Sharpe Ratio** (Bailey and López de Prado, 2014, "The Deflated Sharpe Ratio:
  Correcting for Selection Bias, Backtest Overfitting and Non-Normality", JPM 40(5)): the PSR
  against the Sharpe ratio the best of ``N`` unskilled trials is expected to reach::

      sr* = sqrt(V) * ((1 - gamma) * Phi^-1(1 - 1/N) + gamma * Phi^-1(1 - 1/(N e)))

  with ``V`` the variance of the trials' Sharpe ratios and ``gamma`` the Euler-Mascheroni
  constant. Every Sharpe ratio here is **per bar** (not annualised): the formula's ``T`` counts
  bars, and mixing an annualised ``sr`` with a per-bar ``T`` saturates the DSR near 1.

* **Probability of Backtest Overfitting** via combinatorially symmetric cross-validation
  (Bailey, Borwein, López de Prado and Zhu, 2015/2017, "The Probability of Backtest
  Overfitting", J. Computational Finance): the ``T x N`` returns matrix of ``N`` trials is cut
  into ``S`` blocks of consecutive bars; for each of the ``C(S, S/2)`` ways to pick half the
  blocks as in-sample, the in-sample best trial's out-of-sample relative rank ``w`` gives the
  logit ``ln(w / (1 - w))``; PBO is the share of logits ``<= 0`` (the IS winner at or below
  the OOS median).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, combinations
from statistics import NormalDist
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from contango.research.overfitting_nb import (
    NO_DISPERSION,
    cscv_nb,
    cscv_two_groups_nb,
    fill_subset_sums_nb,
    table_shape,
)
from contango.research.return_stats import (
    ReturnStatistics,
    block_starts,
    sharpe_per_bar,
)
from contango.research.return_stats_nb import block_stats_nb

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()


def moments(returns: F64) -> tuple[float, float]:
    """Skewness and (non-excess) kurtosis of the finite returns, population moments as in the
    DSR paper (a normal law gives 0 and 3)."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size < 2:
        return float("nan"), float("nan")
    centred = r - r.mean()
    m2 = float(np.mean(centred**2))
    if m2 == 0:
        return float("nan"), float("nan")
    return float(np.mean(centred**3)) / m2**1.5, float(np.mean(centred**4)) / m2**2


def probabilistic_sharpe_ratio(
    sharpe: float, benchmark: float, n_obs: int, skew: float, kurtosis: float
) -> float:
    """PSR: probability the true per-bar Sharpe exceeds ``benchmark`` (see the module doc)."""
    if n_obs < 2:
        raise ValueError(f"PSR needs at least 2 observations, got {n_obs}")
    spread = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if not math.isfinite(spread) or spread <= 0:
        return float("nan")
    z = (sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(spread)
    return _NORMAL.cdf(z)


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """The Sharpe ratio the best of ``n_trials`` unskilled trials is expected to reach (0 for a
    single trial: nothing was selected)."""
    if n_trials < 1:
        raise ValueError(f"the number of trials must be >= 1, got {n_trials}")
    if sharpe_variance < 0:
        raise ValueError(f"the variance of the trials' Sharpe ratios is < 0: {sharpe_variance}")
    if n_trials == 1:
        return 0.0
    z1 = _NORMAL.inv_cdf(1.0 - 1.0 / n_trials)
    z2 = _NORMAL.inv_cdf(1.0 - 1.0 / (n_trials * math.e))
    return math.sqrt(sharpe_variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


@dataclass(frozen=True, kw_only=True)
class DeflatedSharpe:
    """The DSR and every input it was computed from (per-bar Sharpe ratios)."""

    dsr: float
    sharpe: float  # per bar, of the selected trial
    expected_max_sharpe: float  # per bar, the benchmark sr*
    n_trials: int
    sharpe_variance: float  # of the trials' per-bar Sharpe ratios
    n_obs: int
    skew: float
    kurtosis: float


def deflated_sharpe_ratio(
    sharpe: float,
    *,
    n_obs: int,
    n_trials: int,
    sharpe_variance: float,
    skew: float,
    kurtosis: float,
) -> DeflatedSharpe:
    """DSR of a selected trial with per-bar ``sharpe`` among ``n_trials`` (module doc)."""
    benchmark = expected_max_sharpe(n_trials, sharpe_variance)
    return DeflatedSharpe(
        dsr=probabilistic_sharpe_ratio(sharpe, benchmark, n_obs, skew, kurtosis),
        sharpe=sharpe,
        expected_max_sharpe=benchmark,
        n_trials=n_trials,
        sharpe_variance=sharpe_variance,
        n_obs=n_obs,
        skew=skew,
        kurtosis=kurtosis,
    )


def deflated_sharpe_of_returns(
    returns: F64, *, n_trials: int, trial_sharpes: F64
) -> DeflatedSharpe:
    """DSR of the selected trial's per-bar ``returns``; ``trial_sharpes`` are the per-bar
    Sharpe ratios of every trial counted in ``n_trials`` (their variance sets ``sr*``)."""
    finite_sharpes = np.asarray(trial_sharpes, dtype=np.float64)
    finite_sharpes = finite_sharpes[np.isfinite(finite_sharpes)]
    variance = float(finite_sharpes.var(ddof=1)) if finite_sharpes.size > 1 else 0.0
    r = np.asarray(returns, dtype=np.float64)
    skew, kurtosis = moments(r)
    return deflated_sharpe_ratio(
        float(sharpe_per_bar(r)[0]),
        n_obs=int(np.isfinite(r).sum()),
        n_trials=n_trials,
        sharpe_variance=variance,
        skew=skew,
        kurtosis=kurtosis,
    )


@dataclass(frozen=True, kw_only=True)
class OverfitProbability:
    """PBO and what it rests on: one logit per CSCV combination."""

    pbo: float  # share of logits <= 0
    logits: F64  # (C(S, S/2),)
    n_blocks: int
    n_trials: int
    prob_oos_loss: float  # share of combinations where the IS winner lost money OOS (Sharpe < 0)
    is_best_oos_sharpe: F64  # OOS per-bar Sharpe of the IS winner, per combination


def _rank_of(performance: F64, column: npt.NDArray[np.intp]) -> F64:
    """1-based rank (1 = worst, ties averaged) of ``column[c]`` within row ``c``; NaN
    performance ranks as the worst."""
    x = np.where(np.isfinite(performance), performance, -np.inf)
    own = x[np.arange(x.shape[0]), column][:, None]
    below = (x < own).sum(axis=1)
    equal = (x == own).sum(axis=1)  # counts the column itself
    ranks: F64 = below + (equal + 1) / 2.0
    return ranks


def _block_sharpes(sums: F64, squares: F64, counts: F64) -> F64:
    """Per-bar Sharpe (ddof=1) per combination x trial from summed block statistics; NaN when
    the variance is mere rounding noise (see ``overfitting_nb.NO_DISPERSION``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
        var = (squares - counts * mean**2) / (counts - 1)
        flat = var <= NO_DISPERSION * squares / counts
        out: F64 = np.where(flat, np.nan, mean / np.sqrt(np.maximum(var, 0.0)))
    return out


def _checked_returns(returns: F64, n_blocks: int) -> F64:
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2 or r.shape[1] < 2:
        raise ValueError(f"PBO needs a (bars, trials) matrix with >= 2 trials, got {r.shape}")
    if n_blocks < 2 or n_blocks % 2:
        raise ValueError(f"the number of CSCV blocks must be even and >= 2, got {n_blocks}")
    if r.shape[0] < 2 * n_blocks:
        raise ValueError(f"{r.shape[0]} bars are too few for {n_blocks} blocks of >= 2 bars")
    return r


def _in_sample_blocks(n_blocks: int) -> npt.NDArray[np.bool_]:
    """``C(S, S/2) x S`` flags of the in-sample blocks, combinations in lexicographic order."""
    half = n_blocks // 2
    picks = np.fromiter(
        chain.from_iterable(combinations(range(n_blocks), half)),
        dtype=np.intp,
        count=math.comb(n_blocks, half) * half,
    ).reshape(-1, half)
    chosen = np.zeros((picks.shape[0], n_blocks), dtype=bool)
    np.put_along_axis(chosen, picks, True, axis=1)
    return chosen


class _CscvPlan(NamedTuple):
    """The combinations of a CSCV over ``S`` blocks, as the kernels take them."""

    chosen: npt.NDArray[np.bool_]  # C x S: in-sample blocks
    is_codes: I64  # C x groups: the in-sample subset of each group of blocks
    pairs: I64  # (C / 2) x 2: each combination with its complement
    couples: I64  # two groups only: rows of pairs two by two (``cscv_two_groups_nb``)
    tasks: I64  # two groups only: couples per parallel task, as bounds


_RUN = 8  # second-group subsets per run of couples sharing a first-group subset
_COUPLES_PER_TASK = 8  # 400 tasks for 16 blocks


@lru_cache(maxsize=8)
def _cscv_plan(n_blocks: int, group: int) -> _CscvPlan:
    """The plan for ``n_blocks`` blocks in groups of ``group``; it depends on nothing else,
    so it is built once per shape (12,870 combinations take milliseconds to enumerate). The
    arrays are read-only: every caller shares them."""
    chosen = _in_sample_blocks(n_blocks)
    blocks = np.arange(n_blocks)
    weights = np.zeros((n_blocks, -(-n_blocks // group)), dtype=np.int64)
    weights[blocks, blocks // group] = 1 << (blocks % group)
    is_codes = chosen.astype(np.int64) @ weights
    # The complement of an S/2-subset is another S/2-subset: its combination's in-sample half
    # is this one's out-of-sample half. Matched by the subsets' codes in one sort.
    flat = is_codes @ (np.int64(1) << (group * np.arange(is_codes.shape[1], dtype=np.int64)))
    complement = (weights.sum(axis=0) - is_codes) @ (
        np.int64(1) << (group * np.arange(is_codes.shape[1], dtype=np.int64))
    )
    order = np.argsort(flat)
    partner = order[np.searchsorted(flat, complement, sorter=order)]
    first = np.flatnonzero(np.arange(partner.size) < partner)
    pairs = np.stack([first, partner[first]], axis=1).astype(np.int64)
    couples = _couples(is_codes, pairs) if is_codes.shape[1] == 2 else np.empty((0, 4), np.int64)
    tasks = np.unique(np.r_[np.arange(0, couples.shape[0], _COUPLES_PER_TASK), couples.shape[0]])
    plan = _CscvPlan(chosen, is_codes, pairs, couples, tasks.astype(np.int64))
    for array in plan:
        array.flags.writeable = False
    return plan


def _couples(is_codes: I64, pairs: I64) -> I64:
    """``pairs`` (two groups) two by two, ``(a, b, a', b')``, where combinations ``a`` and ``a'``
    have the same first-group subset, hence so do their complements ``b`` and ``b'``: one loop
    keys both (three table rows read per trial and half, not four). Ordered by runs of
    ``_RUN`` second-group subsets, then by first-group subset: consecutive couples share
    rows of the tables, read while still in the cache. A pair left alone is repeated."""
    a, b = pairs[:, 0], pairs[:, 1]
    swap = is_codes[b, 0] < is_codes[a, 0]  # either member could lead: the smaller code does
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    lead, tail = is_codes[a, 0], is_codes[a, 1]
    sizes = np.bitwise_count(np.arange(tail.max() + 1))
    rank = np.zeros(sizes.size, dtype=np.int64)  # of a subset among those of its size
    for size in np.unique(sizes):
        rank[sizes == size] = np.arange(np.count_nonzero(sizes == size))
    run = rank[tail] // _RUN
    order = np.lexsort((tail, lead, run, np.bitwise_count(lead)))
    a, b, key = a[order], b[order], (lead * (run.max() + 1) + run)[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])  # of runs sharing a lead
    lengths = np.diff(np.r_[starts, key.size])
    offset = np.arange(key.size) - np.repeat(starts, lengths)
    first = np.flatnonzero(offset % 2 == 0)
    second = np.where(offset[first] + 1 < np.repeat(lengths, lengths)[first], first + 1, first)
    return np.stack([a[first], b[first], a[second], b[second]], axis=1).astype(np.int64)


def _overfit_probability(
    rank: F64, best_oos: F64, n_blocks: int, n_trials: int
) -> OverfitProbability:
    relative = rank / (n_trials + 1.0)
    logits = np.log(relative / (1.0 - relative))
    return OverfitProbability(
        pbo=float(np.mean(logits <= 0.0)),
        logits=logits,
        n_blocks=n_blocks,
        n_trials=n_trials,
        prob_oos_loss=float(np.mean(np.where(np.isfinite(best_oos), best_oos, 0.0) < 0.0)),
        is_best_oos_sharpe=best_oos,
    )


def probability_of_backtest_overfitting(returns: F64, n_blocks: int = 16) -> OverfitProbability:
    """PBO of choosing the best of the ``N`` columns of ``returns`` (``T x N``) by per-bar
    Sharpe, by CSCV over ``n_blocks`` blocks (module doc).

    Blocks are consecutive and as equal as ``T`` allows (sizes differ by at most one bar);
    non-finite returns count as 0 (no position). Sharpe ratios of a half are computed from
    per-block sums, so each combination costs ``O(N)``, not ``O(T x N)``; the combinations
    run in parallel in compiled code (``overfitting_nb``), with the results of
    :func:`probability_of_backtest_overfitting_reference` (Sharpe ratios to ~1e-15).
    A half with constant returns has no Sharpe ratio (it ranks lowest), as a flat one.
    """
    r = _checked_returns(returns, n_blocks)
    sizes, starts = block_starts(r.shape[0], n_blocks)
    sums, squares = block_stats_nb(r, starts)
    return _cscv_of_blocks(sums, squares, sizes)


def overfitting_of_statistics(stats: ReturnStatistics) -> OverfitProbability:
    """:func:`probability_of_backtest_overfitting` of the returns ``stats`` were gathered from
    (over as many blocks), without reading the returns again."""
    n_blocks, n_trials = stats.block_sums.shape
    if n_trials < 2:
        raise ValueError(f"PBO needs >= 2 trials, got {n_trials}")
    if n_blocks < 2 or n_blocks % 2:
        raise ValueError(f"the number of CSCV blocks must be even and >= 2, got {n_blocks}")
    if stats.block_sizes.min() < 2:
        raise ValueError(f"blocks of {stats.block_sizes.min()} bar are too short: >= 2 needed")
    return _cscv_of_blocks(stats.block_sums, stats.block_squares, stats.block_sizes)


# The subset tables of the last CSCV on each thread, kept for the next one of the same shape:
# 13 MB for 1,590 trials, whose fresh pages cost the operating system ~3,300 page faults each
# time (2-3 ms, measured, once other work had left the allocator mapping such sizes afresh).
# Never shared between threads; none kept above _KEPT_TABLE_BYTES.
_TABLES = threading.local()
_KEPT_TABLE_BYTES = 64 * 2**20


def _table_buffers(shape: tuple[int, int, int]) -> tuple[F64, F64]:
    """Two arrays of ``shape`` for the subset sums and squares: this thread's kept ones."""
    kept: tuple[F64, F64] | None = getattr(_TABLES, "buffers", None)
    if kept is not None and kept[0].shape == shape:
        return kept
    buffers = (np.empty(shape), np.empty(shape))
    _TABLES.buffers = buffers if 2 * buffers[0].nbytes <= _KEPT_TABLE_BYTES else None
    return buffers


def _cscv_of_blocks(sums: F64, squares: F64, sizes: I64) -> OverfitProbability:
    """PBO from per-block sums and sums of squares (``S x N``) of blocks of ``sizes`` bars."""
    n_blocks, n_trials = sums.shape
    # Groups of 8 blocks: 256 tabulated subsets each, 2 additions per half for 16 blocks;
    # beyond 4,096 trials groups of 4 (16 subsets) keep the tables' memory in check.
    group = 8 if n_trials <= 4_096 else 4
    plan = _cscv_plan(n_blocks, group)
    bars = sizes.astype(np.float64)
    tables = _table_buffers(table_shape(n_blocks, n_trials, group))
    fill_subset_sums_nb(sums, group, tables[0])
    fill_subset_sums_nb(squares, group, tables[1])
    is_bars, oos_bars = plan.chosen @ bars, ~plan.chosen @ bars
    if plan.is_codes.shape[1] == 2:
        _, rank, best_oos = cscv_two_groups_nb(
            *tables, plan.is_codes, is_bars, oos_bars, plan.couples, plan.tasks
        )
    else:
        _, rank, best_oos = cscv_nb(*tables, plan.is_codes, is_bars, oos_bars, plan.pairs)
    return _overfit_probability(rank, best_oos, n_blocks, n_trials)


def probability_of_backtest_overfitting_reference(
    returns: F64, n_blocks: int = 16
) -> OverfitProbability:
    """The NumPy twin of :func:`probability_of_backtest_overfitting`: whole ``C x N``
    matrices of Sharpe ratios at once (memory ``O(C x N)``); the tests hold the kernel to it."""
    r = _checked_returns(returns, n_blocks)
    r = np.where(np.isfinite(r), r, 0.0)
    blocks = np.array_split(np.arange(r.shape[0]), n_blocks)
    sums = np.stack([r[b].sum(axis=0) for b in blocks])  # (S, N)
    squares = np.stack([(r[b] ** 2).sum(axis=0) for b in blocks])
    counts = np.array([b.size for b in blocks], dtype=np.float64)
    mask = _in_sample_blocks(n_blocks).astype(np.float64)
    is_sr = _block_sharpes(mask @ sums, mask @ squares, (mask @ counts)[:, None])
    oos_sr = _block_sharpes((1 - mask) @ sums, (1 - mask) @ squares, ((1 - mask) @ counts)[:, None])
    best = np.argmax(np.where(np.isfinite(is_sr), is_sr, -np.inf), axis=1)
    best_oos = oos_sr[np.arange(best.size), best]
    return _overfit_probability(_rank_of(oos_sr, best), best_oos, n_blocks, r.shape[1])
