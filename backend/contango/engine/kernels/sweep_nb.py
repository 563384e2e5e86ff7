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

A single market (most sweeps) runs ``sweep_one_nb``'s loop, every piece of state a scalar;
several markets run :func:`run_trial_nb` on small arrays. Each parallel task takes a few
trials and one ``Workspace``: nothing is allocated per trial. After its simulation a trial's
returns, metrics (``sweep_metrics_nb``) and, when asked, return statistics
(``sweep_stats_nb``) are computed while its rows are in cache. The hot helpers are inlined,
and numba reference-counts every array handed to a function, inlined or not (an atomic
operation per array): per-bar helpers take scalars only. Fills and limits are in
``sweep_fills_nb``.
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
    WORK_ROWS,
    TrialPlans,
    trial_metrics_nb,
    work_width_nb,
)
from contango.engine.kernels.sweep_one_nb import OneMarket, Rules, run_one_nb
from contango.engine.kernels.sweep_stats_nb import Blocks, plan_of_nb
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


class Workspace(NamedTuple):
    """One parallel task's scratch, reused by its trials: nothing is allocated per trial."""

    targets: F64  # (n, m) a crossover trial's targets
    equity: F64  # (n,)
    scratch: F64  # (n,)
    row: F64  # (n,) the trial's returns when the sweep does not keep them
    work: F64  # (WORK_ROWS, width) leaf sums of the metrics
    book: F64  # (7, m) position, average entry, trade sums, mark, pending and forced targets
    acc: F64  # (N_SLOTS,)


@njit(cache=True)
def workspace_nb(n: int, m: int, plans: TrialPlans) -> Workspace:
    return Workspace(
        np.empty((n, m)), np.empty(n), np.empty(n), np.empty(n),
        np.empty((WORK_ROWS, work_width_nb(plans))),
        np.empty((7, m)), np.empty(N_SLOTS),
    )  # fmt: skip


@njit(cache=True)
def run_trial_nb(
    data: SweepData, mk: SweepMarkets, par: SweepParams, targets: F64, ws: Workspace,
) -> int:  # fmt: skip
    """Simulate one trial to ``targets`` ``(n, m)``: its equity into ``ws.equity``, its trade
    sums into ``ws.acc``; returns the bars with a position on.

    Bar by bar as ``simulate_nb``: interest, margin-call liquidation due at the open, orders
    due at the open (or, with ``fill_delay=0``, at the close), marking to the close, the
    maintenance check (liquidating at once when configured), the bar's equity. A single
    market goes through ``sweep_one_nb.run_one_nb`` instead (the same rules on scalars).
    """
    n, m = data.close.shape
    close, days, pv, mm = data.close, data.days, mk.point_value, mk.maintenance_margin
    equity, acc, book = ws.equity, ws.acc, ws.book
    pos, avg, tr_gross, tr_fees = book[0], book[1], book[2], book[3]
    mark, pending, forced = book[4], book[5], book[6]
    book[:4] = 0.0
    book[4:] = np.nan
    acc[:] = 0.0
    acc[CASH] = par.capital
    acc[LAST_CALL] = -1.0
    delay, rate, at_close = par.fill_delay, par.interest_rate, par.liquidate_at_close
    prices = data.open if delay >= 1 else data.close
    slippage, fee, im, max_contracts = mk.slippage, mk.fee, mk.initial_margin, mk.max_contracts
    max_lev, margin_cap, reject = par.max_leverage, par.margin_cap, par.reject_orders
    waiting, exposed = 0, 0
    for t in range(n):
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
        equity[t] = acc[CASH] + open_pnl_nb(pos, mark, avg, pv)
        gross = 0.0
        for j in range(m):
            if pos[j] != 0.0:
                gross += abs(pos[j] * mark[j]) * pv[j]
        exposed += gross > 0.0
    return exposed


@njit(cache=True, inline="always")
def _one_market_nb(data: SweepData, mk: SweepMarkets, opens: F64, closes: F64) -> OneMarket:
    """The single-market loop's market (built inside each parallel task: a parallel loop
    takes no tuple mixing arrays and numbers); ``opens`` and ``closes`` contiguous."""
    return OneMarket(
        opens, closes, data.days, mk.point_value[0], mk.slippage[0], mk.fee[0],
        mk.initial_margin[0], mk.maintenance_margin[0], mk.max_contracts[0],
    )  # fmt: skip


@njit(cache=True, inline="always")
def _rules_nb(par: SweepParams) -> Rules:
    return Rules(
        par.capital, par.fill_delay, par.reject_orders, par.max_leverage, par.margin_cap,
        par.interest_rate, par.liquidate_all, par.liquidate_at_close,
    )  # fmt: skip


@njit(cache=True)
def _simulate_nb(
    data: SweepData, mk: SweepMarkets, par: SweepParams, one: OneMarket, rules: Rules,
    targets: F64, ws: Workspace,
) -> int:  # fmt: skip
    """One trial's simulation (see :func:`run_trial_nb`); returns its bars with a position."""
    if data.close.shape[1] == 1:
        return run_one_nb(one, rules, targets.reshape(-1), ws.equity, ws.acc)
    return run_trial_nb(data, mk, par, targets, ws)


@njit(cache=True)
def _finish_trial_nb(
    par: SweepParams, plans: TrialPlans, ws: Workspace, exposed: int, i: int, returns: F64,
    metrics: F64, blocks: Blocks,
) -> None:  # fmt: skip
    """Trial ``i``'s returns row, metrics row and return statistics from its equity; the row
    goes to the task's scratch when ``returns`` has no rows (the sweep keeps none)."""
    row = returns[i] if returns.shape[0] > 0 else ws.row
    trial_metrics_nb(
        par.periods_per_year, par.years, par.capital, row, ws.equity, ws.scratch,
        ws.work, plans, ws.acc, exposed, metrics[i], plan_of_nb(blocks), blocks.moments[i],
        blocks.sums[i], blocks.squares[i],
    )  # fmt: skip


TRIALS_PER_TASK = 4  # trials of one parallel task, sharing its scratch


@njit(cache=True, parallel=True, nogil=True)
def sweep_targets_nb(
    data: SweepData, mk: SweepMarkets, par: SweepParams, plans: TrialPlans, targets: F64,
    returns: F64, metrics: F64, blocks: Blocks,
) -> None:  # fmt: skip
    """Trials whose targets are given: ``targets`` ``(k, n, m)``; outputs ``returns`` ``(k, n)``,
    ``metrics`` ``(k, N_METRICS)`` and the return statistics in ``blocks``. ``plans`` are
    ``trial_plans_nb(n)``."""
    k = targets.shape[0]
    n, m = data.close.shape
    opens = np.ascontiguousarray(data.open[:, 0])  # the single-market loop's columns
    closes = np.ascontiguousarray(data.close[:, 0])
    for task in prange((k + TRIALS_PER_TASK - 1) // TRIALS_PER_TASK):
        ws = workspace_nb(n, m, plans)
        one, rules = _one_market_nb(data, mk, opens, closes), _rules_nb(par)
        for i in range(task * TRIALS_PER_TASK, min(k, (task + 1) * TRIALS_PER_TASK)):
            exposed = _simulate_nb(data, mk, par, one, rules, targets[i], ws)
            _finish_trial_nb(par, plans, ws, exposed, i, returns, metrics, blocks)


@njit(cache=True, parallel=True, nogil=True)
def sweep_crossover_nb(
    data: SweepData, mk: SweepMarkets, par: SweepParams, plans: TrialPlans, averages: F64,
    sizes: F64, trials: I64, returns: F64, metrics: F64, blocks: Blocks,
) -> None:  # fmt: skip
    """Moving-average crossover trials built in the kernel from shared inputs: ``averages``
    ``(w, n, m)`` holds each distinct moving average once, ``sizes`` ``(s, n, m)`` each distinct
    position size, and row ``i`` of ``trials`` says trial ``i``'s fast and slow average, its
    size and whether it may go short."""
    k = trials.shape[0]
    n, m = data.close.shape
    opens = np.ascontiguousarray(data.open[:, 0])  # the single-market loop's columns
    closes = np.ascontiguousarray(data.close[:, 0])
    for task in prange((k + TRIALS_PER_TASK - 1) // TRIALS_PER_TASK):
        ws = workspace_nb(n, m, plans)
        one, rules = _one_market_nb(data, mk, opens, closes), _rules_nb(par)
        for i in range(task * TRIALS_PER_TASK, min(k, (task + 1) * TRIALS_PER_TASK)):
            crossover_targets_nb(
                averages[trials[i, 0]], averages[trials[i, 1]], sizes[trials[i, 2]],
                trials[i, 3] == 1, ws.targets,
            )  # fmt: skip
            exposed = _simulate_nb(data, mk, par, one, rules, ws.targets, ws)
            _finish_trial_nb(par, plans, ws, exposed, i, returns, metrics, blocks)
