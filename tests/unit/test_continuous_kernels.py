"""The compiled passes of the continuous build against their NumPy twins.

The suite also runs with ``NUMBA_DISABLE_JIT=1``, which checks the kernels' Python source.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from contango.data.continuous_nb import (
    first_crossover_nb,
    first_crossover_reference,
    group_rows_nb,
    group_rows_reference,
)


def test_crossover_kernel_finds_the_hand_counted_bar() -> None:
    current_ts = np.array([1, 2, 3, 4, 5, 6], dtype=np.int64)
    current = np.array([5.0, 5.0, 5.0, 5.0, 5.0, 5.0])
    following_ts = np.array([2, 3, 5, 6], dtype=np.int64)  # no bar at 4
    following = np.array([6.0, 7.0, 8.0, 9.0])
    # Crossovers on ts 2, 3 (run 2), ts 4 missing (run 0), ts 5 (1), ts 6 (2).
    for kernel in (first_crossover_nb, first_crossover_reference):
        assert kernel(current_ts, current, following_ts, following, 1) == 1
        assert kernel(current_ts, current, following_ts, following, 2) == 2
        assert kernel(current_ts, current, following_ts, following, 3) == -1


stamps = st.lists(st.integers(0, 60), unique=True).map(lambda v: np.array(sorted(v), np.int64))


@settings(max_examples=200, deadline=None)
@given(
    current_ts=stamps,
    following_ts=stamps,
    seed=st.integers(0, 2**32 - 1),
    confirm_bars=st.integers(1, 4),
    nan_share=st.sampled_from([0.0, 0.2]),
)
def test_crossover_kernel_and_reference_agree(
    current_ts: np.ndarray,
    following_ts: np.ndarray,
    seed: int,
    confirm_bars: int,
    nan_share: float,
) -> None:
    rng = np.random.default_rng(seed)
    current = rng.integers(0, 5, current_ts.size).astype(np.float64)
    following = rng.integers(0, 5, following_ts.size).astype(np.float64)
    following[rng.random(following.size) < nan_share] = np.nan
    expected = first_crossover_reference(current_ts, current, following_ts, following, confirm_bars)
    assert first_crossover_nb(current_ts, current, following_ts, following, confirm_bars) == (
        expected
    )


def test_grouping_orders_rows_by_rank_and_keeps_table_order_within_a_rank() -> None:
    ranks = np.array([2, 0, 1, 0, 2, 1, 0], dtype=np.int32)
    # Rank 0 at rows 1, 3, 6; rank 1 at rows 2, 5; rank 2 at rows 0, 4.
    for kernel in (group_rows_nb, group_rows_reference):
        assert kernel(ranks, 3).tolist() == [1, 3, 6, 2, 5, 0, 4]


@settings(max_examples=200, deadline=None)
@given(ranks=st.lists(st.integers(0, 6)), extra_groups=st.integers(0, 2))
def test_grouping_kernel_and_reference_agree(ranks: list[int], extra_groups: int) -> None:
    values = np.array(ranks, dtype=np.int32)
    groups = max(ranks, default=-1) + 1 + extra_groups
    assert group_rows_nb(values, groups).tolist() == group_rows_reference(values, groups).tolist()
