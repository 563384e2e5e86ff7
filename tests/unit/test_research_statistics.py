"""One read of a sweep's returns for every diagnostic: per-bar Sharpe ratios and CSCV block
sums gathered together must equal, bit for bit, the figures computed apart, on column-major
returns (a sweep's), their row slices and row-major copies alike."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contango.research.overfitting import (
    overfitting_of_statistics,
    probability_of_backtest_overfitting,
    probability_of_backtest_overfitting_reference,
)
from contango.research.return_stats import (
    ReturnStatistics,
    return_statistics,
    sharpe_per_bar,
    sharpe_per_bar_reference,
)
from contango.research.return_stats_nb import block_stats_nb, column_stats_nb


def _returns(seed: int, bars: int, n: int, holes: int) -> np.ndarray:
    """Fortran-ordered returns with ``holes`` NaN / inf entries (a wiped-out account)."""
    rng = np.random.default_rng(seed)
    r = np.asfortranarray(rng.normal(0.0, 0.01, (bars, n)))
    for k in range(holes):
        r[rng.integers(bars), rng.integers(n)] = (np.nan, np.inf, -np.inf)[k % 3]
    return r


def _block_sums_by_hand(r: np.ndarray, n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-block sums and sums of squares (non-finite returns as 0), each NumPy's ``sum`` of
    the block's values copied out as a contiguous array: what the kernels promise, computed
    independently."""
    bounds = np.cumsum([0] + [len(b) for b in np.array_split(np.arange(r.shape[0]), n_blocks)])
    sums = np.zeros((n_blocks, r.shape[1]))
    squares = np.zeros((n_blocks, r.shape[1]))
    for j in range(r.shape[1]):
        for b in range(n_blocks):
            block = np.array(
                [x if math.isfinite(x) else 0.0 for x in r[bounds[b] : bounds[b + 1], j]]
            )
            sums[b, j], squares[b, j] = block.sum(), (block**2).sum()
    return sums, squares


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(a, b, equal_nan=True)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    bars=st.integers(9, 90),
    n=st.integers(2, 40),
    n_blocks=st.sampled_from([1, 2, 4, 8]),
    holes=st.integers(0, 6),
)
def test_statistics_equal_the_figures_computed_apart_in_any_layout(
    seed: int, bars: int, n: int, n_blocks: int, holes: int
) -> None:
    r = _returns(seed, bars, n, holes)
    sums, squares = _block_sums_by_hand(r, n_blocks)
    for layout in (r, r[1:], np.ascontiguousarray(r), np.ascontiguousarray(r[1:])):
        stats = return_statistics(layout, n_blocks)
        if layout.shape[0] == bars:
            assert _same(stats.block_sums, sums)
            assert _same(stats.block_squares, squares)
        assert _same(stats.sharpe_per_bar, sharpe_per_bar(np.ascontiguousarray(layout)))
        assert _same(stats.sharpe_per_bar, sharpe_per_bar(layout))
        assert _same(stats.sharpe_per_bar, sharpe_per_bar_reference(layout))
        assert stats.block_sizes.sum() == layout.shape[0]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    bars=st.integers(2, 300),
    n=st.integers(2, 300),
    holes=st.integers(0, 9),
    layout=st.sampled_from(["even", "uneven"]),
)
def test_row_major_block_sums_equal_the_column_by_column_ones(
    seed: int, bars: int, n: int, holes: int, layout: str
) -> None:
    # A row-major matrix is summed row by row for every column at once (blocks of any length,
    # empty ones, leaves under 8 rows, more columns than a task takes): the same bits.
    r = _returns(seed, bars, n, holes)
    if layout == "even":
        starts = np.linspace(0, bars, min(bars, 5)).astype(np.int64)
    else:
        starts = np.array([0, 0, 1, 1, bars // 3, bars - 1, bars, bars], dtype=np.int64)
    sums, squares = block_stats_nb(np.ascontiguousarray(r), starts)
    *_, column_sums, column_squares = column_stats_nb(r, starts)
    assert sums.tobytes() == column_sums.tobytes()
    assert squares.tobytes() == column_squares.tobytes()


def test_column_and_row_major_statistics_match_bit_for_bit_on_a_sweep_sized_matrix() -> None:
    r = _returns(3, 2_518, 300, holes=9)
    by_column = return_statistics(r[1:], 16)
    by_row = return_statistics(np.ascontiguousarray(r[1:]), 16)
    for name in ("sharpe_per_bar", "block_sums", "block_squares", "block_sizes"):
        assert _same(getattr(by_column, name), getattr(by_row, name)), name


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 30), s=st.sampled_from([2, 4, 6, 8]))
def test_pbo_of_statistics_equals_pbo_of_the_returns(seed: int, n: int, s: int) -> None:
    r = _returns(seed, 4 * s + seed % 17, n, holes=seed % 4)
    direct = probability_of_backtest_overfitting(np.ascontiguousarray(r), s)
    twin = probability_of_backtest_overfitting_reference(r, s)
    for layout in (r, np.ascontiguousarray(r)):
        from_stats = overfitting_of_statistics(return_statistics(layout, s))
        assert _same(from_stats.logits, direct.logits)
        assert _same(from_stats.is_best_oos_sharpe, direct.is_best_oos_sharpe)
        assert (from_stats.pbo, from_stats.prob_oos_loss) == (direct.pbo, direct.prob_oos_loss)
        assert np.allclose(from_stats.logits, twin.logits, rtol=1e-12)


@pytest.mark.parametrize("n_blocks", [8, 16])  # one group of blocks; two
def test_identical_trials_tie_and_their_ranks_are_averaged_as_in_the_twin(n_blocks: int) -> None:
    rng = np.random.default_rng(5)
    r = rng.normal(0.0, 0.01, (64, 6))
    r[:, 1] += 0.002  # trial 1 is the best in sample almost everywhere
    r[:, 3] = r[:, 1]  # and trial 3 is a copy of it (the same Sharpe ratio in every half)
    kernel = overfitting_of_statistics(return_statistics(np.asfortranarray(r), n_blocks))
    twin = probability_of_backtest_overfitting_reference(r, n_blocks)
    assert np.array_equal(kernel.logits, twin.logits)
    # With two equal winners the winner's OOS rank is at best (n - 1 + n) / 2 of n = 6: the
    # tie is averaged, 5.5 / 7 -> logit ln(5.5 / 1.5).
    assert kernel.logits.max() <= math.log(5.5 / 1.5) + 1e-12


def test_pbo_of_statistics_refuses_what_pbo_refuses() -> None:
    r = _returns(1, 40, 3, holes=0)
    with pytest.raises(ValueError, match="even"):
        overfitting_of_statistics(return_statistics(r, 3))
    with pytest.raises(ValueError, match=">= 2 trials"):
        overfitting_of_statistics(return_statistics(r[:, :1], 4))
    short = ReturnStatistics(
        sharpe_per_bar=np.zeros(3),
        block_sums=np.zeros((4, 3)),
        block_squares=np.zeros((4, 3)),
        block_sizes=np.array([2, 2, 1, 1]),
    )
    with pytest.raises(ValueError, match="too short"):
        overfitting_of_statistics(short)
    with pytest.raises(ValueError, match="cannot cut"):
        return_statistics(r[:3], 4)
