"""Roll rules, price adjustments and the roll schedule of a continuous futures series.

A continuous series strings the contracts of a chain together: it holds one contract until the
roll rule says to move to the next one. Two decisions define it:

* **When to roll** (:data:`RollRule`). :class:`CalendarRoll` rolls a fixed number of business
  days before the contract's last trade day or first notice day. :class:`VolumeCrossover` and
  :class:`OpenInterestCrossover` roll when the next contract's volume (open interest) exceeds
  the current one's, but never later than their calendar deadline: a continuous series must
  never hold a contract into expiry or into the delivery period.
* **How to join the prices** (:class:`Adjustment`). Consecutive contracts trade at different
  prices (carry); splicing them raw puts a fake jump at every roll. Back-adjustment shifts (or
  scales) the older history so the jump disappears and the latest contract keeps its real
  prices; forward adjustment keeps the oldest contract real and moves the later ones.

The :class:`RollSchedule` records every roll with the price gap it removed, so a trader can
always get back to the real prices.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Literal

RollReference = Literal["auto", "last_trade", "first_notice"]
"""Which contract date the calendar deadline counts back from.

``"auto"`` means the first notice day for physically delivered markets that have one (a long
still holding on that day can be assigned delivery), else the last trade day.
"""

RollReason = Literal["calendar", "volume", "open_interest"]
"""What triggered a roll: the calendar deadline or a crossover of volume / open interest."""

_REFERENCES: tuple[str, ...] = ("auto", "last_trade", "first_notice")


@dataclass(frozen=True, kw_only=True)
class CalendarRoll:
    """Roll ``business_days_before`` business days before the reference date.

    The roll date is the first trade date taken from the next contract: with
    ``business_days_before=5`` and the last trade day on a Friday, the series uses the next
    contract from the Friday one week earlier, and the old contract's last bar is that
    Thursday's. The dates are known in advance, so a calendar roll never looks ahead.
    """

    business_days_before: int = 5
    reference: RollReference = "auto"

    def __post_init__(self) -> None:
        if isinstance(self.business_days_before, bool) or not isinstance(
            self.business_days_before, int
        ):
            raise TypeError(
                f"business_days_before must be an int, got {self.business_days_before!r}"
            )
        if not 0 <= self.business_days_before <= 250:
            raise ValueError(
                f"business_days_before must be 0 to 250, got {self.business_days_before}"
            )
        if self.reference not in _REFERENCES:
            raise ValueError(
                f"reference {self.reference!r} must be one of {', '.join(_REFERENCES)}"
            )

    @property
    def kind(self) -> RollReason:
        """The rule's name, as a roll it triggers gives its reason."""
        return "calendar"

    @property
    def deadline(self) -> CalendarRoll:
        """The calendar rule that bounds the roll: the rule itself."""
        return self


def _check_confirm_bars(confirm_bars: int) -> None:
    if isinstance(confirm_bars, bool) or not isinstance(confirm_bars, int) or confirm_bars < 1:
        raise ValueError(f"confirm_bars must be an int >= 1, got {confirm_bars!r}")


@dataclass(frozen=True, kw_only=True)
class VolumeCrossover:
    """Roll when the next contract out-trades the current one on ``confirm_bars`` bars in a row.

    The comparison on bar *t* uses both contracts' volume of bar *t*, known at its close, so the
    next contract is used from the bar after *t* (no look-ahead). Bars where the next contract
    did not trade count as volume 0: no crossover, and a run of ``confirm_bars`` starts again.
    The roll happens at ``deadline`` at the latest.
    """

    confirm_bars: int = 1
    deadline: CalendarRoll = field(default_factory=CalendarRoll)

    def __post_init__(self) -> None:
        _check_confirm_bars(self.confirm_bars)

    @property
    def kind(self) -> RollReason:
        """The rule's name, as a roll it triggers gives its reason."""
        return "volume"


@dataclass(frozen=True, kw_only=True)
class OpenInterestCrossover:
    """Roll when the next contract's open interest exceeds the current one's.

    Same timing as :class:`VolumeCrossover`. A bar whose open interest is missing for either
    contract is not evidence of a crossover and breaks a run of ``confirm_bars``.
    """

    confirm_bars: int = 1
    deadline: CalendarRoll = field(default_factory=CalendarRoll)

    def __post_init__(self) -> None:
        _check_confirm_bars(self.confirm_bars)

    @property
    def kind(self) -> RollReason:
        """The rule's name, as a roll it triggers gives its reason."""
        return "open_interest"


RollRule = CalendarRoll | VolumeCrossover | OpenInterestCrossover


class Adjustment(StrEnum):
    """How prices of different contracts are joined at a roll.

    ``DIFFERENCE`` (back-adjusted, "Panama") adds the roll gap in points to all earlier bars;
    point changes are preserved and the latest contract is unadjusted, but old prices can go
    negative. ``RATIO`` multiplies earlier bars by the price ratio instead; percentage returns
    are preserved. ``FORWARD`` and ``FORWARD_RATIO`` keep the first contract unadjusted and
    shift (scale) the later ones, so past values never change when new data arrives.
    """

    NONE = "none"
    DIFFERENCE = "difference"
    RATIO = "ratio"
    FORWARD = "forward"
    FORWARD_RATIO = "forward-ratio"

    @property
    def is_ratio(self) -> bool:
        """Whether prices are scaled (returns preserved) rather than shifted."""
        return self in (Adjustment.RATIO, Adjustment.FORWARD_RATIO)

    @property
    def is_forward(self) -> bool:
        """Whether the first contract is the unadjusted one (later ones are moved)."""
        return self in (Adjustment.FORWARD, Adjustment.FORWARD_RATIO)

    @property
    def identity(self) -> float:
        """The adjustment that changes nothing: factor 1 for ratios, offset 0 otherwise."""
        return 1.0 if self.is_ratio else 0.0


@dataclass(frozen=True, kw_only=True)
class ContractRollDates:
    """The dates of one contract that the roll needs.

    ``roll_date`` is the calendar deadline under the chosen rule: the first trade date on which
    the series no longer uses this contract. It is computed by the caller from the exchange
    calendar (``contango.data.calendars.roll_date``). ``last_trade`` is the contract's last
    trade day; no bar stamped after it is ever taken from the contract. Both are trade dates;
    a bar belongs to a date by its UTC timestamp (daily bars are stamped at 00:00 UTC).
    """

    contract: str
    last_trade: date
    roll_date: date

    def __post_init__(self) -> None:
        if not self.contract:
            raise ValueError("a contract in the roll dates has an empty symbol")
        if self.roll_date > self.last_trade + timedelta(days=1):
            raise ValueError(
                f"{self.contract}: roll date {self.roll_date} is after the day following its "
                f"last trade day {self.last_trade}; the series would hold an expired contract"
            )


@dataclass(frozen=True, kw_only=True)
class RollEvent:
    """One roll of a continuous series.

    ``ts`` is the timestamp of the first bar taken from ``to_contract`` (for a crossover, the
    bar after the one whose close showed the crossover). The gap ``to_close - from_close`` is
    measured on ``gap_ts``, the latest bar before the switch on which both contracts traded.
    ``adjustment`` is what this roll alone applies (an additive offset in points, or a ratio
    factor); ``cumulative`` the total applied to the adjusted side of the roll: for
    back-adjustment the bars before ``ts``, for forward adjustment the bars from ``ts`` on.
    """

    ts: datetime
    from_contract: str
    to_contract: str
    reason: RollReason
    gap_ts: datetime
    from_close: float
    to_close: float
    adjustment: float
    cumulative: float

    @property
    def gap(self) -> float:
        """The price gap in points from the old to the new contract (new minus old)."""
        return self.to_close - self.from_close


@dataclass(frozen=True, kw_only=True)
class RollSchedule:
    """The rolls of one continuous series, oldest first, and the adjustment they fed."""

    adjustment: Adjustment
    events: tuple[RollEvent, ...] = ()

    def __post_init__(self) -> None:
        for before, after in zip(self.events, self.events[1:], strict=False):
            if after.ts <= before.ts:
                raise ValueError(
                    f"roll {after.from_contract}->{after.to_contract} at {after.ts} is not after "
                    f"roll {before.from_contract}->{before.to_contract} at {before.ts}"
                )
            if after.from_contract != before.to_contract:
                raise ValueError(
                    f"roll from {after.from_contract} follows a roll into {before.to_contract}"
                )

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[RollEvent]:
        return iter(self.events)

    def as_records(self) -> list[dict[str, object]]:
        """One plain dict per roll (with the gap), ready for a table or a JSON response."""
        records: list[dict[str, object]] = []
        for event in self.events:
            record = asdict(event)
            record["gap"] = event.gap
            records.append(record)
        return records
