"""Compiled passes of the continuous-series build, each with a NumPy twin for the tests.

* :func:`first_crossover_nb`: on which bar of the current contract's window does the next
  contract's value exceed the current one's for the ``confirm_bars``-th time in a row? A bar on
  which the next contract did not trade is never a crossover (it breaks a run). Both timestamp
  arrays are strictly increasing, so one merge-like pass answers it and stops at the first hit.
* :func:`group_rows_nb`: the row order that groups rows by contract (chain position), keeping
  their order within a contract: a counting sort, linear where a comparison sort is not.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

from contango.kernel_cache import use_versioned_cache

use_versioned_cache()
I64 = npt.NDArray[np.int64]


@njit(cache=True, nogil=True)
def first_crossover_nb(
    current_ts: I64,
    current: npt.NDArray[np.float64],
    following_ts: I64,
    following: npt.NDArray[np.float64],
    confirm_bars: int,
) -> int:
    """Position in ``current_ts`` of the bar completing the crossover, or -1."""
    j = 0
    run = 0
    count = following_ts.size
    for i in range(current_ts.size):
        stamp = current_ts[i]
        while j < count and following_ts[j] < stamp:
            j += 1
        # NaN (unknown open interest) compares False, so it breaks a run like a missing bar.
        if j < count and following_ts[j] == stamp and following[j] > current[i]:
            run += 1
            if run >= confirm_bars:
                return i
        else:
            run = 0
    return -1


def first_crossover_reference(
    current_ts: I64,
    current: npt.NDArray[np.float64],
    following_ts: I64,
    following: npt.NDArray[np.float64],
    confirm_bars: int,
) -> int:
    """The same answer as :func:`first_crossover_nb`, computed on whole arrays."""
    if current_ts.size == 0 or following_ts.size == 0:
        return -1
    nearest = np.minimum(np.searchsorted(following_ts, current_ts), following_ts.size - 1)
    traded = following_ts[nearest] == current_ts
    condition = traded & (following[nearest] > current)
    position = np.arange(condition.size, dtype=np.int64)
    last_break = np.maximum.accumulate(np.where(condition, -1, position))
    hits = np.flatnonzero(position - last_break >= confirm_bars)
    return int(hits[0]) if hits.size else -1


@njit(cache=True, nogil=True)
def group_rows_nb(ranks: npt.NDArray[np.int32], groups: int) -> I64:
    """Rows ordered by ``ranks`` (0 .. groups-1), stable within each rank."""
    starts = np.zeros(groups + 1, dtype=np.int64)
    for rank in ranks:
        starts[rank + 1] += 1
    for g in range(groups):
        starts[g + 1] += starts[g]
    order = np.empty(ranks.size, dtype=np.int64)
    for row in range(ranks.size):
        rank = ranks[row]
        order[starts[rank]] = row
        starts[rank] += 1
    return order


def group_rows_reference(ranks: npt.NDArray[np.int32], groups: int) -> I64:
    """The same order as :func:`group_rows_nb`, from NumPy's stable sort."""
    del groups
    order: I64 = np.argsort(ranks, kind="stable").astype(np.int64)
    return order
