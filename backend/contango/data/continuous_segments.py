"""Which contract a continuous series uses when: roll windows and the segments they cut.

The front contract's *window* is the time span ``[lo, hi)`` during which chain contract *i* is
the front month. Windows tile the time axis in chain order, so the series can never roll
backwards. Under a calendar rule ``hi`` is the contract's roll date (00:00 UTC). Under a
crossover rule ``hi`` is one nanosecond after the bar whose close first completed the crossover
(so the next contract is used from the *next* bar on: the decision only uses data up to that
close), or the roll date if that comes first.

The N-th nearby series uses, in front window *i*, chain contract *i + N - 1*. A *segment* is the
run of bars one contract contributes to the series.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from contango.data.continuous_chain import I64, ChainBars, ContinuousError
from contango.data.continuous_nb import first_crossover_nb
from contango.domain.rolls import (
    CalendarRoll,
    OpenInterestCrossover,
    RollReason,
    RollRule,
    VolumeCrossover,
)

_FAR_PAST = np.iinfo(np.int64).min
_FAR_FUTURE = np.iinfo(np.int64).max


class Windows(NamedTuple):
    """Front-month windows ``[lo[i], hi[i])`` per chain contract and why each one ended."""

    lo: I64
    hi: I64
    reasons: tuple[RollReason, ...]


class Segment(NamedTuple):
    """Bars ``first`` to ``stop`` (positions within the contract) of chain contract ``contract``.

    ``first_ts`` is the timestamp of its first bar. ``switch`` is the boundary (ns) at which the
    series moved into this contract, and ``reason`` what caused that move; both are meaningless
    for the first segment.
    """

    contract: int
    first: int
    stop: int
    first_ts: int
    switch: int
    reason: RollReason


def roll_windows(chain: ChainBars, rule: RollRule) -> Windows:
    """The front contract's windows under ``rule``."""
    if isinstance(rule, CalendarRoll):
        hi = chain.deadlines.copy()
        lo = np.concatenate(([_FAR_PAST], hi[:-1])).astype(np.int64)
        calendar: RollReason = "calendar"
        return Windows(lo, hi, (calendar,) * len(hi))
    return _crossover_windows(chain, rule)


def _crossover_windows(chain: ChainBars, rule: VolumeCrossover | OpenInterestCrossover) -> Windows:
    """Walk the chain once: each contract's window starts where the previous one ended."""
    name = "volume" if isinstance(rule, VolumeCrossover) else "open_interest"
    values = chain.column(name)
    if name == "open_interest" and len(values) and bool(np.isnan(values).all()):
        raise ContinuousError(
            "an open-interest crossover needs open interest, and the bars have none"
        )
    count = len(chain.contracts)
    lo = np.empty(count, np.int64)
    hi = np.empty(count, np.int64)
    reasons: list[RollReason] = []
    boundary = int(_FAR_PAST)
    for i in range(count):  # one pass per contract (a few hundred), never per bar
        lo[i] = boundary
        deadline = int(chain.deadlines[i])
        hit = None
        if i + 1 < count:
            hit = _first_crossover(
                chain, values, i, start=boundary, deadline=deadline, confirm_bars=rule.confirm_bars
            )
        boundary = deadline if hit is None else hit + 1
        hi[i] = boundary
        reasons.append("calendar" if hit is None else rule.kind)
    return Windows(lo, hi, tuple(reasons))


def _first_crossover(
    chain: ChainBars,
    values: npt.NDArray[np.generic],
    i: int,
    *,
    start: int,
    deadline: int,
    confirm_bars: int,
) -> int | None:
    """Timestamp of the bar of contract i that completes the crossover, or None.

    Only contract i's bars in ``[start, deadline)`` are examined; on each, the next contract's
    value on the same timestamp must exceed contract i's. A bar on which the next contract did
    not trade, or whose open interest is unknown (NaN), is not a crossover and breaks a run.
    """
    ts = chain.ts_of(i)
    a, b = (int(n) for n in np.searchsorted(ts, [start, deadline], side="left"))
    if a >= b:
        return None
    hit = first_crossover_nb(
        ts[a:b],
        np.asarray(chain.values_of(values, i)[a:b], dtype=np.float64),
        chain.ts_of(i + 1),
        np.asarray(chain.values_of(values, i + 1), dtype=np.float64),
        confirm_bars,
    )
    return None if hit < 0 else int(ts[a + hit])


def cut_segments(
    chain: ChainBars,
    windows: Windows,
    *,
    nearby: int = 1,
    start: int = int(_FAR_PAST),
    end: int = int(_FAR_FUTURE),
) -> list[Segment]:
    """The segments of the N-th nearby series, bars restricted to ``[start, end)`` (ns).

    Windows in which the contract to use has no bars contribute nothing; the series then rolls
    straight from the last contract that had bars to the next one that has.
    """
    if nearby < 1:
        raise ContinuousError(f"nearby must be 1 (front) or more, got {nearby}")
    segments: list[Segment] = []
    for i in range(len(chain.contracts) - nearby + 1):
        contract = i + nearby - 1
        lo, hi = max(int(windows.lo[i]), start), min(int(windows.hi[i]), end)
        if lo >= hi:
            continue
        ts = chain.ts_of(contract)
        first, stop = (int(n) for n in np.searchsorted(ts, [lo, hi], side="left"))
        if first < stop:
            reason = windows.reasons[i - 1] if i > 0 else "calendar"
            segments.append(
                Segment(contract, first, stop, int(ts[first]), int(windows.lo[i]), reason)
            )
    return segments
