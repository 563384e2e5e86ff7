"""What the diagnostics of a sweep read from its returns: each trial's per-bar Sharpe ratio
(the Deflated Sharpe Ratio's trials) and the per-block sums PBO's CSCV is built from.

Gathered from a ``T x N`` returns matrix in one read (``return_stats_nb``), or taken from the
sweep kernel, which gathers the same sums, in the same order, while it runs each trial
(:func:`statistics_of_moments`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from contango.research.overfitting_nb import NO_DISPERSION
from contango.research.return_stats_nb import block_stats_nb, column_moments_nb, column_stats_nb

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def sharpe_per_bar(returns: F64) -> F64:
    """Mean over standard deviation (ddof=1) of each column's finite returns; NaN when flat,
    including constant returns, whose deviations from their rounded mean are noise that would
    otherwise give a Sharpe ratio of ~1e15 (``NO_DISPERSION``). Compiled; the figures equal
    :func:`sharpe_per_bar_reference`'s to rounding (``column_moments_nb``)."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[:, None] if r.ndim == 1 else r
    if by_column(r):
        whole = np.array([0, r.shape[0]], dtype=np.int64)
        count, mean, deviations, squares, _, _ = column_stats_nb(r, whole)
    else:
        count, mean, deviations, squares = column_moments_nb(r)
    return sharpe_of_moments(count, mean, deviations, squares)


def by_column(returns: F64) -> bool:
    """Whether to read ``returns`` column by column (each column contiguous, as in a sweep's
    Fortran-ordered returns and their slices): the row-wise kernels would stride across every
    column on each row. Same figures either way."""
    return returns.strides[0] == returns.itemsize and not returns.flags.c_contiguous


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
    if by_column(r):
        count, mean, deviations, squares, sums, block_squares = column_stats_nb(r, starts)
    else:
        count, mean, deviations, squares = column_moments_nb(r)
        sums, block_squares = block_stats_nb(r, starts)
    return ReturnStatistics(
        sharpe_per_bar=sharpe_of_moments(count, mean, deviations, squares),
        block_sums=sums,
        block_squares=block_squares,
        block_sizes=sizes,
    )


def sharpe_per_bar_reference(returns: F64) -> F64:
    """The NumPy twin of :func:`sharpe_per_bar`."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[:, None] if r.ndim == 1 else r
    finite = np.isfinite(r)
    count = finite.sum(axis=0).astype(np.float64)
    x = np.where(finite, r, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = x.sum(axis=0) / count
    deviations = (np.where(finite, x - mean, 0.0) ** 2).sum(axis=0)
    return sharpe_of_moments(count, mean, deviations, (x**2).sum(axis=0))


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
