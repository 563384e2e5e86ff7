"""Rules that name a contract's last trade day or first notice day.

Exchanges describe these dates in words ("three business days before the 25th calendar day of
the month prior to the contract month"). An :class:`ExpiryRule` is that sentence as data: an
anchor day in a month relative to the delivery month, an adjustment when the anchor is not a
business day, and a signed number of business days to step from it. Evaluating a rule needs the
exchange's holiday calendar, which lives in ``contango.data.calendars``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Anchor = Literal[
    "nth_weekday",  # the nth (1-5, or -1 for last) given weekday of the month
    "day_of_month",  # a calendar day number of the month
    "first_business_day",
    "last_business_day",
    "first_calendar_day",
    "last_calendar_day",
]
Adjust = Literal["preceding", "following", "none"]


@dataclass(frozen=True, kw_only=True)
class ExpiryRule:
    """An exchange date rule: anchor, adjustment, then a business-day offset.

    ``month_offset`` is relative to the delivery month (-1 = the month before). ``adjust`` moves
    a non-business anchor to the business day before or after it; with ``"none"`` the offset
    counts business days strictly before (or after) the anchor itself. ``business_days`` is
    signed: -3 means three business days before.
    """

    anchor: Anchor
    month_offset: int = 0
    nth: int | None = None
    weekday: int | None = None
    day: int | None = None
    adjust: Adjust = "preceding"
    business_days: int = 0
    text: str = ""

    def __post_init__(self) -> None:
        if self.anchor == "nth_weekday":
            if self.nth not in (1, 2, 3, 4, 5, -1):
                raise ValueError(f"nth_weekday needs nth in 1..5 or -1, got {self.nth!r}")
            if self.weekday is None or not 0 <= self.weekday <= 6:
                raise ValueError(f"nth_weekday needs weekday 0 (Mon) to 6, got {self.weekday!r}")
        if self.anchor == "day_of_month" and (self.day is None or not 1 <= self.day <= 31):
            raise ValueError(f"day_of_month needs day 1..31, got {self.day!r}")
        if self.adjust == "none" and self.business_days == 0:
            # Without an offset "none" could name a weekend or holiday as a trading day.
            raise ValueError("adjust='none' needs a non-zero business_days offset")
        if not -24 <= self.month_offset <= 24:
            raise ValueError(f"month_offset {self.month_offset} is outside -24..24")
