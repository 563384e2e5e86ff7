"""Numba state machines for strategy templates whose exits depend on the position held.

"Exit a long when the RSI is back at 50" cannot be vectorized: whether bar ``t`` exits depends
on whether a trade was open, which depends on every earlier bar. These loops walk the bars once
per market and use only bars up to ``t`` to set the value at ``t``. With
``NUMBA_DISABLE_JIT=1`` they run as plain Python (the tests run both ways).

``crossover_targets_nb`` is no state machine: it is the moving-average crossover's targets as
one flat loop, for sweeps that build many parameter sets' targets from shared averages.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit

F64 = npt.NDArray[np.float64]
B1 = npt.NDArray[np.bool_]


@njit(cache=True)
def hold_direction_nb(
    entry_long: B1, entry_short: B1, exit_long: B1, exit_short: B1, valid: B1
) -> F64:
    """Direction held after each bar (+1 long, -1 short, 0 flat; NaN where ``valid`` is False).

    On a valid bar a long is closed when ``exit_long`` and a short when ``exit_short``; a flat
    book (including one just closed) then enters long on ``entry_long`` or else short on
    ``entry_short``. An invalid bar (missing data, warm-up) leaves the state untouched and
    reports NaN, which the engine reads as "keep the position".
    """
    n, m = valid.shape
    out = np.full((n, m), np.nan)
    for j in range(m):
        held = 0.0
        for t in range(n):
            if not valid[t, j]:
                continue
            if (held > 0 and exit_long[t, j]) or (held < 0 and exit_short[t, j]):
                held = 0.0
            if held == 0:
                if entry_long[t, j]:
                    held = 1.0
                elif entry_short[t, j]:
                    held = -1.0
            out[t, j] = held
    return out


class BreakoutInputs(NamedTuple):
    """Per-bar ``(n, m)`` inputs of :func:`channel_breakout_nb` (one NamedTuple, not 7 args)."""

    close: F64
    entry_upper: F64  # channels over the previous bars (bar t excluded)
    entry_lower: F64
    exit_upper: F64
    exit_lower: F64
    atr: F64
    size: F64  # whole contracts a new trade would take at this bar


@njit(cache=True)
def channel_breakout_nb(inp: BreakoutInputs, stop_atr_multiple: float, allow_short: bool) -> F64:
    """Turtle-style breakout: signed contracts held after each bar.

    Flat: a close above ``entry_upper`` buys ``size`` contracts (a close below ``entry_lower``
    sells them short when ``allow_short``), and the stop is set ``stop_atr_multiple`` ATRs from
    that close. The size is frozen for the life of the trade, as the turtles did with units.
    Long: a close below ``exit_lower`` or at/below the stop flattens; short: mirror image. A
    close that exits may enter the other way on the same bar. Entries need at least one
    contract. Bars without a close report NaN (keep the position).
    """
    n, m = inp.close.shape
    out = np.full((n, m), np.nan)
    for j in range(m):
        held = 0.0
        stop = np.nan
        for t in range(n):
            c = inp.close[t, j]
            if np.isnan(c):
                continue
            long_out = held > 0 and (c < inp.exit_lower[t, j] or c <= stop)
            short_out = held < 0 and (c > inp.exit_upper[t, j] or c >= stop)
            if long_out or short_out:
                held = 0.0
            size = inp.size[t, j]
            if held == 0 and size >= 1:
                if c > inp.entry_upper[t, j]:
                    held = size
                    stop = c - stop_atr_multiple * inp.atr[t, j]
                elif allow_short and c < inp.entry_lower[t, j]:
                    held = -size
                    stop = c + stop_atr_multiple * inp.atr[t, j]
            out[t, j] = held
    return out


@njit(cache=True)
def buffer_targets_nb(targets: F64, buffer: float) -> F64:
    """Hold the previous target while the new one is within ``buffer`` (a fraction) of it.

    Volatility-targeted sizes drift every bar; trading each one-contract wobble costs fees and
    slippage for no change in risk. The held target is replaced only when the new target has a
    different sign (or is flat), or differs from it by more than ``buffer * |new target|``.
    NaN targets pass through as NaN ("keep") and leave the held target untouched.
    """
    n, m = targets.shape
    out = np.full((n, m), np.nan)
    for j in range(m):
        held = np.nan
        for t in range(n):
            want = targets[t, j]
            if np.isnan(want):
                continue
            if (
                np.isnan(held)
                or want == 0.0
                or np.sign(want) != np.sign(held)
                or abs(want - held) > buffer * abs(want)
            ):
                held = want
            out[t, j] = held
    return out


@njit(cache=True)
def crossover_targets_nb(fast: F64, slow: F64, size: F64, allow_short: bool, out: F64) -> None:
    """The moving-average crossover's targets into ``out`` ``(n, m)``, as ``MACrossover``
    builds them: ``sign(fast - slow)`` (flat instead of short unless ``allow_short``) times the
    unsigned size; flat needs no size; NaN (warm-up, holes, no size) means keep.

    All four arrays must be C-contiguous (``reshape`` refuses others rather than copying):
    one flat loop with selects instead of branches runs about ten times faster.
    """
    fast_flat, slow_flat, size_flat = fast.reshape(-1), slow.reshape(-1), size.reshape(-1)
    flat = out.reshape(-1)
    short = -1.0 if allow_short else 0.0
    for i in range(flat.shape[0]):
        gap = fast_flat[i] - slow_flat[i]
        direction = 1.0 if gap > 0 else (short if gap < 0 else 0.0)
        value = 0.0
        if direction > 0:
            value = size_flat[i]
        elif direction < 0:
            value = -1.0 * size_flat[i]
        flat[i] = np.nan if np.isnan(gap) else value
