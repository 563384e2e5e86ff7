"""Fills and order-time limits of the sweep kernel, on plain arrays and scalars.

The same arithmetic, in the same order, as ``fills_nb.execute_fill_nb`` and
``margin_nb.capacity_arr_nb`` with an FX rate of 1 (every market in the account currency;
multiplying by 1.0 is exact), without the fill and trade records: a trial keeps only the
running sums its trade statistics need (closed trades, wins, gross profit and loss, traded
notional), in the ``acc`` slots defined in ``sweep_metrics_nb``.
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from contango.engine.kernels.sweep_metrics_nb import CASH, CLOSED, LOSS, NOTIONAL, PROFIT, WINS

F64 = npt.NDArray[np.float64]

FLOOR_EPS = 1e-9  # as margin_nb: 2.9999999999 contracts of capacity is 3, not 2


@njit(cache=True, inline="always")
def open_pnl_nb(pos: F64, mark: F64, avg: F64, pv: F64) -> float:
    """As ``open_pnl_arr_nb`` with an FX rate of 1 (multiplying by 1.0 is exact)."""
    total = 0.0
    for j in range(pos.shape[0]):
        if pos[j] != 0.0:
            total += pos[j] * (mark[j] - avg[j]) * pv[j]
    return total


@njit(cache=True, inline="always")
def requirement_nb(pos: F64, per_contract: F64) -> float:
    total = 0.0
    for j in range(pos.shape[0]):
        if pos[j] != 0.0:
            total += abs(pos[j]) * per_contract[j]
    return total


@njit(cache=True, inline="always")
def close_part_nb(
    j: int, n: float, close_q: float, px: float, pv: float, fees: float,
    pos: F64, avg: F64, tr_gross: F64, tr_fees: F64, acc: F64,
) -> None:  # fmt: skip
    """``_reduce_nb``: realise ``close_q`` contracts; a flat position closes the trade."""
    direction = 1.0 if pos[j] > 0 else -1.0
    realized = close_q * (px - avg[j]) * direction * pv
    acc[CASH] += realized
    tr_gross[j] += realized
    tr_fees[j] += fees * (close_q / n)
    pos[j] = pos[j] - direction * close_q
    if pos[j] == 0.0:
        net = tr_gross[j] - tr_fees[j]
        acc[CLOSED] += 1.0
        if net > 0:
            acc[WINS] += 1.0
            acc[PROFIT] += net
        elif net < 0:
            acc[LOSS] += net


@njit(cache=True, inline="always")
def fill_nb(
    j: int, qty: float, price: float, slip_px: float, pv: float, fee: float,
    pos: F64, avg: F64, mark: F64, tr_gross: F64, tr_fees: F64, acc: F64,
) -> None:  # fmt: skip
    """``execute_fill_nb`` without records: cash, position, average entry, trade sums."""
    side = 1.0 if qty > 0 else -1.0
    px = price + side * slip_px
    n = abs(qty)
    fees = n * fee
    acc[NOTIONAL] += n * px * pv
    acc[CASH] -= fees
    remaining = n
    if pos[j] * side < 0.0:
        close_q = min(n, abs(pos[j]))
        close_part_nb(j, n, close_q, px, pv, fees, pos, avg, tr_gross, tr_fees, acc)
        remaining = n - close_q
    if remaining > 0.0:
        if pos[j] == 0.0:
            tr_gross[j] = 0.0
            tr_fees[j] = fees * (remaining / n)
            avg[j] = px
        else:
            held = abs(pos[j])
            avg[j] = (held * avg[j] + remaining * px) / (held + remaining)
            tr_fees[j] += fees * (remaining / n)
        pos[j] = pos[j] + side * remaining
    mark[j] = price


@njit(cache=True, inline="always")
def capacity_nb(
    j: int, price: float, pos: F64, avg: F64, mark: F64, cash: float, pv: F64, im: F64,
    max_contracts: F64, max_leverage: float, margin_cap: float,
) -> float:  # fmt: skip
    """``capacity_arr_nb``: most contracts market ``j`` may hold beside the other positions."""
    allowed = max_contracts[j]
    check_margin = im[j] > 0.0
    check_leverage = not math.isinf(max_leverage)
    if check_margin or check_leverage:
        equity = cash + open_pnl_nb(pos, mark, avg, pv)
        other_im = 0.0
        other_notional = 0.0
        for k in range(pos.shape[0]):
            if k != j and pos[k] != 0.0:
                other_im += abs(pos[k]) * im[k]
                other_notional += abs(pos[k] * mark[k]) * pv[k]
        if check_margin:
            cap = math.floor((equity * margin_cap - other_im) / im[j] + FLOOR_EPS)
            allowed = min(allowed, cap)
        per = abs(price) * pv[j]
        if check_leverage and per > 0.0:
            cap = math.floor((equity * max_leverage - other_notional) / per + FLOOR_EPS)
            allowed = min(allowed, cap)
    return float(max(allowed, 0.0))
