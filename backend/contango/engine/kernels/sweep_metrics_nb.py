"""Per-trial performance figures of the sweep kernel, as ``engine/metrics.py`` computes them.

``compute_metrics`` works on NumPy arrays; the sweep computes the same figures inside the
kernel, trial by trial, from the same equity curve. Means and standard deviations are summed
in NumPy's pairwise order (``sweep_pairwise_nb``), so they agree bit for bit, not just to
rounding. Trade figures come from running sums kept during the simulation (the order of
additions differs from NumPy's: agreement to ~1e-15 relative).

After the simulation a trial's rows are read in four passes, each doing all the work that
needs the same inputs: the bar returns (a division per bar, in a loop the compiler vectorises:
a select, not a branch, guards the divisor); the mean equity with the running drawdown; the
sum of the returns, with the first pass of the return statistics; the squared deviations and
shortfalls, with the statistics' deviations. A wiped-out account (a non-positive equity
before the last bar) takes the plain route of ``_wiped_out_nb``.
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

from contango.engine.kernels.sweep_pairwise_nb import (
    PairwisePlan,
    add8,
    combine_nb,
    fold8,
    leaf_spread_dev_nb,
    leaf_spread_nb,
    leaf_sum_nb,
    pairwise_plan_nb,
    row8,
)
from contango.engine.kernels.sweep_stats_nb import (
    COUNT,
    DEVIATIONS,
    MEAN,
    SQUARES,
    first_block_nb,
    leaf_sum_chains_nb,
    return_stats_nb,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# Columns of the per-trial metrics matrix.
TOTAL_RETURN = 0
CAGR = 1
ANNUAL_VOLATILITY = 2
SHARPE = 3
SORTINO = 4
CALMAR = 5
MAX_DRAWDOWN = 6
WIN_RATE = 7
PROFIT_FACTOR = 8
TURNOVER = 9
EXPOSURE = 10
EQUITY_END = 11
N_TRADES = 12
N_METRICS = 13

# Slots of a trial's running sums (filled by the simulation, read here).
CASH = 0
LAST_CALL = 1
CLOSED = 2
WINS = 3
PROFIT = 4
LOSS = 5
NOTIONAL = 6
N_SLOTS = 7

# Rows of the per-trial work area: leaf sums of the four pairwise figures, then the stack.
_EQUITY, _RETURNS, _SQUARES, _SHORTFALL, _STACK = 0, 1, 2, 3, 4
WORK_ROWS = 5


class TrialPlans(NamedTuple):
    """NumPy's pairwise split (``PairwisePlan``) of a trial's returns (``n - 1`` values) and
    of its equity (``n``), flat (a parallel loop takes no nested tuple)."""

    returns_leaves: I64
    returns_program: I64
    equity_leaves: I64
    equity_program: I64


@njit(cache=True)
def trial_plans_nb(n: int) -> TrialPlans:
    r, e = pairwise_plan_nb(n - 1), pairwise_plan_nb(n)
    return TrialPlans(r.leaves, r.program, e.leaves, e.program)


@njit(cache=True)
def work_width_nb(plans: TrialPlans) -> int:
    """Columns a work area needs: a leaf sum per leaf, and the combine stack."""
    return int(max(plans.returns_leaves.shape[0], plans.equity_leaves.shape[0], 64))


@njit(cache=True, error_model="numpy")
def bar_returns_nb(capital: float, equity: F64, returns: F64) -> bool:
    """``returns[t] = equity[t] / equity[t - 1] - 1`` (the capital before bar 0; NaN after a
    non-positive equity). Every bar is independent, so the compiler divides several at a time
    (a select, not a branch, guards the divisor). Returns whether every equity before the
    last is positive, i.e. whether every return measured is finite."""
    returns[0] = equity[0] / capital - 1.0 if capital > 0 else np.nan
    positive = 0
    for t in range(1, equity.shape[0]):
        prev = equity[t - 1]
        ok = prev > 0
        ratio = equity[t] / (prev if ok else 1.0)
        returns[t] = ratio - 1.0 if ok else np.nan
        positive += ok
    return bool(positive == equity.shape[0] - 1)


Drawdown = tuple[float, float, float, float]  # peak, trough since it, worst, floor


@njit(cache=True, inline="always")
def _drawdown_step(value: float, dd: Drawdown) -> Drawdown:
    """One bar of ``max(1 - equity / running peak)``, the drawdown ``compute_metrics``
    measures, for a positive curve; start from ``(first equity,) * 2 + (0, 1)`` and finish
    with :func:`_drawdown_end`.

    Between two new peaks the peak is fixed, and ``1 - value / peak`` (correctly rounded
    operations are monotone) is largest at the lowest value: only the trough of each stretch
    is measured, when a new peak ends it. And only if it may beat the worst so far: if it
    is below ``peak * floor``, where ``floor`` is ``1 - worst`` widened by 4e-9 relative and
    1e-12 absolute (far beyond the rounding of the test and the fraction) and capped at 1.
    A division, then, only when the drawdown reaches a new depth; the maximum is exact."""
    peak, trough, worst, floor = dd
    new_peak = value > peak
    if new_peak and trough < peak * floor:
        worst = max(worst, 1.0 - trough / peak)
        floor = min(1.0, (1.0 - worst) * (1.0 + 4e-9) + 1e-12)
    return max(peak, value), value if new_peak else min(trough, value), worst, floor


@njit(cache=True, inline="always")
def _drawdown_end(dd: Drawdown) -> float:
    """The worst drawdown, the last stretch measured."""
    peak, trough, worst, floor = dd
    return max(worst, 1.0 - trough / peak) if trough < peak * floor else worst


@njit(cache=True, inline="always")
def _leaf_equity_nb(x: F64, lo: int, size: int, dd: Drawdown) -> tuple[float, Drawdown]:
    """One pairwise leaf of the equity (as ``leaf_sum_nb``) with the drawdown walked along
    in time order (the same values read once)."""
    hi = lo + size
    last = hi - size % 8 if size >= 8 else lo
    res = 0.0
    if size >= 8:
        r = row8(x, lo)
        for b in range(lo, last, 8):
            if b > lo:
                r = add8(r, row8(x, b))
            for i in range(b, b + 8):
                dd = _drawdown_step(x[i], dd)
        res = fold8(r)
    for i in range(last, hi):  # the tail, or a leaf under 8 values (a plain sum from 0)
        res += x[i]
        dd = _drawdown_step(x[i], dd)
    return res, dd


@njit(cache=True, inline="always")
def _walk_drawdown_nb(value: float, peak: float, worst: float) -> tuple[float, float]:
    """One bar of ``max(1 - equity / running peak)`` for any peak (a wiped-out account):
    the fraction is computed wherever it may exceed the worst so far, the test widened
    around ``peak * (1 - worst)`` on either sign."""
    if value >= peak:
        return value, worst
    threshold = peak * (1.0 - worst)
    if value < threshold + abs(threshold) * 1e-9 + 1e-300:
        worst = max(worst, 1.0 - value / peak)
    return peak, worst


@njit(cache=True, inline="always")
def _spread_nb(
    x: F64, first: int, plan: PairwisePlan, mean: float, centre: float, chain: bool,
    work: F64,
) -> tuple[float, float, float]:  # fmt: skip
    """Pairwise sums of ``(x - mean)^2`` and ``min(x, 0)^2`` over ``x[first:]`` laid out by
    ``plan``, and, with ``chain``, the running sum of ``(x - centre)^2`` in time order."""
    dev = 0.0
    leaves = plan.leaves
    if chain:
        for j in range(leaves.shape[0]):
            work[_SQUARES, j], work[_SHORTFALL, j], dev = leaf_spread_dev_nb(
                x, first + leaves[j, 0], leaves[j, 1], mean, centre, dev
            )
    else:
        for j in range(leaves.shape[0]):
            work[_SQUARES, j], work[_SHORTFALL, j] = leaf_spread_nb(
                x, first + leaves[j, 0], leaves[j, 1], mean
            )
    squares = combine_nb(plan.program, work[_SQUARES], work[_STACK])
    return squares, combine_nb(plan.program, work[_SHORTFALL], work[_STACK]), dev


@njit(cache=True)
def _return_sums_nb(
    returns: F64, plans: TrialPlans, stats: bool, starts: I64, sums: F64, squares: F64,
    work: F64,
) -> tuple[float, float, float]:  # fmt: skip
    """The pairwise sum of ``returns[1:]`` (all finite) and, with ``stats``, the first pass of
    the return statistics (block sums into ``sums`` and ``squares``); returns the pairwise
    sum, the sequential total and the sequential sum of squares."""
    leaves = plans.returns_leaves
    chains = (0.0, 0.0, 0.0, 0.0)
    if stats:
        block, end = first_block_nb(1, starts, sums, squares)
        for j in range(leaves.shape[0]):
            work[_RETURNS, j], chains, block, end = leaf_sum_chains_nb(
                returns, 1 + leaves[j, 0], leaves[j, 1], chains, block, end, 1, starts, sums,
                squares,
            )  # fmt: skip
    else:
        for j in range(leaves.shape[0]):
            work[_RETURNS, j] = leaf_sum_nb(returns, 1 + leaves[j, 0], leaves[j, 1])
    total = combine_nb(plans.returns_program, work[_RETURNS], work[_STACK])
    return total, chains[0], chains[1]


@njit(cache=True)
def _wiped_out_nb(
    returns: F64, equity: F64, scratch: F64, work: F64, plans: TrialPlans
) -> tuple[float, float, float, float, float, float]:
    """Mean equity, worst drawdown, and mean, squared deviations, squared shortfalls and
    count of the finite returns, of a trial whose equity went non-positive before the end:
    NumPy measures the finite returns only, so they are gathered first."""
    n = equity.shape[0]
    peak, worst = equity[0], 0.0
    for t in range(n):
        peak, worst = _walk_drawdown_nb(equity[t], peak, worst)
    leaves = plans.equity_leaves
    for j in range(leaves.shape[0]):
        work[_EQUITY, j] = leaf_sum_nb(equity, leaves[j, 0], leaves[j, 1])
    mean_equity = combine_nb(plans.equity_program, work[_EQUITY], work[_STACK]) / n
    count = 0
    for t in range(1, n):
        if np.isfinite(returns[t]):
            scratch[count] = returns[t]
            count += 1
    if count == 0:
        return mean_equity, worst, np.nan, np.nan, np.nan, 0.0
    plan = pairwise_plan_nb(count)
    wide = np.empty((WORK_ROWS, max(plan.leaves.shape[0], 64)))
    for j in range(plan.leaves.shape[0]):
        wide[_RETURNS, j] = leaf_sum_nb(scratch, plan.leaves[j, 0], plan.leaves[j, 1])
    mean = combine_nb(plan.program, wide[_RETURNS], wide[_STACK]) / count
    squares, shortfall, _ = _spread_nb(scratch, 0, plan, mean, 0.0, False, wide)
    return mean_equity, worst, mean, squares, shortfall, float(count)


@njit(cache=True)
def trial_metrics_nb(
    periods_per_year: float, years: float, capital: float, returns: F64, equity: F64,
    scratch: F64, work: F64, plans: TrialPlans, acc: F64, exposed: int, out: F64,
    starts: I64, moments: F64, sums: F64, squares_out: F64,
) -> None:  # fmt: skip
    """A trial's returns row from its equity curve, then the figures of ``compute_metrics``
    (risk-free rate 0) and, when ``starts`` is not empty, its return statistics
    (``sweep_stats_nb``) into ``moments``, ``sums`` and ``squares_out``.

    ``returns[1:]`` are the bar returns ``compute_metrics`` measures (its curve starts at the
    first close); ``scratch`` needs room for ``n`` values, ``work`` is ``(WORK_ROWS,
    work_width_nb(plans))``.
    """
    n = equity.shape[0]
    stats = starts.shape[0] > 0
    if bar_returns_nb(capital, equity, returns):
        count = float(n - 1)
        leaves = plans.equity_leaves
        dd = (equity[0], equity[0], 0.0, 1.0)
        for j in range(leaves.shape[0]):
            work[_EQUITY, j], dd = _leaf_equity_nb(equity, leaves[j, 0], leaves[j, 1], dd)
        worst = _drawdown_end(dd)
        mean_equity = combine_nb(plans.equity_program, work[_EQUITY], work[_STACK]) / n
        pairwise, total, sq = _return_sums_nb(returns, plans, stats, starts, sums, squares_out,
                                              work)  # fmt: skip
        mean, centre = pairwise / count, total / count
        plan = PairwisePlan(plans.returns_leaves, plans.returns_program)
        squares, shortfall, dev = _spread_nb(returns, 1, plan, mean, centre, stats, work)
        if stats:
            moments[COUNT], moments[MEAN], moments[DEVIATIONS] = count, centre, dev
            moments[SQUARES] = sq
    else:
        mean_equity, worst, mean, squares, shortfall, count = _wiped_out_nb(
            returns, equity, scratch, work, plans
        )
        if stats:
            return_stats_nb(returns, 1, starts, moments, sums, squares_out)
    _figures_nb(periods_per_year, years, equity, acc, exposed, mean_equity, worst, mean,
                squares, shortfall, count, out)  # fmt: skip


@njit(cache=True, inline="always")
def _figures_nb(
    periods_per_year: float, years: float, equity: F64, acc: F64, exposed: int,
    mean_equity: float, worst: float, mean: float, squares: float, shortfall: float,
    count: float, out: F64,
) -> None:  # fmt: skip
    """The metrics row from the sums, with ``compute_metrics``' conventions."""
    n = equity.shape[0]
    nan = np.nan
    root = math.sqrt(periods_per_year)
    start, end = equity[0], equity[n - 1]
    cagr = (end / start) ** (1.0 / years) - 1.0 if end > 0 else -1.0
    sd = math.sqrt(squares / (count - 1)) if count > 1 else nan
    downside = math.sqrt(shortfall / count) if count > 0 else nan
    closed = acc[CLOSED]
    out[TOTAL_RETURN] = end / start - 1.0
    out[CAGR] = cagr
    out[ANNUAL_VOLATILITY] = sd * root if count > 1 else nan
    out[SHARPE] = mean / sd * root if count > 1 and sd > 0 else nan
    out[SORTINO] = mean / downside * root if count > 0 and downside > 0 else nan
    out[CALMAR] = cagr / worst if worst > 0 else nan
    out[MAX_DRAWDOWN] = worst
    out[WIN_RATE] = acc[WINS] / closed if closed > 0 else nan
    out[PROFIT_FACTOR] = _profit_factor(closed, acc[PROFIT], -acc[LOSS])
    out[TURNOVER] = acc[NOTIONAL] / mean_equity / years if mean_equity > 0 else nan
    out[EXPOSURE] = exposed / n
    out[EQUITY_END] = end
    out[N_TRADES] = closed


@njit(cache=True, inline="always")
def _profit_factor(closed: float, gross_profit: float, gross_loss: float) -> float:
    if closed == 0:
        return np.nan
    if gross_loss > 0:
        return gross_profit / gross_loss
    return np.inf if gross_profit > 0 else np.nan


@njit(cache=True)
def pairwise_sum_nb(a: F64, lo: int, n: int) -> float:
    """Sum of ``a[lo:lo + n]`` in NumPy's pairwise order, bit for bit."""
    plan = pairwise_plan_nb(n)
    work = np.empty((WORK_ROWS, max(plan.leaves.shape[0], 64)))
    for j in range(plan.leaves.shape[0]):
        work[_RETURNS, j] = leaf_sum_nb(a, lo + plan.leaves[j, 0], plan.leaves[j, 1])
    return combine_nb(plan.program, work[_RETURNS], work[_STACK])
