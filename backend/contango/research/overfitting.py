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
from dataclasses import dataclass
from itertools import combinations
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()


def sharpe_per_bar(returns: F64) -> F64:
    """Mean over standard deviation (ddof=1) of each column's finite returns; NaN when flat."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[:, None] if r.ndim == 1 else r
    finite = np.isfinite(r)
    count = finite.sum(axis=0)
    x = np.where(finite, r, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = x.sum(axis=0) / count
        var = (np.where(finite, x - mean, 0.0) ** 2).sum(axis=0) / (count - 1)
        sd = np.sqrt(var)
        out: F64 = np.where((count >= 2) & (sd > 0), mean / sd, np.nan)
    return out


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
    """Per-bar Sharpe (ddof=1) per combination x trial from summed block statistics."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
        var = (squares - counts * mean**2) / (counts - 1)
        out: F64 = np.where(var > 0, mean / np.sqrt(np.maximum(var, 0.0)), np.nan)
    return out


def probability_of_backtest_overfitting(returns: F64, n_blocks: int = 16) -> OverfitProbability:
    """PBO of choosing the best of the ``N`` columns of ``returns`` (``T x N``) by per-bar
    Sharpe, by CSCV over ``n_blocks`` blocks (module doc).

    Blocks are consecutive and as equal as ``T`` allows (sizes differ by at most one bar);
    non-finite returns count as 0 (no position). Sharpe ratios of a half are computed from
    per-block sums, so each combination costs ``O(S x N)``, not ``O(T x N)``.
    """
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2 or r.shape[1] < 2:
        raise ValueError(f"PBO needs a (bars, trials) matrix with >= 2 trials, got {r.shape}")
    if n_blocks < 2 or n_blocks % 2:
        raise ValueError(f"the number of CSCV blocks must be even and >= 2, got {n_blocks}")
    if r.shape[0] < 2 * n_blocks:
        raise ValueError(f"{r.shape[0]} bars are too few for {n_blocks} blocks of >= 2 bars")
    r = np.where(np.isfinite(r), r, 0.0)
    blocks = np.array_split(np.arange(r.shape[0]), n_blocks)
    sums = np.stack([r[b].sum(axis=0) for b in blocks])  # (S, N)
    squares = np.stack([(r[b] ** 2).sum(axis=0) for b in blocks])
    counts = np.array([b.size for b in blocks], dtype=np.float64)
    chosen = np.zeros((math.comb(n_blocks, n_blocks // 2), n_blocks), dtype=bool)
    for c, in_sample in enumerate(combinations(range(n_blocks), n_blocks // 2)):
        chosen[c, list(in_sample)] = True
    mask = chosen.astype(np.float64)
    is_sr = _block_sharpes(mask @ sums, mask @ squares, (mask @ counts)[:, None])
    oos_sr = _block_sharpes((1 - mask) @ sums, (1 - mask) @ squares, ((1 - mask) @ counts)[:, None])
    best = np.argmax(np.where(np.isfinite(is_sr), is_sr, -np.inf), axis=1)
    rows = np.arange(best.size)
    n = r.shape[1]
    relative = _rank_of(oos_sr, best) / (n + 1.0)
    logits = np.log(relative / (1.0 - relative))
    best_oos = oos_sr[rows, best]
    return OverfitProbability(
        pbo=float(np.mean(logits <= 0.0)),
        logits=logits,
        n_blocks=n_blocks,
        n_trials=n,
        prob_oos_loss=float(np.mean(np.where(np.isfinite(best_oos), best_oos, 0.0) < 0.0)),
        is_best_oos_sharpe=best_oos,
    )
