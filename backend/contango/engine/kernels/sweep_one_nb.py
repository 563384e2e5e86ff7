"""The sweep kernel's simulation of a single market, every piece of state a scalar.

Most sweeps trade one market. Then the position, average entry, mark, pending and forced
targets and the account's running sums are a handful of numbers: kept in registers, they
cost nothing to pass around, where arrays (even of one element) are read and written through
memory and reference-counted at every call. The rules and the floating-point operations, in
their order, are those of ``sweep_nb.run_trial_nb`` for ``m == 1`` (itself ``simulate_nb``'s),
so the equity is bit-identical; the tests compare both with ``run_backtest``.
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

from contango.engine.kernels.sweep_fills_nb import Book, Ledger, allowed_nb, fill_book_nb
from contango.engine.kernels.sweep_metrics_nb import (
    CASH,
    CLOSED,
    LAST_CALL,
    LOSS,
    NOTIONAL,
    PROFIT,
    WINS,
)

F64 = npt.NDArray[np.float64]

_DAYS_PER_YEAR = 365.0  # ACT/365 interest, as quiet_nb


class OneMarket(NamedTuple):
    """The market's bars as contiguous columns, and its constants in the account currency."""

    open: F64  # (n,)
    close: F64  # (n,)
    days: F64  # (n,) calendar days since the previous bar
    point_value: float
    slippage: float
    fee: float
    initial_margin: float
    maintenance_margin: float
    max_contracts: float


class Rules(NamedTuple):
    """The account rules a single-market trial needs (from ``sweep_nb.SweepParams``)."""

    capital: float
    fill_delay: int
    reject_orders: bool
    max_leverage: float
    margin_cap: float
    interest_rate: float
    liquidate_all: bool
    liquidate_at_close: bool


@njit(cache=True, inline="always")
def _pnl_nb(pos: float, mark: float, avg: float, pv: float) -> float:
    """``open_pnl_nb`` of one market: the sum starts from 0.0, as there (0.0 + -0.0 is 0.0)."""
    return 0.0 + pos * (mark - avg) * pv if pos != 0.0 else 0.0


@njit(cache=True, inline="always")
def _requirement_nb(pos: float, per_contract: float) -> float:
    return 0.0 + abs(pos) * per_contract if pos != 0.0 else 0.0


@njit(cache=True)
def _accrue_nb(cash: float, rate: float, days: float) -> float:
    """Cash after a bar's interest (ACT/365), as ``quiet_nb``."""
    return cash + cash * rate * days / _DAYS_PER_YEAR


@njit(cache=True, inline="always")
def _with_cash(ledger: Ledger, cash: float) -> Ledger:
    return cash, ledger[1], ledger[2], ledger[3], ledger[4], ledger[5]


@njit(cache=True, inline="always")
def _quiet_held_nb(
    t: int, close: F64, targets: F64, equity: F64, delay: int, pos: float, avg: float,
    mark: float, cash: float, pv: float, mm: float,
) -> tuple[int, float, int]:  # fmt: skip
    """:func:`_quiet_nb` for the common case, a position held and no interest: the cash
    stays put, and the tests that only depend on the position are settled once (the
    compiler keeps them in the loop otherwise). Returns the bar, the mark and the bars."""
    n = close.shape[0]
    maintenance = abs(pos) * mm
    floor = maintenance if maintenance > 0.0 else -np.inf  # no requirement: no margin call
    exposed = 0
    while t < n:
        if t >= delay:
            v = targets[t - delay]
            if not math.isnan(v) and float(math.trunc(v)) != pos:
                break  # an order is due
        new_mark = mark if math.isnan(close[t]) else close[t]
        pnl = 0.0 + pos * (new_mark - avg) * pv
        if cash + pnl < floor:
            break  # a margin call
        mark = new_mark
        equity[t] = cash + pnl
        exposed += abs(pos * mark) * pv > 0.0
        t += 1
    return t, mark, exposed


@njit(cache=True, inline="always")
def _quiet_nb(
    t: int, close: F64, days: F64, targets: F64, equity: F64, delay: int, rate: float,
    pos: float, avg: float, mark: float, cash: float, pv: float, mm: float,
) -> tuple[int, float, float, int]:  # fmt: skip
    """Run the bars from ``t`` on which nothing but marking can happen: no order due, no
    margin call. Position and average entry stay fixed, so everything lives in registers. A
    bar is committed only when it is quiet; the first bar that needs the full rules is
    returned untouched, with the mark, the cash and the bars with a position on."""
    if rate == 0.0 and pos != 0.0:
        t, mark, exposed = _quiet_held_nb(t, close, targets, equity, delay, pos, avg, mark, cash,
                                          pv, mm)  # fmt: skip
        return t, mark, cash, exposed
    n = close.shape[0]
    maintenance = abs(pos) * mm if pos != 0.0 else 0.0
    accrue = rate != 0.0
    exposed = 0
    while t < n:
        if t >= delay:
            v = targets[t - delay]
            if not math.isnan(v) and float(math.trunc(v)) != pos:
                break  # an order is due
        new_cash = cash
        if accrue and t > 0 and cash > 0.0:
            new_cash = _accrue_nb(cash, rate, days[t])
        new_mark = mark if math.isnan(close[t]) else close[t]
        pnl = 0.0
        if pos != 0.0:
            pnl += pos * (new_mark - avg) * pv
        if maintenance > 0.0 and new_cash + pnl < maintenance:
            break  # a margin call
        cash, mark = new_cash, new_mark
        equity[t] = cash + pnl
        if pos != 0.0 and abs(pos * mark) * pv > 0.0:
            exposed += 1
        t += 1
    return t, mark, cash, exposed


@njit(cache=True, inline="always")
def _trade_nb(
    target: float, price: float, book: Book, ledger: Ledger, mark: float, mk: Costs,
    rules: Rules,
) -> tuple[Book, Ledger, float]:  # fmt: skip
    """Trade toward ``target`` at ``price`` as ``_work_row_nb``, within the order-time
    limits (trimmed, or refused when configured); returns the book, ledger and mark."""
    held = book[0]
    desired = target
    if desired != held and not (desired * held >= 0.0 and abs(desired) <= abs(held)):
        allowed = max(mk.max_contracts, 0.0)
        if mk.initial_margin > 0.0 or not math.isinf(rules.max_leverage):
            equity = ledger[0] + _pnl_nb(held, mark, book[1], mk.point_value)
            allowed = allowed_nb(
                price, equity, 0.0, 0.0, mk.point_value, mk.initial_margin, mk.max_contracts,
                rules.max_leverage, rules.margin_cap,
            )  # fmt: skip
        limit = max(allowed, abs(held) if desired * held > 0.0 else 0.0)
        if abs(desired) > limit:
            desired = held if rules.reject_orders else math.copysign(limit, desired)
    return _fill_to_nb(desired, price, book, ledger, mark, mk)


@njit(cache=True, inline="always")
def _fill_to_nb(
    target: float, price: float, book: Book, ledger: Ledger, mark: float, mk: Costs
) -> tuple[Book, Ledger, float]:  # fmt: skip
    """Fill whatever takes the position to ``target`` at ``price`` (no limit: a liquidation,
    or an order already limited); the mark becomes the fill price."""
    if target - book[0] != 0.0:
        book, ledger = fill_book_nb(target - book[0], price, mk.slippage, mk.point_value,
                                    mk.fee, book, ledger)  # fmt: skip
        mark = price
    return book, ledger, mark


@njit(cache=True, inline="always")
def _margin_call_nb(
    equity: float, book: Book, mk: Costs, rules: Rules
) -> tuple[float, bool]:  # fmt: skip
    """``margin_call_targets_nb`` of one market: the contracts to keep (restoring the initial
    margin, or none), and whether the liquidation waits for the next open."""
    initial = _requirement_nb(book[0], mk.initial_margin)
    scale = 0.0
    if not rules.liquidate_all and equity > 0.0 and initial > 0.0:
        scale = equity / initial
    return math.copysign(math.floor(abs(book[0]) * scale), book[0]), not rules.liquidate_at_close


class Costs(NamedTuple):
    """The market's constants as scalars (see ``OneMarket``)."""

    point_value: float
    slippage: float
    fee: float
    initial_margin: float
    maintenance_margin: float
    max_contracts: float


@njit(cache=True)
def run_one_nb(bars: OneMarket, rules: Rules, targets: F64, equity: F64, acc: F64) -> int:
    """Simulate one trial of one market to ``targets`` ``(n,)``: its equity into ``equity``,
    its running sums into ``acc``; returns the bars with a position on.

    Bar by bar as ``sweep_nb.run_trial_nb``: runs of quiet bars in ``_quiet_nb``; on other
    bars interest, a margin-call liquidation due at the open, the order due (at the open
    ``fill_delay`` bars after its signal, or at the signal bar's close), marking to the
    close, the maintenance check (liquidating at once when configured), the bar's equity.
    The helpers of the other bars take scalars only: an array handed to a function, even
    inlined, is reference-counted at every call.
    """
    close, days, opens, n = bars.close, bars.days, bars.open, bars.close.shape[0]
    mk = Costs(bars.point_value, bars.slippage, bars.fee, bars.initial_margin,
               bars.maintenance_margin, bars.max_contracts)  # fmt: skip
    pv, delay, rate = mk.point_value, rules.fill_delay, rules.interest_rate
    prices = opens if delay >= 1 else close
    book: Book = (0.0, 0.0, 0.0, 0.0)  # position, average entry, open trade's gross, fees
    ledger: Ledger = (rules.capital, 0.0, 0.0, 0.0, 0.0, 0.0)
    mark, pending, forced = np.nan, np.nan, np.nan
    last_call, waiting, exposed = -1, False, 0
    t = 0
    while t < n:
        if not waiting and math.isnan(pending):
            t, mark, cash, quiet = _quiet_nb(t, close, days, targets, equity, delay, rate,
                                             book[0], book[1], mark, ledger[0], pv,
                                             mk.maintenance_margin)  # fmt: skip
            ledger = _with_cash(ledger, cash)
            exposed += quiet
            if t >= n:
                break
        if rate != 0.0 and t > 0 and ledger[0] > 0.0:
            ledger = _with_cash(ledger, _accrue_nb(ledger[0], rate, days[t]))
        if waiting:  # a margin call's liquidation at this open
            waiting = not math.isnan(forced) and math.isnan(opens[t])  # no bar: the next one
            if not math.isnan(forced) and not waiting:
                book, ledger, mark = _fill_to_nb(forced, opens[t], book, ledger, mark, mk)
                forced = np.nan
        if t >= delay and not math.isnan(targets[t - delay]):
            v = float(math.trunc(targets[t - delay]))
            pending = np.nan if v == book[0] else v
        if not math.isnan(pending) and not math.isnan(prices[t]):
            book, ledger, mark = _trade_nb(pending, prices[t], book, ledger, mark, mk, rules)
            pending = np.nan
        if not math.isnan(close[t]):
            mark = close[t]
        value = ledger[0] + _pnl_nb(book[0], mark, book[1], pv)
        maintenance = _requirement_nb(book[0], mk.maintenance_margin)
        if maintenance > 0.0 and value < maintenance and last_call != t:
            last_call = t
            forced, waiting = _margin_call_nb(value, book, mk, rules)
            pending = np.nan
            if not waiting and not math.isnan(mark):  # liquidate at this close
                book, ledger, mark = _fill_to_nb(forced, mark, book, ledger, mark, mk)
                forced = np.nan
        equity[t] = ledger[0] + _pnl_nb(book[0], mark, book[1], pv)
        exposed += (0.0 + abs(book[0] * mark) * pv if book[0] != 0.0 else 0.0) > 0.0
        t += 1
    acc[CASH], acc[NOTIONAL], acc[CLOSED], acc[WINS], acc[PROFIT], acc[LOSS] = ledger
    acc[LAST_CALL] = float(last_call)
    return exposed
