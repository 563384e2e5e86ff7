"""The fused sweep kernel: many trials of one market panel, simulated and measured in one pass.

Each trial (one parameter set) is an independent single-account backtest, so trials run in
parallel (``prange``) and write only their own row of the outputs: results do not depend on
the number of threads. The per-bar rules are those of ``simulate_nb`` restricted to what a
sweep of target-position strategies needs — continuous contracts, market orders to target
contracts at the open ``fill_delay`` bars after the signal (or at the signal bar's close),
fees and slippage in ticks per contract, max contracts, leverage and initial-margin limits,
margin calls, interest — with the same floating-point operations in the same order, so each
trial's equity is bit-identical to ``run_backtest``'s. No record is written: a trial keeps
only running sums for its trade statistics.

The hot helpers take plain arrays and scalars and are inlined: numba reference-counts every
array handed to a function call (an atomic operation per array), which costs more than a
quiet bar. Fills and limits are in ``sweep_fills_nb``, the metrics in ``sweep_metrics_nb``.
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit, prange

from contango.engine.kernels.sweep_fills_nb import (
    capacity_nb,
    fill_nb,
    open_pnl_nb,
    requirement_nb,
)
from contango.engine.kernels.sweep_metrics_nb import (
    CASH,
    LAST_CALL,
    N_SLOTS,
    trial_metrics_nb,
)
from contango.engine.kernels.templates_nb import crossover_targets_nb

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_DAYS_PER_YEAR = 365.0  # ACT/365 interest, as quiet_nb


class SweepData(NamedTuple):
    """Prices of the panel, ``(n, m)``, and calendar days since the previous bar ``(n,)``."""

    open: F64
    close: F64
    days: F64


class SweepMarkets(NamedTuple):
    """Per-market constants ``(m,)`` in the account currency."""

    point_value: F64
    slippage: F64  # adverse price offset of a fill: slippage ticks x tick size
    fee: F64  # commission + exchange fees per contract per side
    initial_margin: F64
    maintenance_margin: F64
    max_contracts: F64  # inf when unlimited


class SweepParams(NamedTuple):
    """Scalar settings shared by every trial."""

    capital: float
    fill_delay: int
    reject_orders: bool
    max_leverage: float  # inf when unlimited
    margin_cap: float
    interest_rate: float
    liquidate_all: bool
    liquidate_at_close: bool
    periods_per_year: float
    years: float


@njit(cache=True, inline="always")
def _work_row_nb(
    targets: F64, s: int, prices: F64, t: int, pos: F64, avg: F64, mark: F64, pending: F64,
    tr_gross: F64, tr_fees: F64, acc: F64, pv: F64, slippage: F64, fee: F64, im: F64,
    max_contracts: F64, max_leverage: float, margin_cap: float, reject_orders: bool,
) -> None:  # fmt: skip
    """Load signal row ``s`` (``s < 0``: none) and trade every pending target at
    ``prices[t]``, trimmed (or refused) by the order-time limits as ``allowed_target_nb``."""
    for j in range(pos.shape[0]):
        if s >= 0:
            v = targets[s, j]
            if not math.isnan(v):
                v = float(math.trunc(v))
                pending[j] = math.nan if v == pos[j] else v
        desired = pending[j]
        price = prices[t, j]
        if math.isnan(desired) or math.isnan(price):
            continue  # nothing to do, or no bar: the target waits
        pending[j] = math.nan  # no participation cap: nothing is left to carry
        held = pos[j]
        if desired != held and not (desired * held >= 0.0 and abs(desired) <= abs(held)):
            allowed = capacity_nb(
                j, price, pos, avg, mark, acc[CASH], pv, im, max_contracts, max_leverage,
                margin_cap,
            )  # fmt: skip
            limit = max(allowed, abs(held) if desired * held > 0.0 else 0.0)
            if abs(desired) > limit:
                desired = held if reject_orders else math.copysign(limit, desired)
        trade = desired - held
        if trade != 0.0:
            fill_nb(j, trade, price, slippage[j], pv[j], fee[j], pos, avg, mark, tr_gross,
                     tr_fees, acc)  # fmt: skip


@njit(cache=True)
def _liquidate_nb(
    mk: SweepMarkets, prices: F64, t: int, at_close: bool,
    pos: F64, avg: F64, mark: F64, forced: F64, tr_gross: F64, tr_fees: F64, acc: F64,
) -> int:  # fmt: skip
    """Fill the margin-call targets; returns how many still wait for a bar with data."""
    waiting = 0
    for j in range(pos.shape[0]):
        target = forced[j]
        if math.isnan(target):
            continue
        price = mark[j] if at_close else prices[t, j]
        if math.isnan(price):
            waiting += 1
            continue  # no bar: liquidate at the next bar with data
        trade = target - pos[j]
        if trade != 0.0:
            fill_nb(j, trade, price, mk.slippage[j], mk.point_value[j], mk.fee[j], pos, avg,
                     mark, tr_gross, tr_fees, acc)  # fmt: skip
        forced[j] = math.nan
    return waiting


@njit(cache=True)
def _margin_call_nb(
    mk: SweepMarkets, liquidate_all: bool, t: int,
    pos: F64, avg: F64, mark: F64, pending: F64, forced: F64, acc: F64,
) -> int:  # fmt: skip
    """``margin_call_targets_nb`` without the record; returns the positions to liquidate."""
    maintenance = requirement_nb(pos, mk.maintenance_margin)
    if maintenance <= 0.0 or acc[LAST_CALL] == t:
        return 0
    equity = acc[CASH] + open_pnl_nb(pos, mark, avg, mk.point_value)
    if equity >= maintenance:
        return 0
    initial = requirement_nb(pos, mk.initial_margin)
    acc[LAST_CALL] = t
    scale = 0.0
    if not liquidate_all and equity > 0.0 and initial > 0.0:
        scale = equity / initial
    called = 0
    for j in range(pos.shape[0]):
        if pos[j] != 0.0:
            forced[j] = math.copysign(math.floor(abs(pos[j]) * scale), pos[j])
            pending[j] = math.nan
            called += 1
    return called


@njit(cache=True)
def _margin_check_nb(
    mk: SweepMarkets, liquidate_all: bool, at_close: bool, close: F64, t: int, pos: F64,
    avg: F64, mark: F64, pending: F64, forced: F64, tr_gross: F64, tr_fees: F64, acc: F64,
    waiting: int,
) -> int:  # fmt: skip
    """Equity is below maintenance at the close: call, and liquidate now or at the next open.
    Returns the positions whose liquidation waits for the next open."""
    called = _margin_call_nb(mk, liquidate_all, t, pos, avg, mark, pending, forced, acc)
    if called > 0 and at_close:
        _liquidate_nb(mk, close, t, True, pos, avg, mark, forced, tr_gross, tr_fees, acc)
        return waiting
    return called if called > 0 else waiting


@njit(cache=True, inline="always")
def _busy_nb(targets: F64, s: int, pos: F64, pending: F64) -> bool:
    """True when a target is pending or signal row ``s`` asks for a different position."""
    for j in range(pos.shape[0]):
        if not math.isnan(pending[j]):
            return True
        if s >= 0:
            v = targets[s, j]
            if not math.isnan(v) and float(math.trunc(v)) != pos[j]:
                return True
    return False


@njit(cache=True, inline="always")
def _record_nb(t: int, value: float, capital: float, equity: F64, returns: F64) -> None:
    """The bar's equity and its simple return (NaN after a non-positive equity)."""
    equity[t] = value
    prev = capital if t == 0 else equity[t - 1]
    returns[t] = value / prev - 1.0 if prev > 0 else np.nan


@njit(cache=True, inline="always")
def _quiet_one_nb(
    t0: int, close: F64, days: F64, targets: F64, delay: int, rate: float, capital: float,
    pos: float, avg: float, mark: float, cash: float, pv: float, mm: float, equity: F64,
    returns: F64,
) -> tuple[int, float, float, int]:  # fmt: skip
    """One market: run the bars from ``t0`` on which nothing but marking can happen.

    Position and average entry stay fixed, so they live in registers. A bar is committed only
    when it is quiet; the first bar with an order due or a margin call is returned untouched,
    for the full rules. Returns that bar, the mark, the cash and the bars with a position on.
    """
    n = close.shape[0]
    maintenance = abs(pos) * mm if pos != 0.0 else 0.0
    exposed = 0
    prev = capital if t0 == 0 else equity[t0 - 1]
    for t in range(t0, n):
        s = t - delay if t >= delay else -1
        if s >= 0:
            v = targets[s, 0]
            if not math.isnan(v) and float(math.trunc(v)) != pos:
                return t, mark, cash, exposed
        new_cash = cash
        if rate != 0.0 and t > 0 and cash > 0.0:
            new_cash = cash + cash * rate * days[t] / _DAYS_PER_YEAR
        new_mark = mark if math.isnan(close[t, 0]) else close[t, 0]
        pnl = 0.0
        if pos != 0.0:
            pnl += pos * (new_mark - avg) * pv
        if maintenance > 0.0 and new_cash + pnl < maintenance:
            return t, mark, cash, exposed
        cash, mark = new_cash, new_mark
        value = cash + pnl
        equity[t] = value  # as _record_nb, the previous equity kept in a register
        returns[t] = value / prev - 1.0 if prev > 0 else np.nan
        prev = value
        if pos != 0.0 and abs(pos * mark) * pv > 0.0:
            exposed += 1
    return n, mark, cash, exposed


@njit(cache=True)
def run_trial_nb(
    data: SweepData, mk: SweepMarkets, par: SweepParams, targets: F64,
    returns: F64, equity: F64, scratch: F64, metrics: F64,
) -> None:  # fmt: skip
    """Simulate one trial to ``targets`` ``(n, m)``; fill its returns, equity and metrics rows.

    Bar by bar as ``simulate_nb``: interest, margin-call liquidation due at the open, orders
    due at the open (or, with ``fill_delay=0``, at the close), marking to the close, the
    maintenance check (liquidating at once when configured), the bar's equity. With one market,
    runs of quiet bars go through ``_quiet_one_nb`` (same arithmetic, scalars in registers).
    """
    n, m = data.close.shape
    close, days, pv, mm = data.close, data.days, mk.point_value, mk.maintenance_margin
    pos, avg, tr_gross, tr_fees = np.zeros(m), np.zeros(m), np.zeros(m), np.zeros(m)
    mark, pending, forced = np.full(m, np.nan), np.full(m, np.nan), np.full(m, np.nan)
    acc = np.zeros(N_SLOTS)
    acc[CASH] = par.capital
    acc[LAST_CALL] = -1.0
    delay, rate, at_close = par.fill_delay, par.interest_rate, par.liquidate_at_close
    prices = data.open if delay >= 1 else data.close
    slippage, fee, im, max_contracts = mk.slippage, mk.fee, mk.initial_margin, mk.max_contracts
    max_lev, margin_cap, reject = par.max_leverage, par.margin_cap, par.reject_orders
    capital = par.capital
    waiting, exposed = 0, 0
    t = 0
    while t < n:
        if m == 1 and waiting == 0 and math.isnan(pending[0]):
            t, mark[0], acc[CASH], quiet = _quiet_one_nb(
                t, close, days, targets, delay, rate, capital, pos[0], avg[0], mark[0],
                acc[CASH], pv[0], mm[0], equity, returns,
            )  # fmt: skip
            exposed += quiet
            if t >= n:
                break
        if rate != 0.0 and t > 0 and acc[CASH] > 0.0:
            acc[CASH] = acc[CASH] + acc[CASH] * rate * days[t] / _DAYS_PER_YEAR
        if waiting > 0:
            waiting = _liquidate_nb(mk, data.open, t, False, pos, avg, mark, forced, tr_gross,
                                    tr_fees, acc)  # fmt: skip
        s = t - delay if t >= delay else -1
        if _busy_nb(targets, s, pos, pending):
            _work_row_nb(targets, s, prices, t, pos, avg, mark, pending, tr_gross, tr_fees,
                         acc, pv, slippage, fee, im, max_contracts, max_lev, margin_cap,
                         reject)  # fmt: skip
        for j in range(m):
            if not math.isnan(close[t, j]):
                mark[j] = close[t, j]
        maintenance = requirement_nb(pos, mm)
        if maintenance > 0.0 and acc[CASH] + open_pnl_nb(pos, mark, avg, pv) < maintenance:
            waiting = _margin_check_nb(
                mk, par.liquidate_all, at_close, close, t, pos, avg, mark, pending, forced,
                tr_gross, tr_fees, acc, waiting,
            )  # fmt: skip
        _record_nb(t, acc[CASH] + open_pnl_nb(pos, mark, avg, pv), capital, equity, returns)
        gross = 0.0
        for j in range(m):
            if pos[j] != 0.0:
                gross += abs(pos[j] * mark[j]) * pv[j]
        exposed += gross > 0.0
        t += 1
    trial_metrics_nb(par.periods_per_year, par.years, returns, equity, scratch, acc, exposed,
                     metrics)  # fmt: skip


@njit(cache=True, parallel=True, nogil=True)
def sweep_targets_nb(
    data: SweepData, mk: SweepMarkets, par: SweepParams, targets: F64, returns: F64,
    metrics: F64,
) -> None:  # fmt: skip
    """Trials whose targets are given: ``targets`` ``(k, n, m)``; outputs ``returns`` ``(k, n)``
    and ``metrics`` ``(k, N_METRICS)``."""
    n = data.close.shape[0]
    for i in prange(targets.shape[0]):
        equity = np.empty(n)
        scratch = np.empty(n)
        run_trial_nb(data, mk, par, targets[i], returns[i], equity, scratch, metrics[i])


@njit(cache=True, parallel=True, nogil=True)
def sweep_crossover_nb(
    data: SweepData, mk: SweepMarkets, par: SweepParams, averages: F64, sizes: F64,
    trials: I64, returns: F64, metrics: F64,
) -> None:  # fmt: skip
    """Moving-average crossover trials built in the kernel from shared inputs: ``averages``
    ``(w, n, m)`` holds each distinct moving average once, ``sizes`` ``(s, n, m)`` each distinct
    position size, and row ``i`` of ``trials`` says trial ``i``'s fast and slow average, its
    size and whether it may go short."""
    n, m = data.close.shape
    for i in prange(trials.shape[0]):
        targets = np.empty((n, m))
        crossover_targets_nb(
            averages[trials[i, 0]], averages[trials[i, 1]], sizes[trials[i, 2]],
            trials[i, 3] == 1, targets,
        )  # fmt: skip
        equity = np.empty(n)
        scratch = np.empty(n)
        run_trial_nb(data, mk, par, targets, returns[i], equity, scratch, metrics[i])
