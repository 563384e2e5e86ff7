"""What the diagnostics of a sweep read from its returns: each trial's per-bar Sharpe ratio
(the Deflated Sharpe Ratio's trials) and the per-block sums PBO's CSCV is built from.

Gathered from a ``T x N`` returns matrix in one read (``return_stats_nb``), or taken from the
sweep kernel, which gathers the same sums, in the same order, while it runs each trial
(:func:`statistics_of_moments`). Every sum is NumPy's ``.sum()`` of a trial's numbers (a
contiguous array, added pairwise): :func:`sharpe_per_bar_reference` gives the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from contango.research.overfitting_nb import NO_DISPERSION
from contango.research.return_stats_nb import column_moments_nb, column_stats_nb

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def sharpe_per_bar(returns: F64) -> F64:
    """Mean over standard deviation (ddof=1) of each column's finite returns; NaN when flat,
    including constant returns, whose deviations from their rounded mean are noise that would
    otherwise give a Sharpe ratio of ~1e15 (``NO_DISPERSION``). Compiled; the figures equal
    :func:`sharpe_per_bar_reference`'s bit for bit (``column_moments_nb``)."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[:, None] if r.ndim == 1 else r
    return sharpe_of_moments(*column_moments_nb(r))


@dataclass(frozen=True, kw_only=True)
class ReturnStatistics:
    """What the diagnostics of a sweep read from its ``T x N`` returns, gathered in one pass:
    each trial's per-bar Sharpe ratio and the per-block sums PBO's CSCV is built from."""

    sharpe_per_bar: F64  # (N,) as :func:`sharpe_per_bar`
    block_sums: F64  # (S, N) non-finite returns as 0
    block_squares: F64  # (S, N)
    block_sizes: I64  # (S,) bars per block, as ``np.array_split`` cuts ``T``


def block_starts(n_bars: int, n_blocks: int) -> tuple[I64, I64]:
    """Sizes and start rows of ``n_blocks`` consecutive blocks as equal as ``n_bars`` allows
    (sizes differ by at most one bar, the longer first, as ``np.array_split``)."""
    sizes = np.array([b.size for b in np.array_split(np.arange(n_bars), n_blocks)])
    return sizes.astype(np.int64), np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def return_statistics(returns: F64, n_blocks: int) -> ReturnStatistics:
    """:func:`sharpe_per_bar` and the block sums of ``n_blocks`` blocks of ``returns`` (``T x
    N``), equal bit for bit to those computed apart, in one read of the matrix."""
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2 or n_blocks < 1 or r.shape[0] < n_blocks:
        raise ValueError(f"cannot cut returns of shape {r.shape} into {n_blocks} blocks")
    sizes, starts = block_starts(r.shape[0], n_blocks)
    count, mean, deviations, squares, sums, block_squares = column_stats_nb(r, starts)
    return ReturnStatistics(
        sharpe_per_bar=sharpe_of_moments(count, mean, deviations, squares),
        block_sums=sums,
        block_squares=block_squares,
        block_sizes=sizes,
    )


def sharpe_per_bar_reference(returns: F64) -> F64:
    """The NumPy twin of :func:`sharpe_per_bar`: each column's finite returns as a contiguous
    array, and NumPy's own sums of it."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[:, None] if r.ndim == 1 else r
    moments = np.zeros((4, r.shape[1]))
    for j in range(r.shape[1]):
        finite = np.ascontiguousarray(r[np.isfinite(r[:, j]), j])
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = finite.sum() / finite.size if finite.size else np.nan
        deviations = ((finite - mean) ** 2).sum() if finite.size else 0.0
        moments[:, j] = finite.size, mean, deviations, (finite**2).sum()
    return sharpe_of_moments(*moments)


def sharpe_of_moments(count: F64, mean: F64, deviations: F64, squares: F64) -> F64:
    """Per-bar Sharpe ratios (ddof=1) from each trial's count of finite returns, their mean,
    sum of squared deviations and sum of squares; NaN when flat (``NO_DISPERSION``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        var = deviations / (count - 1)
        flat = var <= NO_DISPERSION * squares / count
        out: F64 = np.where((count >= 2) & ~flat, mean / np.sqrt(var), np.nan)
    return out


def statistics_of_moments(moments: F64, sums: F64, squares: F64, sizes: I64) -> ReturnStatistics:
    """:class:`ReturnStatistics` from statistics gathered per trial elsewhere (the sweep
    kernel's ``return_moments`` ``(N, 4)``, ``block_sums`` and ``block_squares`` ``(N, S)``),
    equal to :func:`return_statistics` of the same returns over blocks of ``sizes`` bars."""
    m = np.asarray(moments, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] != 4 or sums.shape != squares.shape or sums.shape[0] != m.shape[0]:
        raise ValueError(
            f"moments {m.shape}, block sums {sums.shape} and squares {squares.shape} do not "
            "describe the same trials"
        )
    if sums.shape[1] != sizes.shape[0]:
        raise ValueError(f"{sums.shape[1]} block sums per trial for {sizes.shape[0]} blocks")
    return ReturnStatistics(
        sharpe_per_bar=sharpe_of_moments(m[:, 0], m[:, 1], m[:, 2], m[:, 3]),
        block_sums=np.ascontiguousarray(sums.T),
        block_squares=np.ascontiguousarray(squares.T),
        block_sizes=np.asarray(sizes, dtype=np.int64),
    )
