"""Order-time limits (max contracts, leverage, initial margin) and margin calls.

Only the part of an order that opens or increases exposure is checked; reducing a position is
always allowed, so a strategy can always get out. Capacity is computed from equity at the
current marks; fractional capacity is floored (an order never leaves the account short of
initial margin by rounding).
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only (no keyword-only
# parameters in nopython mode); the NamedTuples already bundle what can be bundled.

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from contango.engine.kernels import records_nb as rec
from contango.engine.kernels.account_nb import open_pnl_arr_nb, rate_nb, requirement_arr_nb
from contango.engine.kernels.compile_nb import inline_kernel, kernel
from contango.engine.kernels.fills_nb import equity_nb
from contango.engine.kernels.state_nb import MarketConsts, SimData, SimParams, SimState

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_FLOOR_EPS = 1e-9  # 2.9999999999 contracts of capacity is 3, not 2


@inline_kernel
def initial_requirement_nb(data: SimData, mk: MarketConsts, st: SimState, t: int) -> float:
    """Initial margin required by the open positions, account currency."""
    return requirement_arr_nb(st.pos, mk.initial_margin, data.fx, mk.fx_col, t)


@inline_kernel
def maintenance_requirement_nb(data: SimData, mk: MarketConsts, st: SimState, t: int) -> float:
    """Maintenance margin required by the open positions, account currency."""
    return requirement_arr_nb(st.pos, mk.maintenance_margin, data.fx, mk.fx_col, t)


@inline_kernel
def _record_reject_nb(
    st: SimState, order_id: int, t: int, j: int, requested: float, allowed: float, reason: int
) -> None:
    k = st.counts[rec.N_REJECTS]
    if k < st.rejects.shape[0]:
        row = st.rejects[k]
        row["order_id"] = order_id
        row["bar"] = t
        row["market"] = j
        row["requested"] = requested
        row["allowed"] = allowed
        row["reason"] = reason
    st.counts[rec.N_REJECTS] = k + 1


@inline_kernel
def capacity_arr_nb(
    pos: F64,
    mark: F64,
    avg: F64,
    cash: float,
    point_value: F64,
    initial_margin: F64,
    max_contracts: F64,
    fx: F64,
    fx_col: I64,
    max_leverage: float,
    margin_cap: float,
    t: int,
    j: int,
    price: float,
) -> tuple[float, int]:
    """Most contracts market ``j`` may hold given the other positions, and the binding limit.

    Arrays only, no NamedTuples: this runs on every order that opens exposure.
    """
    allowed = max_contracts[j]
    reason = rec.REJECT_MAX_CONTRACTS
    check_margin = initial_margin[j] > 0.0
    check_leverage = not math.isinf(max_leverage)
    if check_margin or check_leverage:
        equity = cash + open_pnl_arr_nb(pos, mark, avg, point_value, fx, fx_col, t)
        rate = rate_nb(fx, fx_col, t, j)
        other_im = 0.0
        other_notional = 0.0
        for k in range(pos.shape[0]):
            if k != j and pos[k] != 0.0:
                fxk = rate_nb(fx, fx_col, t, k)
                other_im += abs(pos[k]) * initial_margin[k] * fxk
                other_notional += abs(pos[k] * mark[k]) * point_value[k] * fxk
        if check_margin:
            cap = math.floor(
                (equity * margin_cap - other_im) / (initial_margin[j] * rate) + _FLOOR_EPS
            )
            if cap < allowed:
                allowed, reason = cap, rec.REJECT_INITIAL_MARGIN
        per = abs(price) * point_value[j] * rate
        if check_leverage and per > 0.0:
            cap = math.floor((equity * max_leverage - other_notional) / per + _FLOOR_EPS)
            if cap < allowed:
                allowed, reason = cap, rec.REJECT_LEVERAGE
    return max(allowed, 0.0), reason


@inline_kernel
def allowed_target_nb(
    data: SimData,
    mk: MarketConsts,
    par: SimParams,
    st: SimState,
    t: int,
    j: int,
    desired: float,
    price: float,
    order_id: int,
) -> float:
    """The position market ``j`` may move to when asked for ``desired``; records a rejection.

    ``reject_orders`` refuses the whole order (the position stays); otherwise the order is
    trimmed to the largest position the limits allow.
    """
    pos = st.pos[j]
    if desired == pos or (desired * pos >= 0.0 and abs(desired) <= abs(pos)):
        return desired
    allowed, reason = capacity_arr_nb(
        st.pos,
        st.mark,
        st.avg,
        st.acct[rec.CASH],
        mk.point_value,
        mk.initial_margin,
        mk.max_contracts,
        data.fx,
        mk.fx_col,
        par.max_leverage,
        par.margin_cap,
        t,
        j,
        price,
    )
    keep = abs(pos) if desired * pos > 0.0 else 0.0
    limit = max(allowed, keep)
    if abs(desired) <= limit:
        return desired
    result = pos if par.reject_orders else math.copysign(limit, desired)
    _record_reject_nb(st, order_id, t, j, desired - pos, result - pos, reason)
    return result


@kernel
def margin_call_targets_nb(
    data: SimData, mk: MarketConsts, par: SimParams, st: SimState, t: int
) -> bool:
    """At the close of ``t``: record a margin call and set liquidation targets if needed.

    Targets go to ``st.forced``; the caller fills them now (``liquidate_at_close``) or at the
    next open. ``liquidate_all`` flattens everything; otherwise every position is scaled by
    equity / initial requirement and floored, which restores initial margin before costs.
    """
    maintenance = maintenance_requirement_nb(data, mk, st, t)
    if maintenance <= 0.0 or st.counts[rec.LAST_CALL_BAR] == t:
        return False
    equity = equity_nb(data, mk, st, t)
    if equity >= maintenance:
        return False
    initial = initial_requirement_nb(data, mk, st, t)
    k = st.counts[rec.N_CALLS]
    if k < st.calls.shape[0]:
        row = st.calls[k]
        row["bar"] = t
        row["equity"] = equity
        row["maintenance"] = maintenance
        row["initial"] = initial
    st.counts[rec.N_CALLS] = k + 1
    st.counts[rec.LAST_CALL_BAR] = t
    scale = 0.0
    if not par.liquidate_all and equity > 0.0 and initial > 0.0:
        scale = equity / initial
    for j in range(st.pos.shape[0]):
        if st.pos[j] != 0.0:
            st.forced[j] = math.copysign(math.floor(abs(st.pos[j]) * scale), st.pos[j])
            st.pending[j] = math.nan
    return True
