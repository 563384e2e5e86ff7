"""The per-bar step of the simulator and the numba loop that drives it for vectorized runs.

A bar is processed in two phases. Event-driven runs call the same functions from a Python
loop and run the user's ``on_bar`` between them, so both styles share one execution core.

Open phase (``open_phase_nb``)
    1. interest on a positive cash balance for the calendar days since the previous bar;
    2. rolls (actual-contract mode): close the expiring contract at its open on the roll bar,
       re-open the same position in the next contract at its open (both legs pay fees and
       slippage; no margin check, the position does not change size);
    3. margin-call liquidation decided at the previous close (unless it ran at that close);
    4. target orders due at this open (``fill_delay >= 1``) and the working order book.
Close phase (``close_phase_nb``)
    1. target orders due at this close (``fill_delay == 0``, explicit opt-in);
    2. forced close of positions in a contract on its expiry bar, at the close;
    3. mark to the close, margin check (maintenance), optional liquidation at the close;
    4. record equity, cash and exposure (positions and margin are rebuilt from the fills).

Vectorized runs go through ``run_plain_bars_nb`` for every bar that needs no more than target
orders at the open: the same steps inlined into one loop, which leaves it only for a roll, a
liquidation, an expiry, a margin call, a close fill or a working order. With one market, runs
of bars without an order go through ``quiet_stretch_one_nb``, which keeps the account in
registers. The property and golden tests hold all of these paths to the same figures.
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only (no keyword-only
# parameters in nopython mode); the NamedTuples already bundle what can be bundled.

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from contango.engine.kernels import records_nb as rec
from contango.engine.kernels.account_nb import (
    open_pnl_arr_nb,
    requirement_arr_nb,
)
from contango.engine.kernels.compile_nb import inline_kernel, kernel
from contango.engine.kernels.fills_nb import (
    execute_fill_nb,
    fx_rate_nb,
    slippage_px_nb,
    write_trade_nb,
)
from contango.engine.kernels.margin_nb import (
    allowed_target_nb,
    margin_call_targets_nb,
)
from contango.engine.kernels.orders_nb import OrderBook, process_book_nb
from contango.engine.kernels.quiet_nb import (
    accrue_interest_arr_nb,
    any_finite_nb,
    due_at_close_nb,
    mark_and_value_nb,
    mark_to_close_nb,
    quiet_rolls_nb,
    quiet_row_nb,
    quiet_stretch_one_nb,
    record_bar_arr_nb,
)
from contango.engine.kernels.state_nb import MarketConsts, SimData, SimParams, SimState

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@kernel
def _roll_nb(
    data: SimData, mk: MarketConsts, par: SimParams, st: SimState, t: int, j: int, to_contract: int
) -> None:
    """Carry market ``j``'s position from the expiring contract into ``to_contract``."""
    qty = st.pos[j]
    from_contract = st.held[j]
    fx = fx_rate_nb(data, mk, t, j)
    slip = slippage_px_nb(data, mk, par.slippage_ticks, par.slippage_atr, t, j)
    trades_before = st.counts[rec.N_TRADES]
    exit_px = execute_fill_nb(data, mk, st, t, j, -qty, data.roll_price[t, j], slip, rec.ROLL, -1)
    closed = 0.0
    if st.counts[rec.N_TRADES] > trades_before and trades_before < st.trades.shape[0]:
        closed = st.trades[trades_before]["pnl_gross"]
    st.held[j] = to_contract
    st.held_expiry[j] = data.expiry_bar[t, j]
    entry_px = execute_fill_nb(data, mk, st, t, j, qty, data.open[t, j], slip, rec.ROLL, -1)
    k = st.counts[rec.N_ROLLS]
    if k < st.rolls.shape[0]:
        row = st.rolls[k]
        row["bar"] = t
        row["market"] = j
        row["from_contract"] = from_contract
        row["to_contract"] = to_contract
        row["qty"] = qty
        row["exit_price"] = exit_px
        row["entry_price"] = entry_px
        row["fees"] = 2.0 * abs(qty) * mk.fee[j] * fx
        row["slippage"] = 2.0 * abs(qty) * slip * mk.point_value[j] * fx
        row["closed_pnl"] = closed
    st.counts[rec.N_ROLLS] = k + 1


@kernel
def _roll_all_nb(data: SimData, mk: MarketConsts, par: SimParams, st: SimState, t: int) -> None:
    for j in range(st.pos.shape[0]):
        c = data.contract[t, j]
        if c < 0 or c == st.held[j]:
            continue
        if st.pos[j] != 0.0 and st.held[j] >= 0:
            _roll_nb(data, mk, par, st, t, j, c)
        else:
            st.held[j] = c
            st.held_expiry[j] = data.expiry_bar[t, j]


@kernel
def _liquidate_nb(
    data: SimData, mk: MarketConsts, par: SimParams, st: SimState, t: int, at_close: bool
) -> None:
    """Fill margin-call targets at the open (or close) of ``t``; participation cap not applied."""
    for j in range(st.pos.shape[0]):
        target = st.forced[j]
        if math.isnan(target):
            continue
        price = st.mark[j] if at_close else data.open[t, j]
        if math.isnan(price):
            continue  # no bar: liquidate at the next bar with data
        trade = target - st.pos[j]
        if trade != 0.0:
            slip = slippage_px_nb(data, mk, par.slippage_ticks, par.slippage_atr, t, j)
            execute_fill_nb(data, mk, st, t, j, trade, price, slip, rec.MARGIN_CALL, -1)
        st.forced[j] = math.nan


@inline_kernel
def _load_targets_nb(par: SimParams, st: SimState, targets: F64, s: int) -> None:
    """Signal row ``s`` becomes the pending targets (NaN keeps what is pending)."""
    for j in range(st.pos.shape[0]):
        v = targets[s, j]
        if math.isnan(v):
            continue
        v = float(math.trunc(v))
        if par.delta_mode:
            if v != 0.0:
                st.pending[j] = v + (st.pos[j] if math.isnan(st.pending[j]) else st.pending[j])
        elif v == st.pos[j]:
            st.pending[j] = math.nan  # already there: nothing left to work
        else:
            st.pending[j] = v


@inline_kernel
def work_target_nb(
    data: SimData, mk: MarketConsts, par: SimParams, st: SimState, t: int, j: int, price: float
) -> None:
    """Trade market ``j`` toward its pending target at ``price`` (a market order)."""
    target = st.pending[j]
    if math.isnan(target) or math.isnan(price):
        return  # nothing to do, or no bar: the target waits
    desired = allowed_target_nb(data, mk, par, st, t, j, target, price, -1)
    trade = desired - st.pos[j]
    if par.participation > 0.0:
        vol = data.volume[t, j]
        cap = 0.0 if math.isnan(vol) else math.floor(par.participation * vol + 1e-9)
        cap = max(cap - st.vol_used[j], 0.0)
        if abs(trade) > cap:
            trade = math.copysign(cap, trade)
    if trade != 0.0:
        slip = slippage_px_nb(data, mk, par.slippage_ticks, par.slippage_atr, t, j)
        execute_fill_nb(data, mk, st, t, j, trade, price, slip, rec.SIGNAL, -1)
    if st.pos[j] == target or desired != target or not par.carry_remainder:
        st.pending[j] = math.nan


@kernel
def open_phase_nb(
    data: SimData,
    mk: MarketConsts,
    par: SimParams,
    st: SimState,
    t: int,
    targets: F64,
    book: OrderBook,
) -> None:
    """Everything that happens from the previous close to this bar's open and during it."""
    # Calls of the rare steps are guarded by cheap array checks: a call hands over every array
    # of the NamedTuples (about 70), which costs more than the check.
    m = st.pos.shape[0]
    if t > 0:
        accrue_interest_arr_nb(st.acct, par.interest_rate, data.days, t)
    if par.participation > 0.0:
        st.vol_used[:] = 0.0
    if par.contract_mode and not quiet_rolls_nb(t, data.contract, st.held):
        _roll_all_nb(data, mk, par, st, t)
    if not par.liquidate_at_close and any_finite_nb(st.forced):
        _liquidate_nb(data, mk, par, st, t, False)
    if par.fill_delay >= 1 and targets.shape[0] > 0:
        if t >= par.fill_delay:
            _load_targets_nb(par, st, targets, t - par.fill_delay)
        for j in range(m):
            if not math.isnan(st.pending[j]):
                work_target_nb(data, mk, par, st, t, j, data.open[t, j])
    if book.size[0] > 0:
        process_book_nb(data, mk, par, st, book, t)


@kernel
def _expire_nb(data: SimData, mk: MarketConsts, par: SimParams, st: SimState, t: int) -> None:
    """Never hold a contract past its expiry bar: close at that bar's close (or last mark)."""
    for j in range(st.pos.shape[0]):
        if st.pos[j] != 0.0 and t >= st.held_expiry[j]:
            price = data.close[t, j]
            if math.isnan(price):
                price = st.mark[j]
            slip = slippage_px_nb(data, mk, par.slippage_ticks, par.slippage_atr, t, j)
            execute_fill_nb(data, mk, st, t, j, -st.pos[j], price, slip, rec.EXPIRY, -1)
            st.pending[j] = math.nan


@kernel
def close_phase_nb(
    data: SimData, mk: MarketConsts, par: SimParams, st: SimState, t: int, targets: F64
) -> None:
    """Close-of-bar fills, expiries, marking, the margin check and the bar's record."""
    m = st.pos.shape[0]
    if par.fill_delay == 0 and targets.shape[0] > 0:
        _load_targets_nb(par, st, targets, t)
        for j in range(m):
            if not math.isnan(st.pending[j]):
                work_target_nb(data, mk, par, st, t, j, data.close[t, j])
    if par.contract_mode:
        _expire_nb(data, mk, par, st, t)
    mark_to_close_nb(
        t, data.close, data.low, data.high, st.pos, st.mark, st.avg, mk.point_value, data.fx,
        mk.fx_col, st.tr_gross, st.tr_mae, st.tr_mfe,
    )  # fmt: skip
    fx, fx_col = data.fx, mk.fx_col
    maintenance = requirement_arr_nb(st.pos, mk.maintenance_margin, fx, fx_col, t)
    if maintenance > 0.0:
        pnl = open_pnl_arr_nb(st.pos, st.mark, st.avg, mk.point_value, fx, fx_col, t)
        if st.acct[rec.CASH] + pnl < maintenance:
            called = margin_call_targets_nb(data, mk, par, st, t)
            if called and par.liquidate_at_close:
                _liquidate_nb(data, mk, par, st, t, True)
    record_bar_arr_nb(
        t, st.pos, st.mark, st.avg, mk.point_value, fx, fx_col, st.acct, st.equity, st.cash,
        st.exposure,
    )  # fmt: skip


@inline_kernel
def _plain_open_nb(
    data: SimData, mk: MarketConsts, par: SimParams, st: SimState, t: int, targets: F64
) -> bool:
    """The open phase of a bar with no roll and no liquidation due; False when one is due.

    Same steps, in the same order, as ``open_phase_nb`` with an empty order book.
    """
    if any_finite_nb(st.forced):
        return False
    if par.contract_mode and not quiet_rolls_nb(t, data.contract, st.held):
        return False
    if t > 0:
        accrue_interest_arr_nb(st.acct, par.interest_rate, data.days, t)
    if par.participation > 0.0:
        st.vol_used[:] = 0.0
    delay = par.fill_delay
    if delay < 1 or targets.shape[0] == 0:
        return True
    # A signal row that asks for no change leaves nothing pending: skip it without a store.
    if any_finite_nb(st.pending) or (
        t >= delay and not quiet_row_nb(t - delay, par.delta_mode, targets, st.pos)
    ):
        if t >= delay:
            _load_targets_nb(par, st, targets, t - delay)
        for j in range(st.pos.shape[0]):
            if not math.isnan(st.pending[j]):
                work_target_nb(data, mk, par, st, t, j, data.open[t, j])
    return True


@inline_kernel
def _plain_close_nb(
    data: SimData, mk: MarketConsts, par: SimParams, st: SimState, t: int, targets: F64
) -> bool:
    """The close phase of a bar with nothing due at the close; False when something is.

    Something is due when target orders fill at the close (``fill_delay=0``), a contract
    expires or equity is below maintenance: then ``close_phase_nb`` runs the bar's close.
    """
    at_close = par.fill_delay == 0 and targets.shape[0] > 0
    if at_close and (
        any_finite_nb(st.pending) or not quiet_row_nb(t, par.delta_mode, targets, st.pos)
    ):
        return False
    if par.contract_mode and due_at_close_nb(t, st.pos, st.held_expiry, True):
        return False
    fx, fx_col, pv = data.fx, mk.fx_col, mk.point_value
    pnl, maintenance, exposure = mark_and_value_nb(
        t, data.close, data.low, data.high, st.pos, st.mark, st.avg, pv,
        mk.maintenance_margin, fx, fx_col, st.tr_gross, st.tr_mae, st.tr_mfe,
    )  # fmt: skip
    cash = st.acct[rec.CASH]
    equity = cash + pnl
    if maintenance > 0.0 and equity < maintenance:
        return False  # a margin call: marking again in the close phase changes nothing
    st.equity[t] = equity  # the record of record_bar_arr_nb, from the same sums
    st.cash[t] = cash
    st.exposure[t] = exposure
    return True


@kernel
def run_plain_bars_nb(
    data: SimData, mk: MarketConsts, par: SimParams, st: SimState, targets: F64, t0: int
) -> tuple[int, bool]:
    """Process bars from ``t0`` while they need no more than target orders at the open.

    Returns the first bar that needs the full rules and whether its open phase is done.
    """
    n = data.close.shape[0]
    t = t0
    while t < n:
        t = quiet_stretch_one_nb(data, mk, par, st, targets, t)
        if t >= n:
            break
        if not _plain_open_nb(data, mk, par, st, t, targets):
            return t, False
        if not _plain_close_nb(data, mk, par, st, t, targets):
            return t, True
        t += 1
    return n, True


@kernel
def simulate_nb(
    data: SimData,
    mk: MarketConsts,
    par: SimParams,
    st: SimState,
    targets: F64,
    book: OrderBook,
) -> None:
    """Run all bars of a vectorized backtest in place on ``st``.

    Bars that need no more than target orders at the open (no roll, expiry, margin call or
    working order) go through the fast loop of ``run_plain_bars_nb``; every other bar runs
    the full two phases. Both follow the same rules (the property tests compare them with
    the reference).
    """
    n = data.ts.shape[0]
    t = 0
    while t < n:
        if book.size[0] == 0:
            t, open_done = run_plain_bars_nb(data, mk, par, st, targets, t)
            if t >= n:
                break
        else:
            open_done = False
        if not open_done:
            open_phase_nb(data, mk, par, st, t, targets, book)
        close_phase_nb(data, mk, par, st, t, targets)
        t += 1
    finalize_nb(data, mk, st, n - 1)


@kernel
def finalize_nb(data: SimData, mk: MarketConsts, st: SimState, t: int) -> None:
    """Report trades still open on the last bar, marked at the last price (not closed)."""
    for j in range(st.pos.shape[0]):
        pos = st.pos[j]
        if pos != 0.0:
            fx = fx_rate_nb(data, mk, t, j)
            gross = st.tr_gross[j] + pos * (st.mark[j] - st.avg[j]) * mk.point_value[j] * fx
            write_trade_nb(st, j, t, rec.END_OF_DATA, st.mark[j], gross, 1)
