"""Bars on which nothing can happen, processed on plain arrays.

Most bars of a backtest carry no order, roll, expiry or margin call: they only accrue
interest, mark positions to the close and record the account. ``run_quiet_nb`` runs such bars
back to back and hands the first eventful bar to the full rules in ``simulate_nb``. These
functions take arrays, not the NamedTuples: numba reference-counts every array of a NamedTuple
passed to a function, which would cost more than the bar itself.
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from contango.engine.kernels import records_nb as rec
from contango.engine.kernels.account_nb import (
    exposure_arr_nb,
    open_pnl_arr_nb,
    rate_nb,
    requirement_arr_nb,
)
from contango.engine.kernels.state_nb import SimParams

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_DAYS_PER_YEAR = 365.0  # ACT/365: interest accrues on calendar days between bars


@njit(cache=True, inline="always")
def any_finite_nb(values: F64) -> bool:
    for v in values:  # noqa: SIM110 - numba has no any() over generators
        if not math.isnan(v):
            return True
    return False


@njit(cache=True, inline="always")
def accrue_interest_arr_nb(acct: F64, rate: float, days: F64, t: int) -> None:
    """Interest for the calendar days since the previous bar on a positive cash balance."""
    cash = acct[rec.CASH]
    if rate != 0.0 and cash > 0.0:
        interest = cash * rate * days[t] / _DAYS_PER_YEAR
        acct[rec.CASH] = cash + interest
        acct[rec.INTEREST] += interest


@njit(cache=True, inline="always")
def record_bar_arr_nb(
    t: int,
    pos: F64,
    mark: F64,
    avg: F64,
    point_value: F64,
    initial_margin: F64,
    fx: F64,
    fx_col: I64,
    acct: F64,
    equity: F64,
    cash: F64,
    margin: F64,
    exposure: F64,
    positions: F64,
) -> None:
    """Write bar ``t``'s equity, cash, initial requirement, exposure and positions."""
    for j in range(pos.shape[0]):  # an explicit loop: a slice assignment allocates a view
        positions[t, j] = pos[j]
    equity[t] = acct[rec.CASH] + open_pnl_arr_nb(pos, mark, avg, point_value, fx, fx_col, t)
    cash[t] = acct[rec.CASH]
    margin[t] = requirement_arr_nb(pos, initial_margin, fx, fx_col, t)
    exposure[t] = exposure_arr_nb(pos, mark, point_value, fx, fx_col, t)


@njit(cache=True, inline="always")
def _quiet_open_nb(
    t: int,
    delay: int,
    delta_mode: bool,
    targets: F64,
    pos: F64,
    pending: F64,
    forced: F64,
) -> bool:
    """True when the open phase has nothing to do but interest: no order, no liquidation."""
    for j in range(pos.shape[0]):
        if not (math.isnan(pending[j]) and math.isnan(forced[j])):
            return False
    if delay < 1 or t < delay:
        return True
    for j in range(pos.shape[0]):
        v = targets[t - delay, j]
        if not math.isnan(v):
            v = float(math.trunc(v))
            if (v != 0.0) if delta_mode else (v != pos[j]):
                return False
    return True


@njit(cache=True, inline="always")
def quiet_rolls_nb(t: int, contract: I64, held: I64) -> bool:
    for j in range(held.shape[0]):
        c = contract[t, j]
        if c >= 0 and c != held[j]:
            return False
    return True


@njit(cache=True, inline="always")
def mark_to_close_nb(
    t: int,
    close: F64,
    low: F64,
    high: F64,
    pos: F64,
    mark: F64,
    avg: F64,
    point_value: F64,
    fx: F64,
    fx_col: I64,
    tr_gross: F64,
    tr_mae: F64,
    tr_mfe: F64,
) -> None:
    """Mark to the close; track each open trade's worst and best P&L at the bar's low/high."""
    for j in range(pos.shape[0]):
        c = close[t, j]
        if math.isnan(c):
            continue
        mark[j] = c
        lo = low[t, j]
        hi = high[t, j]
        if pos[j] == 0.0 or math.isnan(lo) or math.isnan(hi):
            continue
        scale = pos[j] * point_value[j] * rate_nb(fx, fx_col, t, j)
        at_low = tr_gross[j] + (lo - avg[j]) * scale
        at_high = tr_gross[j] + (hi - avg[j]) * scale
        tr_mae[j] = min(tr_mae[j], at_low, at_high)
        tr_mfe[j] = max(tr_mfe[j], at_low, at_high)


@njit(cache=True, inline="always")
def _due_at_close_nb(t: int, pos: F64, held_expiry: I64, contract_mode: bool) -> bool:
    if not contract_mode:
        return False
    for j in range(pos.shape[0]):  # noqa: SIM110 - numba has no any() over generators
        if pos[j] != 0.0 and t >= held_expiry[j]:
            return True
    return False


@njit(cache=True, inline="always")
def _quiet_row_nb(row: int, delta_mode: bool, targets: F64, pos: F64) -> bool:
    """True when signal row ``row`` asks for no change to any position."""
    for j in range(pos.shape[0]):
        v = targets[row, j]
        if not math.isnan(v):
            v = float(math.trunc(v))
            if (v != 0.0) if delta_mode else (v != pos[j]):
                return False
    return True


@njit(cache=True)
def run_quiet_nb(
    t0: int,
    par: SimParams,
    targets: F64,
    data_close: F64,
    data_low: F64,
    data_high: F64,
    days: F64,
    contract: I64,
    fx: F64,
    fx_col: I64,
    pv: F64,
    im: F64,
    mm: F64,
    pos: F64,
    mark: F64,
    avg: F64,
    acct: F64,
    pending: F64,
    forced: F64,
    held: I64,
    held_expiry: I64,
    vol_used: F64,
    tr_gross: F64,
    tr_mae: F64,
    tr_mfe: F64,
    equity_out: F64,
    cash_out: F64,
    margin_out: F64,
    exposure_out: F64,
    positions: F64,
) -> tuple[int, bool]:
    """Process bars from ``t0`` while nothing can happen on them, on plain arrays only.

    Returns the first bar that needs the full rules and whether its open phase is done
    (interest accrued, nothing else due at the open).
    """
    delay = par.fill_delay
    has_targets = targets.shape[0] > 0
    for t in range(t0, data_close.shape[0]):
        if not _quiet_open_nb(t, delay, par.delta_mode, targets, pos, pending, forced):
            return t, False
        if par.contract_mode and not quiet_rolls_nb(t, contract, held):
            return t, False
        if par.interest_rate != 0.0 and t > 0:
            accrue_interest_arr_nb(acct, par.interest_rate, days, t)
        if par.participation > 0.0:
            vol_used[:] = 0.0
        if delay == 0 and has_targets and not _quiet_row_nb(t, par.delta_mode, targets, pos):
            return t, True
        # Every call below is guarded by the flag it depends on: an unguarded early return in
        # this loop stops LLVM from pruning reference counts and triples the cost of a bar.
        if par.contract_mode and _due_at_close_nb(t, pos, held_expiry, True):
            return t, True
        mark_to_close_nb(t, data_close, data_low, data_high, pos, mark, avg, pv, fx, fx_col,
                         tr_gross, tr_mae, tr_mfe)  # fmt: skip
        equity = acct[rec.CASH] + open_pnl_arr_nb(pos, mark, avg, pv, fx, fx_col, t)
        maintenance = requirement_arr_nb(pos, mm, fx, fx_col, t)
        if maintenance > 0.0 and equity < maintenance:
            return t, True  # a margin call: marking again in the close phase changes nothing
        record_bar_arr_nb(t, pos, mark, avg, pv, im, fx, fx_col, acct, equity_out, cash_out,
                          margin_out, exposure_out, positions)  # fmt: skip
    return data_close.shape[0], True
