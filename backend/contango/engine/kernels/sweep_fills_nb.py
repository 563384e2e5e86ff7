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


# A market's position: contracts, average entry, and the open trade's gross P&L and fees.
Book = tuple[float, float, float, float]
# The account's running sums: cash, traded notional, closed trades, wins, gross profit, loss.
Ledger = tuple[float, float, float, float, float, float]


@njit(cache=True, inline="always")
def fill_book_nb(
    qty: float, price: float, slip_px: float, pv: float, fee: float, book: Book, ledger: Ledger
) -> tuple[Book, Ledger]:
    """``execute_fill_nb`` without records, on scalars: buy (``qty > 0``) or sell ``|qty|``
    contracts at ``price`` moved ``slip_px`` against the order; realise the part that reduces
    the position (a flat position closes the trade), open or add the rest."""
    pos, avg, tr_gross, tr_fees = book
    cash, notional, closed, wins, profit, loss = ledger
    side = 1.0 if qty > 0 else -1.0
    px = price + side * slip_px
    n = abs(qty)
    fees = n * fee
    notional += n * px * pv
    cash -= fees
    remaining = n
    if pos * side < 0.0:  # _reduce_nb
        close_q = min(n, abs(pos))
        direction = 1.0 if pos > 0 else -1.0
        realized = close_q * (px - avg) * direction * pv
        cash += realized
        tr_gross += realized
        tr_fees += fees * (close_q / n)
        pos = pos - direction * close_q
        if pos == 0.0:
            net = tr_gross - tr_fees
            closed += 1.0
            if net > 0:
                wins += 1.0
                profit += net
            elif net < 0:
                loss += net
        remaining = n - close_q
    if remaining > 0.0:
        if pos == 0.0:
            tr_gross = 0.0
            tr_fees = fees * (remaining / n)
            avg = px
        else:
            held = abs(pos)
            avg = (held * avg + remaining * px) / (held + remaining)
            tr_fees += fees * (remaining / n)
        pos = pos + side * remaining
    return (pos, avg, tr_gross, tr_fees), (cash, notional, closed, wins, profit, loss)


@njit(cache=True, inline="always")
def fill_nb(
    j: int, qty: float, price: float, slip_px: float, pv: float, fee: float,
    pos: F64, avg: F64, mark: F64, tr_gross: F64, tr_fees: F64, acc: F64,
) -> None:  # fmt: skip
    """:func:`fill_book_nb` on market ``j`` of the arrays; the mark becomes the fill price."""
    book = (pos[j], avg[j], tr_gross[j], tr_fees[j])
    ledger = (acc[CASH], acc[NOTIONAL], acc[CLOSED], acc[WINS], acc[PROFIT], acc[LOSS])
    book, ledger = fill_book_nb(qty, price, slip_px, pv, fee, book, ledger)
    pos[j], avg[j], tr_gross[j], tr_fees[j] = book
    acc[CASH], acc[NOTIONAL], acc[CLOSED], acc[WINS], acc[PROFIT], acc[LOSS] = ledger
    mark[j] = price


@njit(cache=True, inline="always")
def allowed_nb(
    price: float, equity: float, other_im: float, other_notional: float, pv: float, im: float,
    max_contracts: float, max_leverage: float, margin_cap: float,
) -> float:  # fmt: skip
    """``capacity_arr_nb``'s limit for one market, given the account's ``equity`` and the
    initial margin and notional of the other positions."""
    allowed = max_contracts
    if im > 0.0:
        cap = math.floor((equity * margin_cap - other_im) / im + FLOOR_EPS)
        allowed = min(allowed, cap)
    per = abs(price) * pv
    if not math.isinf(max_leverage) and per > 0.0:
        cap = math.floor((equity * max_leverage - other_notional) / per + FLOOR_EPS)
        allowed = min(allowed, cap)
    return float(max(allowed, 0.0))


@njit(cache=True, inline="always")
def capacity_nb(
    j: int, price: float, pos: F64, avg: F64, mark: F64, cash: float, pv: F64, im: F64,
    max_contracts: F64, max_leverage: float, margin_cap: float,
) -> float:  # fmt: skip
    """``capacity_arr_nb``: most contracts market ``j`` may hold beside the other positions."""
    if not (im[j] > 0.0 or not math.isinf(max_leverage)):
        return float(max(max_contracts[j], 0.0))
    equity = cash + open_pnl_nb(pos, mark, avg, pv)
    other_im = 0.0
    other_notional = 0.0
    for k in range(pos.shape[0]):
        if k != j and pos[k] != 0.0:
            other_im += abs(pos[k]) * im[k]
            other_notional += abs(pos[k] * mark[k]) * pv[k]
    return allowed_nb(price, equity, other_im, other_notional, pv[j], im[j], max_contracts[j],
                      max_leverage, margin_cap)  # fmt: skip
