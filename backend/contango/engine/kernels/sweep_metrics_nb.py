"""Per-trial performance figures of the sweep kernel, as ``engine/metrics.py`` computes them.

``compute_metrics`` works on NumPy arrays; the sweep computes the same figures inside the
kernel, trial by trial, from the same equity curve. Means and standard deviations are summed
in NumPy's pairwise order (``sweep_pairwise_nb``), so they agree bit for bit, not just to
rounding. Trade figures come from running sums kept during the simulation (the order of
additions differs from NumPy's: agreement to ~1e-15 relative).

After the simulation a trial's rows are read in a few passes, each doing all the work that
needs the same inputs: the bar returns (a division per bar, in a loop the compiler vectorises:
a select, not a branch, guards the divisor); the mean equity; the highest and lowest equity of
each run of 8 bars, from which the drawdown walks the curve 8 bars at a time (a running peak
bar by bar is a chain of dependent steps); the sums of the returns and of their squares; the
squared deviations and shortfalls; when asked, each block's sums (``sweep_stats_nb``).
A wiped-out account (a non-positive equity before the last bar) takes the plain route of
``_wiped_out_nb``.
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
    combine_nb,
    leaf_spread_nb,
    leaf_sum_nb,
    leaf_sum_squares_nb,
    pairwise_plan_nb,
)
from contango.engine.kernels.sweep_stats_nb import (
    COUNT,
    DEVIATIONS,
    MEAN,
    SQUARES,
    BlockPlan,
    block_sums_nb,
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
_EQUITY, _RETURNS, _SQUARES, _SHORTFALL, _RETURN_SQUARES, _STACK = 0, 1, 2, 3, 4, 5
WORK_ROWS = 6


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
def _above(a: float, b: float) -> float:
    return a if a > b else b


@njit(cache=True, inline="always")
def _below(a: float, b: float) -> float:
    return a if a < b else b


@njit(cache=True, inline="always")
def _block_ranges_nb(x: F64, n_blocks: int, highs: F64, lows: F64) -> None:
    """The highest and lowest of each run of 8 values ``x[8 k: 8 k + 8]``, ``k < n_blocks``:
    independent blocks, a loop the compiler vectorises."""
    for k in range(n_blocks):
        b = 8 * k
        highs[k] = _above(
            _above(_above(x[b], x[b + 1]), _above(x[b + 2], x[b + 3])),
            _above(_above(x[b + 4], x[b + 5]), _above(x[b + 6], x[b + 7])),
        )
        lows[k] = _below(
            _below(_below(x[b], x[b + 1]), _below(x[b + 2], x[b + 3])),
            _below(_below(x[b + 4], x[b + 5]), _below(x[b + 6], x[b + 7])),
        )


@njit(cache=True, inline="always")
def _drawdown_nb(x: F64, scratch: F64) -> float:
    """``max(1 - x / running peak)`` of a curve positive before its last value, exactly as
    :func:`_drawdown_step` walks it, but a run of 8 values at a time where that is certain
    to change nothing but the peak and the trough (``scratch`` holds ``n // 4`` values).

    A run whose highest value is not above the peak only lowers the trough to its lowest.
    A run with a new peak, when the stretch before it is not (yet) to be measured and none
    of its values is below its highest times ``floor``, measures nothing either: every
    stretch that ends inside it has its trough at or above its own peak times ``floor``
    (rounding is monotone), and the stretch it leaves open, from its highest value, can only
    be measured at a later value below that peak times ``floor``, whose trough is then that
    value or lower. Any other run, and the values after the last whole run (the last value
    among them: it may be zero or below), take the step value by value."""
    n = x.shape[0]
    n_blocks = (n - 1) // 8
    highs, lows = scratch[:n_blocks], scratch[n_blocks : 2 * n_blocks]
    _block_ranges_nb(x, n_blocks, highs, lows)
    dd = (x[0], x[0], 0.0, 1.0)
    for k in range(n_blocks):
        peak, trough, worst, floor = dd
        high, low = highs[k], lows[k]
        if high <= peak:
            dd = (peak, _below(trough, low), worst, floor)
        elif trough >= peak * floor and low >= high * floor:
            dd = (high, high, worst, floor)
        else:
            for i in range(8 * k, 8 * k + 8):
                dd = _drawdown_step(x[i], dd)
    for i in range(8 * n_blocks, n):
        dd = _drawdown_step(x[i], dd)
    return _drawdown_end(dd)


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
    x: F64, first: int, plan: PairwisePlan, mean: float, work: F64
) -> tuple[float, float]:  # fmt: skip
    """Pairwise sums of ``(x - mean)^2`` and ``min(x, 0)^2`` over ``x[first:]`` laid out by
    ``plan``."""
    leaves = plan.leaves
    for j in range(leaves.shape[0]):
        work[_SQUARES, j], work[_SHORTFALL, j] = leaf_spread_nb(
            x, first + leaves[j, 0], leaves[j, 1], mean
        )
    squares = combine_nb(plan.program, work[_SQUARES], work[_STACK])
    return squares, combine_nb(plan.program, work[_SHORTFALL], work[_STACK])


@njit(cache=True)
def _return_sums_nb(
    returns: F64, plans: TrialPlans, squares: bool, work: F64
) -> tuple[float, float]:  # fmt: skip
    """The pairwise sum of ``returns[1:]`` (all finite) and, with ``squares``, that of their
    squares (NaN without)."""
    leaves = plans.returns_leaves
    if not squares:
        for j in range(leaves.shape[0]):
            work[_RETURNS, j] = leaf_sum_nb(returns, 1 + leaves[j, 0], leaves[j, 1])
        return combine_nb(plans.returns_program, work[_RETURNS], work[_STACK]), np.nan
    for j in range(leaves.shape[0]):
        work[_RETURNS, j], work[_RETURN_SQUARES, j] = leaf_sum_squares_nb(
            returns, 1 + leaves[j, 0], leaves[j, 1]
        )
    total = combine_nb(plans.returns_program, work[_RETURNS], work[_STACK])
    return total, combine_nb(plans.returns_program, work[_RETURN_SQUARES], work[_STACK])


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
    squares, shortfall = _spread_nb(scratch, 0, plan, mean, wide)
    return mean_equity, worst, mean, squares, shortfall, float(count)


@njit(cache=True)
def trial_metrics_nb(
    periods_per_year: float, years: float, capital: float, returns: F64, equity: F64,
    scratch: F64, work: F64, plans: TrialPlans, acc: F64, exposed: int, out: F64,
    blocks: BlockPlan, moments: F64, sums: F64, squares_out: F64,
) -> None:  # fmt: skip
    """A trial's returns row from its equity curve, then the figures of ``compute_metrics``
    (risk-free rate 0) and, when ``blocks`` has any, its return statistics
    (``sweep_stats_nb``) into ``moments``, ``sums`` and ``squares_out``: with every return
    finite, the mean and the squared deviations are the Sharpe ratio's own.

    ``returns[1:]`` are the bar returns ``compute_metrics`` measures (its curve starts at the
    first close); ``scratch`` needs room for ``n`` values, ``work`` is ``(WORK_ROWS,
    work_width_nb(plans))``.
    """
    n = equity.shape[0]
    stats = blocks.starts.shape[0] > 0
    if bar_returns_nb(capital, equity, returns):
        count = float(n - 1)
        leaves = plans.equity_leaves
        for j in range(leaves.shape[0]):
            work[_EQUITY, j] = leaf_sum_nb(equity, leaves[j, 0], leaves[j, 1])
        worst = _drawdown_nb(equity, scratch)
        mean_equity = combine_nb(plans.equity_program, work[_EQUITY], work[_STACK]) / n
        total, sq = _return_sums_nb(returns, plans, stats, work)
        mean = total / count
        plan = PairwisePlan(plans.returns_leaves, plans.returns_program)
        squares, shortfall = _spread_nb(returns, 1, plan, mean, work)
        if stats:
            moments[COUNT], moments[MEAN], moments[DEVIATIONS] = count, mean, squares
            moments[SQUARES] = sq
            block_sums_nb(returns, 1, blocks, sums, squares_out, work[_EQUITY],
                          work[_RETURNS], work[_STACK])  # fmt: skip
    else:
        mean_equity, worst, mean, squares, shortfall, count = _wiped_out_nb(
            returns, equity, scratch, work, plans
        )
        if stats:
            return_stats_nb(returns, 1, blocks, moments, sums, squares_out)
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
