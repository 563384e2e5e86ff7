"""Continuous futures series built from a contract chain.

:func:`build_continuous` takes the chain's bars (canonical layout: ``ts, contract, open, high,
low, close, volume, open_interest``) and each contract's roll dates, and returns a
:class:`ContinuousSeries`: one bar per timestamp of the contract in use, adjusted as asked, with
the contract each bar came from and its unadjusted close, plus the roll schedule.

When a roll takes effect (no look-ahead):

* calendar rule: bars stamped on or after the roll date (00:00 UTC) come from the next
  contract; the roll date is known in advance from the exchange calendar. For intraday bars the
  switch is therefore at midnight UTC: a Globex evening session that opens the roll date's
  trading day the evening before (23:00 UTC) is still taken from the old contract.
* crossover rules: the comparison on bar *t* uses volumes (open interest) known at *t*'s close;
  the next contract is used from the first bar after *t*.

Output columns (:data:`SERIES_SCHEMA`): ``ts, contract, open, high, low, close`` (adjusted),
``volume, open_interest`` (of the contract in use) and ``unadjusted_close`` (the price that
traded). The rows follow the chain (segment by segment, time increasing). Work is vectorised per
contract; the only Python loops run over contracts and rolls, never over bars.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa

from contango.data.continuous_adjust import (
    SERIES_SCHEMA,
    Adjustments,
    RollGap,
    adjustments,
    assemble,
    measure_gaps,
)
from contango.data.continuous_chain import ChainBars, ContinuousError, date_to_ns
from contango.data.continuous_segments import Segment, cut_segments, roll_windows
from contango.domain.rolls import (
    Adjustment,
    CalendarRoll,
    ContractRollDates,
    RollEvent,
    RollRule,
    RollSchedule,
)

__all__ = [
    "ROLLS_SCHEMA",
    "SERIES_SCHEMA",
    "ContinuousError",
    "ContinuousSeries",
    "build_continuous",
    "roll_schedule_table",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ROLLS_SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("ns", tz="UTC")),
        ("from_contract", pa.string()),
        ("to_contract", pa.string()),
        ("reason", pa.string()),
        ("gap_ts", pa.timestamp("ns", tz="UTC")),
        ("from_close", pa.float64()),
        ("to_close", pa.float64()),
        ("gap", pa.float64()),
        ("adjustment", pa.float64()),
        ("cumulative", pa.float64()),
    ]
)


@dataclass(frozen=True)
class ContinuousSeries:
    """A continuous series (``table``, layout :data:`SERIES_SCHEMA`) and its roll schedule."""

    table: pa.Table
    rolls: RollSchedule

    def rolls_table(self) -> pa.Table:
        """The roll schedule as a table (see :func:`roll_schedule_table`)."""
        return roll_schedule_table(self.rolls)


def build_continuous(
    bars: pa.Table,
    roll_dates: Sequence[ContractRollDates],
    *,
    rule: RollRule | None = None,
    adjustment: Adjustment = Adjustment.NONE,
    nearby: int = 1,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
) -> ContinuousSeries:
    """Build the ``nearby``-th continuous series of a chain under ``rule`` and ``adjustment``.

    ``roll_dates`` define the chain: every contract in ``bars`` must have them, and a listed
    contract without bars still takes its turn (the series simply has no bars then), so the
    front month of a day never depends on data that arrives later. Their ``roll_date`` is the
    calendar deadline of ``rule`` (a crossover never rolls later than it). Rolls are decided on
    all of ``bars``; the output then keeps the bars in ``[start, end)`` and adjusts them, so the
    last segment inside the range is the unadjusted one for back-adjustment.
    """
    rule = CalendarRoll() if rule is None else rule
    chain = ChainBars(bars, roll_dates)
    windows = roll_windows(chain, rule)
    segments = cut_segments(
        chain,
        windows,
        nearby=nearby,
        start=_to_ns(start, np.iinfo(np.int64).min),
        end=_to_ns(end, np.iinfo(np.int64).max),
    )
    gaps = measure_gaps(chain, segments, chain.prices("close"))
    names = [
        (chain.contracts[a.contract], chain.contracts[b.contract])
        for a, b in itertools.pairwise(segments)
    ]
    adjusted = adjustments(adjustment, gaps, names)
    table = assemble(chain, segments, adjusted.per_segment, ratio=adjustment.is_ratio)
    return ContinuousSeries(
        table,
        _schedule(adjustment, segments=segments, gaps=gaps, names=names, adjusted=adjusted),
    )


def _schedule(
    adjustment: Adjustment,
    *,
    segments: list[Segment],
    gaps: list[RollGap],
    names: list[tuple[str, str]],
    adjusted: Adjustments,
) -> RollSchedule:
    """One :class:`RollEvent` per roll, stamped with the first bar of the new contract."""
    steps, cumulative = adjusted.steps, adjusted.cumulative
    events = tuple(
        RollEvent(
            ts=_to_datetime(segment.first_ts),
            from_contract=old,
            to_contract=new,
            reason=segment.reason,
            gap_ts=_to_datetime(gap.gap_ts),
            from_close=gap.from_close,
            to_close=gap.to_close,
            adjustment=float(steps[k]),
            cumulative=float(cumulative[k]),
        )
        for k, (segment, gap, (old, new)) in enumerate(zip(segments[1:], gaps, names, strict=True))
    )
    return RollSchedule(adjustment=adjustment, events=events)


def roll_schedule_table(schedule: RollSchedule) -> pa.Table:
    """The roll schedule as an Arrow table (layout ``ROLLS_SCHEMA``), one row per roll.

    The schema metadata records the adjustment, so ``adjustment`` and ``cumulative`` can be
    read as offsets (points) or factors.
    """
    records = schedule.as_records()
    columns = {name: [record[name] for record in records] for name in ROLLS_SCHEMA.names}
    table = pa.table(columns, schema=ROLLS_SCHEMA)
    return table.replace_schema_metadata({"adjustment": schedule.adjustment.value})


def _to_ns(moment: date | datetime | None, default: int) -> int:
    if moment is None:
        return int(default)
    if not isinstance(moment, datetime):
        return date_to_ns(moment)
    if moment.tzinfo is None:
        raise ContinuousError(f"{moment} has no time zone; give start and end in UTC")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _to_datetime(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=ns // 1_000)
