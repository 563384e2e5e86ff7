"""Account arithmetic on plain arrays: FX rate, open P&L, margin requirement, exposure.

These take arrays, not the NamedTuples, so the per-bar loops can call them with exactly the
arrays they read; kept branch-light and inlined, they are cheap enough to call on every bar.
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from contango.engine.kernels.compile_nb import inline_kernel

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@inline_kernel
def rate_nb(fx: F64, fx_col: I64, t: int, j: int) -> float:
    """Account currency per unit of market ``j``'s currency at bar ``t`` (1 when the same)."""
    col = fx_col[j]
    if col < 0:
        return 1.0
    return fx[t, col]  # type: ignore[no-any-return]


@inline_kernel
def open_pnl_arr_nb(
    pos: F64, mark: F64, avg: F64, point_value: F64, fx: F64, fx_col: I64, t: int
) -> float:
    """Sum of ``pos x (mark - avg) x point value x fx`` over markets with a position."""
    total = 0.0
    for j in range(pos.shape[0]):
        if pos[j] != 0.0:
            total += pos[j] * (mark[j] - avg[j]) * point_value[j] * rate_nb(fx, fx_col, t, j)
    return total


@inline_kernel
def requirement_arr_nb(pos: F64, per_contract: F64, fx: F64, fx_col: I64, t: int) -> float:
    """Margin required for the positions at ``per_contract`` (initial or maintenance)."""
    total = 0.0
    for j in range(pos.shape[0]):
        if pos[j] != 0.0:
            total += abs(pos[j]) * per_contract[j] * rate_nb(fx, fx_col, t, j)
    return total


@inline_kernel
def exposure_arr_nb(pos: F64, mark: F64, point_value: F64, fx: F64, fx_col: I64, t: int) -> float:
    """Gross notional: sum of ``|pos x mark| x point value x fx``."""
    total = 0.0
    for j in range(pos.shape[0]):
        if pos[j] != 0.0:
            total += abs(pos[j] * mark[j]) * point_value[j] * rate_nb(fx, fx_col, t, j)
    return total
