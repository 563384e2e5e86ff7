"""The per-bar bookkeeping every bar needs, on plain arrays: interest, marking, the record.

Most bars of a backtest carry no order, roll, expiry or margin call: they only accrue
interest, mark positions to the close and record the account. These small functions do that
work for both the full two-phase step and the fast loop of ``simulate_nb``, plus the cheap
checks that tell the fast loop a bar needs the full rules.
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from contango.engine.kernels import records_nb as rec
from contango.engine.kernels.account_nb import (
    exposure_arr_nb,
    open_pnl_arr_nb,
    rate_nb,
)
from contango.engine.kernels.compile_nb import inline_kernel, kernel
from contango.engine.kernels.state_nb import MarketConsts, SimData, SimParams, SimState

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_DAYS_PER_YEAR = 365.0  # ACT/365: interest accrues on calendar days between bars
_NS_PER_DAY = 86_400_000_000_000
# Bars ahead of the current one whose open is fetched into the cache (64 bars: 8 cache lines of
# one market), far enough for memory to answer before the loop gets there.
_OPEN_PREFETCH_BARS = 64


def prefetch_nb(panel: F64, t: int, j: int) -> None:
    """Hint that ``panel[t, j]`` will be read soon; without the compiler, nothing to do."""


@intrinsic
def _prefetch_read(
    _typingctx: object, panel: types.Array, t: types.Integer, j: types.Integer
) -> object:
    """``llvm.prefetch`` of ``panel[t, j]`` for reading: a hint, never a fault or a value."""

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        array_type = sig.args[0]
        array = context.make_array(array_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(  # type: ignore[no-untyped-call]
            context, builder, array_type, array, [args[1], args[2]], wraparound=False
        )
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(  # type: ignore[no-untyped-call]
            builder.module,
            ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer(), i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        raw = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        # read, keep in all cache levels (locality 3), data cache
        builder.call(fn, [raw, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(panel, t, j), codegen


@overload(prefetch_nb, inline="always")
def _prefetch_overload(panel: Any, t: Any, j: Any) -> object:  # noqa: ARG001 - matched by name
    # numba compares the two signatures, annotations included: the types at typing time,
    # the values at run time, hence ``Any`` on both.
    def impl(panel: Any, t: Any, j: Any) -> None:
        _prefetch_read(panel, t, j)  # type: ignore[call-arg]

    return impl


@inline_kernel
def any_finite_nb(values: F64) -> bool:
    for v in values:  # noqa: SIM110 - numba has no any() over generators
        if not math.isnan(v):
            return True
    return False


@kernel
def days_between_nb(ts: I64, days: F64) -> None:
    """Calendar days since the previous bar into ``days`` (0 on bar 0), for interest.

    The nanosecond step is exact in int64; ``/`` converts both sides to float64 and divides,
    as NumPy's true division does.
    """
    days[0] = 0.0
    for t in range(1, ts.shape[0]):
        days[t] = (ts[t] - ts[t - 1]) / _NS_PER_DAY


@inline_kernel
def accrue_interest_arr_nb(acct: F64, rate: float, days: F64, t: int) -> None:
    """Interest for the calendar days since the previous bar on a positive cash balance."""
    cash = acct[rec.CASH]
    if rate != 0.0 and cash > 0.0:
        interest = cash * rate * days[t] / _DAYS_PER_YEAR
        acct[rec.CASH] = cash + interest
        acct[rec.INTEREST] += interest


@inline_kernel
def record_bar_arr_nb(
    t: int,
    pos: F64,
    mark: F64,
    avg: F64,
    point_value: F64,
    fx: F64,
    fx_col: I64,
    acct: F64,
    equity: F64,
    cash: F64,
    exposure: F64,
) -> None:
    """Write bar ``t``'s equity, cash and exposure (positions and margin follow from fills)."""
    equity[t] = acct[rec.CASH] + open_pnl_arr_nb(pos, mark, avg, point_value, fx, fx_col, t)
    cash[t] = acct[rec.CASH]
    exposure[t] = exposure_arr_nb(pos, mark, point_value, fx, fx_col, t)


@inline_kernel
def quiet_rolls_nb(t: int, contract: I64, held: I64) -> bool:
    for j in range(held.shape[0]):
        c = contract[t, j]
        if c >= 0 and c != held[j]:
            return False
    return True


@inline_kernel
def excursions_nb(
    mae: float, mfe: float, gross: float, avg: float, low: float, high: float, scale: float
) -> tuple[float, float]:
    """An open trade's worst and best P&L so far, given the bar's low and high."""
    at_low = gross + (low - avg) * scale
    at_high = gross + (high - avg) * scale
    return min(mae, at_low, at_high), max(mfe, at_low, at_high)


@inline_kernel
def market_value_nb(
    pos: float, mark: float, avg: float, point_value: float, mm: float, rate: float
) -> tuple[float, float, float]:
    """One position's open P&L, maintenance requirement and gross notional."""
    return (
        pos * (mark - avg) * point_value * rate,
        abs(pos) * mm * rate,
        abs(pos * mark) * point_value * rate,
    )


@inline_kernel
def _mark_market_nb(
    t: int,
    j: int,
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
    c = close[t, j]
    if math.isnan(c):
        return
    mark[j] = c
    lo = low[t, j]
    hi = high[t, j]
    if pos[j] == 0.0 or math.isnan(lo) or math.isnan(hi):
        return
    scale = pos[j] * point_value[j] * rate_nb(fx, fx_col, t, j)
    tr_mae[j], tr_mfe[j] = excursions_nb(tr_mae[j], tr_mfe[j], tr_gross[j], avg[j], lo, hi, scale)


@inline_kernel
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
        _mark_market_nb(t, j, close, low, high, pos, mark, avg, point_value, fx, fx_col,
                        tr_gross, tr_mae, tr_mfe)  # fmt: skip


@inline_kernel
def mark_and_value_nb(
    t: int,
    close: F64,
    low: F64,
    high: F64,
    pos: F64,
    mark: F64,
    avg: F64,
    point_value: F64,
    maintenance_margin: F64,
    fx: F64,
    fx_col: I64,
    tr_gross: F64,
    tr_mae: F64,
    tr_mfe: F64,
) -> tuple[float, float, float]:
    """``mark_to_close_nb``, then open P&L, maintenance requirement and gross notional, in
    one pass over the markets.

    Each sum runs over the markets in the same order with the same arithmetic as
    ``open_pnl_arr_nb``, ``requirement_arr_nb`` and ``exposure_arr_nb``, so the figures are
    identical to theirs computed after marking.
    """
    pnl = 0.0
    maintenance = 0.0
    exposure = 0.0
    for j in range(pos.shape[0]):
        _mark_market_nb(t, j, close, low, high, pos, mark, avg, point_value, fx, fx_col,
                        tr_gross, tr_mae, tr_mfe)  # fmt: skip
        if pos[j] != 0.0:
            rate = rate_nb(fx, fx_col, t, j)
            mm = maintenance_margin[j]
            dp, dm, de = market_value_nb(pos[j], mark[j], avg[j], point_value[j], mm, rate)
            pnl += dp
            maintenance += dm
            exposure += de
    return pnl, maintenance, exposure


@inline_kernel
def due_at_close_nb(t: int, pos: F64, held_expiry: I64, contract_mode: bool) -> bool:
    if not contract_mode:
        return False
    for j in range(pos.shape[0]):  # noqa: SIM110 - numba has no any() over generators
        if pos[j] != 0.0 and t >= held_expiry[j]:
            return True
    return False


@inline_kernel
def quiet_row_nb(row: int, delta_mode: bool, targets: F64, pos: F64) -> bool:
    """True when signal row ``row`` asks for no change to any position."""
    for j in range(pos.shape[0]):
        v = targets[row, j]
        unchanged = 0.0 if delta_mode else pos[j]
        if math.isnan(v) or v == unchanged:
            continue  # the common case, decided without truncating (positions are whole)
        if float(math.trunc(v)) != unchanged:
            return False
    return True


@inline_kernel
def quiet_stretch_one_nb(
    data: SimData, mk: MarketConsts, par: SimParams, st: SimState, targets: F64, t0: int
) -> int:
    """One market: commit the bars from ``t0`` on which only interest and marking happen.

    On such bars the position, its average entry and the trade's realised P&L stay fixed, so
    the running figures live in registers instead of going through memory bar after bar. A
    bar is committed only when it is quiet: the first bar with an order due or a margin call
    is returned untouched, for the full rules. The arithmetic is that of
    ``accrue_interest_arr_nb``, ``mark_and_value_nb`` and the plain close, in the same order,
    so the figures are identical. Returns ``t0`` at once when the run is not this simple case.
    """
    simple = st.pos.shape[0] == 1 and par.fill_delay >= 1 and par.participation <= 0.0
    idle = math.isnan(st.forced[0]) and math.isnan(st.pending[0])  # no order left to work
    # ``t0 >= 0`` lets the compiler drop numba's negative-index handling from every array
    # access in the loop (the bar index only grows from there).
    if not simple or par.contract_mode or not idle or t0 < 0:
        return t0
    p, a, g = st.pos[0], st.avg[0], st.tr_gross[0]
    pv, mm = mk.point_value[0], mk.maintenance_margin[0]
    mark, mae, mfe = st.mark[0], st.tr_mae[0], st.tr_mfe[0]
    cash, earned = st.acct[rec.CASH], st.acct[rec.INTEREST]
    irate, delay, fx_col = par.interest_rate, par.fill_delay, mk.fx_col[0]
    unchanged = 0.0 if par.delta_mode else p  # a signal asking for this changes nothing
    rows = targets.shape[0]
    t = t0
    n = data.close.shape[0]
    while t < n:
        # The bar that breaks the stretch fills at its open, a price this loop never reads:
        # without the hint that read would wait for memory on every fill.
        prefetch_nb(data.open, min(t + _OPEN_PREFETCH_BARS, n - 1), 0)
        if rows > 0 and t >= delay:
            v = targets[t - delay, 0]
            if not (math.isnan(v) or v == unchanged) and float(math.trunc(v)) != unchanged:
                break
        new_cash, new_earned = cash, earned
        if t > 0 and irate != 0.0 and cash > 0.0:
            interest = cash * irate * data.days[t] / _DAYS_PER_YEAR
            new_cash, new_earned = cash + interest, earned + interest
        rate = 1.0 if fx_col < 0 else data.fx[t, fx_col]  # rate_nb, column read once
        new_mark, new_mae, new_mfe = mark, mae, mfe
        c = data.close[t, 0]
        if not math.isnan(c):
            new_mark = c
            lo, hi = data.low[t, 0], data.high[t, 0]
            if not (p == 0.0 or math.isnan(lo) or math.isnan(hi)):
                new_mae, new_mfe = excursions_nb(mae, mfe, g, a, lo, hi, p * pv * rate)
        pnl, maintenance, exposure = 0.0, 0.0, 0.0
        if p != 0.0:  # the sums of mark_and_value_nb over one market: from 0.0 like theirs
            dp, dm, de = market_value_nb(p, new_mark, a, pv, mm, rate)
            pnl, maintenance, exposure = 0.0 + dp, 0.0 + dm, 0.0 + de
        equity = new_cash + pnl
        if maintenance > 0.0 and equity < maintenance:
            break  # a margin call: the full rules take the bar from its open
        st.equity[t] = equity
        st.cash[t] = new_cash
        st.exposure[t] = exposure
        cash, earned, mark, mae, mfe = new_cash, new_earned, new_mark, new_mae, new_mfe
        t += 1
    st.acct[rec.CASH], st.acct[rec.INTEREST] = cash, earned
    st.mark[0], st.tr_mae[0], st.tr_mfe[0] = mark, mae, mfe
    return t
