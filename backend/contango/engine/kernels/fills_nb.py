"""Executing one fill: futures P&L, fees, slippage and the open trade's bookkeeping.

Accounting model (the invariant the tests check on every bar)::

    equity = cash + sum(pos * (mark - avg_entry) * point_value * fx_now)

``cash`` holds the starting capital plus realised P&L (converted at the fill's FX rate), less
fees, plus interest. Open P&L is converted at the current FX rate. Slippage is not a separate
cash flow: it moves the execution price, so it is already inside realised and open P&L and is
reported only as information.
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only (no keyword-only
# parameters in nopython mode); the NamedTuples already bundle what can be bundled.

from __future__ import annotations

import math

from contango.engine.kernels import records_nb as rec
from contango.engine.kernels.account_nb import open_pnl_arr_nb, rate_nb
from contango.engine.kernels.compile_nb import inline_kernel
from contango.engine.kernels.state_nb import MarketConsts, SimData, SimState


@inline_kernel
def fx_rate_nb(data: SimData, mk: MarketConsts, t: int, j: int) -> float:
    """Account currency per unit of market ``j``'s currency at bar ``t``."""
    return rate_nb(data.fx, mk.fx_col, t, j)


@inline_kernel
def open_pnl_nb(data: SimData, mk: MarketConsts, st: SimState, t: int) -> float:
    """Open P&L of all positions at their current marks, in the account currency."""
    return open_pnl_arr_nb(st.pos, st.mark, st.avg, mk.point_value, data.fx, mk.fx_col, t)


@inline_kernel
def equity_nb(data: SimData, mk: MarketConsts, st: SimState, t: int) -> float:
    """Cash plus open P&L."""
    return st.acct[rec.CASH] + open_pnl_nb(data, mk, st, t)  # type: ignore[no-any-return]


@inline_kernel
def _record_fill_nb(
    st: SimState,
    order_id: int,
    t: int,
    j: int,
    qty: float,
    px: float,
    fees: float,
    slip: float,
    fx: float,
    reason: int,
) -> None:
    k = st.counts[rec.N_FILLS]
    if k < st.fills.shape[0]:
        row = st.fills[k]
        row["order_id"] = order_id
        row["bar"] = t
        row["market"] = j
        row["contract"] = st.held[j]
        row["qty"] = qty
        row["price"] = px
        row["fees"] = fees
        row["slippage"] = slip
        row["fx"] = fx
        row["reason"] = reason
    st.counts[rec.N_FILLS] = k + 1


@inline_kernel
def write_trade_nb(
    st: SimState, j: int, t: int, reason: int, exit_px: float, gross: float, is_open: int
) -> None:
    """Append market ``j``'s current trade to the trade records."""
    k = st.counts[rec.N_TRADES]
    if k < st.trades.shape[0]:
        row = st.trades[k]
        row["market"] = j
        row["contract"] = st.tr_contract[j]
        row["direction"] = 1 if st.tr_dir[j] > 0 else -1
        row["entry_bar"] = st.tr_bar[j]
        row["exit_bar"] = t
        row["quantity"] = st.tr_qty[j]
        row["entry_price"] = st.tr_entry_val[j] / st.tr_qty[j]
        row["exit_price"] = exit_px
        row["pnl_gross"] = gross
        row["fees"] = st.tr_fees[j]
        row["slippage"] = st.tr_slip[j]
        row["pnl_net"] = gross - st.tr_fees[j]
        row["mae"] = min(st.tr_mae[j], gross)
        row["mfe"] = max(st.tr_mfe[j], gross)
        row["exit_reason"] = reason
        row["is_open"] = is_open
    st.counts[rec.N_TRADES] = k + 1


@inline_kernel
def _reduce_nb(
    st: SimState,
    j: int,
    t: int,
    n: float,
    close_q: float,
    px: float,
    pv: float,
    fx: float,
    fees: float,
    slip: float,
    reason: int,
) -> float:
    """Close ``close_q`` contracts of the open position; returns the realised P&L."""
    pos = st.pos[j]
    direction = 1.0 if pos > 0 else -1.0
    realized = close_q * (px - st.avg[j]) * direction * pv * fx
    share = close_q / n
    st.acct[rec.CASH] += realized
    st.tr_gross[j] += realized
    st.tr_fees[j] += fees * share
    st.tr_slip[j] += slip * share
    st.tr_exit_qty[j] += close_q
    st.tr_exit_val[j] += close_q * px
    st.pos[j] = pos - direction * close_q
    if st.pos[j] == 0.0:
        exit_px = st.tr_exit_val[j] / st.tr_exit_qty[j]
        write_trade_nb(st, j, t, reason, exit_px, st.tr_gross[j], 0)
    return realized  # type: ignore[no-any-return]


@inline_kernel
def _increase_nb(
    st: SimState,
    j: int,
    t: int,
    n: float,
    add_q: float,
    side: float,
    px: float,
    fees: float,
    slip: float,
) -> None:
    """Open a trade or add to it; the average entry is volume-weighted."""
    pos = st.pos[j]
    share = add_q / n
    if pos == 0.0:
        st.tr_bar[j] = t
        st.tr_contract[j] = st.held[j]
        st.tr_dir[j] = side
        st.tr_qty[j] = add_q
        st.tr_entry_val[j] = add_q * px
        st.tr_exit_qty[j] = 0.0
        st.tr_exit_val[j] = 0.0
        st.tr_gross[j] = 0.0
        st.tr_fees[j] = fees * share
        st.tr_slip[j] = slip * share
        st.tr_mae[j] = 0.0
        st.tr_mfe[j] = 0.0
        st.avg[j] = px
    else:
        held = abs(pos)
        st.avg[j] = (held * st.avg[j] + add_q * px) / (held + add_q)
        st.tr_qty[j] += add_q
        st.tr_entry_val[j] += add_q * px
        st.tr_fees[j] += fees * share
        st.tr_slip[j] += slip * share
    st.pos[j] = pos + side * add_q


@inline_kernel
def execute_fill_nb(
    data: SimData,
    mk: MarketConsts,
    st: SimState,
    t: int,
    j: int,
    qty: float,
    price: float,
    slip_px: float,
    reason: int,
    order_id: int,
) -> float:
    """Fill ``qty`` signed contracts of market ``j`` at ``price`` moved ``slip_px`` against us.

    Returns the execution price. A fill that crosses zero closes the trade and opens a new one
    with the remainder; fees and slippage are shared between the two by contracts.
    """
    fx = fx_rate_nb(data, mk, t, j)
    pv = mk.point_value[j]
    side = 1.0 if qty > 0 else -1.0
    px = price + side * slip_px
    n = abs(qty)
    fees = n * mk.fee[j] * fx
    slip = n * slip_px * pv * fx
    _record_fill_nb(st, order_id, t, j, qty, px, fees, slip, fx, reason)
    st.acct[rec.CASH] -= fees
    remaining = n
    if st.pos[j] * side < 0.0:
        close_q = min(n, abs(st.pos[j]))
        _reduce_nb(st, j, t, n, close_q, px, pv, fx, fees, slip, reason)
        remaining = n - close_q
    if remaining > 0.0:
        _increase_nb(st, j, t, n, remaining, side, px, fees, slip)
    st.mark[j] = price
    st.vol_used[j] += n
    return px


@inline_kernel
def slippage_px_nb(
    data: SimData, mk: MarketConsts, ticks: float, atr_frac: float, t: int, j: int
) -> float:
    """Adverse price offset of a market or stop fill: ticks plus a fraction of the ATR."""
    slip = ticks * mk.tick_size[j]
    if atr_frac != 0.0:
        atr = data.atr[t, j]
        if not math.isnan(atr):
            slip += atr_frac * atr
    return slip  # type: ignore[no-any-return]
