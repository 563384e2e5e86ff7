"""Exchange business days and the contract dates that follow from them.

Holidays come from pandas-market-calendars, with one correction for US exchanges: the library
models CME Globex and ICE *sessions*, which trade an abbreviated session on most US holidays
(MLK Day, Presidents Day, Memorial Day, Juneteenth, Independence Day, Labor Day, Thanksgiving).
The exchanges publish no settlement on those days and trades belong to the next trade date, so
for every date rule in a rulebook ("three business days before ...") they are not business days.
For calendars in a US time zone those holidays are therefore added to the library's own list.
Columbus Day and Veterans Day are not added: CME and ICE futures settle normally on them.

Business-day arithmetic runs on ``numpy.busdaycalendar`` objects built once per calendar name
(vectorized and cached); results are plain ``datetime.date`` values.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
import warnings
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pandas_market_calendars as mcal
from pandas.tseries.holiday import (
    AbstractHolidayCalendar,
    Holiday,
    USLaborDay,
    USMemorialDay,
    USPresidentsDay,
    USThanksgivingDay,
    nearest_workday,
)

from contango.domain.contracts import ContractSpec, FuturesContract
from contango.domain.expiry_rules import ExpiryRule

RollReference = Literal["last_trade", "first_notice", "auto"]

# Holidays are materialised for this span; dates outside it raise rather than silently treating
# every weekday as a business day.
FIRST_YEAR = 1990
LAST_YEAR = 2079
_WEEKMASK = "1111100"


class _USSettlementHolidays(AbstractHolidayCalendar):
    """US holidays on which CME and ICE US publish no settlement (see the module docstring)."""

    rules = [  # noqa: RUF012 - pandas reads this class attribute by name
        # US exchanges first closed for Martin Luther King Jr. Day in 1998.
        Holiday(
            "Martin Luther King Jr. Day",
            month=1,
            day=15,
            observance=lambda day: day + pd.Timedelta(days=(7 - day.weekday()) % 7),
            start_date="1998-01-01",
        ),
        USPresidentsDay,
        USMemorialDay,
        # CME first closed for Juneteenth in 2022, the year after it became a federal holiday.
        Holiday("Juneteenth", month=6, day=19, start_date="2022-01-01", observance=nearest_workday),
        Holiday("Independence Day", month=7, day=4, observance=nearest_workday),
        USLaborDay,
        USThanksgivingDay,
    ]


@lru_cache(maxsize=1)
def calendar_names() -> frozenset[str]:
    """Every holiday calendar name a contract spec may use."""
    return frozenset(mcal.get_calendar_names())


@lru_cache(maxsize=64)
def exchange_holidays(calendar_name: str) -> npt.NDArray[np.datetime64]:
    """Sorted weekday holidays (``datetime64[D]``) of ``calendar_name`` in FIRST_YEAR..LAST_YEAR."""
    if calendar_name not in calendar_names():
        raise ValueError(
            f"unknown holiday calendar {calendar_name!r}: use a pandas-market-calendars name "
            "such as CME_Equity, CMEGlobex_Energy, CME_Bond, ICEUS or EUREX"
        )
    start, end = pd.Timestamp(f"{FIRST_YEAR}-01-01"), pd.Timestamp(f"{LAST_YEAR}-12-31")
    with warnings.catch_warnings():
        # Some calendars warn about rules without an end date; the dates are still right.
        warnings.simplefilter("ignore")
        market = mcal.get_calendar(calendar_name)
        days = pd.DatetimeIndex(pd.to_datetime(list(market.holidays().holidays)))
        if str(market.tz).startswith(("America/", "US/")):
            days = days.union(_USSettlementHolidays().holidays(start, end))
    days = days[(days >= start) & (days <= end) & (days.day_of_week < 5)]
    return np.unique(days.to_numpy().astype("datetime64[D]"))


@lru_cache(maxsize=64)
def _busday_calendar(calendar_name: str) -> np.busdaycalendar:
    return np.busdaycalendar(weekmask=_WEEKMASK, holidays=exchange_holidays(calendar_name))


def _check_span(day: dt.date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(
            f"date {day.isoformat()} is outside the holiday calendars' span "
            f"{FIRST_YEAR}-{LAST_YEAR}"
        )


def _to_date(value: np.datetime64) -> dt.date:
    day = value.astype("datetime64[D]").item()
    assert isinstance(day, dt.date)
    return day


def is_business_day(calendar_name: str, day: dt.date) -> bool:
    """Whether the exchange settles on ``day`` (a weekday that is not one of its holidays)."""
    _check_span(day)
    return bool(np.is_busday(np.datetime64(day, "D"), busdaycal=_busday_calendar(calendar_name)))


def business_day_mask(calendar_name: str, days: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Vectorized :func:`is_business_day` for an array of dates (``datetime64`` or ``date``)."""
    values = np.asarray(days, dtype="datetime64[D]")
    return np.is_busday(values, busdaycal=_busday_calendar(calendar_name))


def business_days(calendar_name: str, start: dt.date, end: dt.date) -> npt.NDArray[np.datetime64]:
    """The exchange's business days from ``start`` to ``end`` inclusive, as ``datetime64[D]``."""
    _check_span(start)
    _check_span(end)
    if end < start:
        return np.array([], dtype="datetime64[D]")
    span = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + np.timedelta64(1, "D"))
    return span[np.is_busday(span, busdaycal=_busday_calendar(calendar_name))]


def add_business_days(calendar_name: str, day: dt.date, count: int) -> dt.date:
    """``day`` moved by ``count`` business days; a non-business ``day`` first rolls back."""
    _check_span(day)
    moved = np.busday_offset(
        np.datetime64(day, "D"), count, roll="backward", busdaycal=_busday_calendar(calendar_name)
    )
    return _to_date(moved)


def _shift_month(year: int, month: int, offset: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + offset
    return index // 12, index % 12 + 1


def _nth_weekday(year: int, month: int, nth: int, weekday: int) -> dt.date:
    last_day = pycalendar.monthrange(year, month)[1]
    if nth == -1:
        last = dt.date(year, month, last_day)
        return last - dt.timedelta(days=(last.weekday() - weekday) % 7)
    first = dt.date(year, month, 1)
    day = first + dt.timedelta(days=(weekday - first.weekday()) % 7, weeks=nth - 1)
    if day.month != month:
        raise ValueError(f"{year}-{month:02d} has no weekday #{nth}")
    return day


def _anchor_date(rule: ExpiryRule, year: int, month: int, cal: np.busdaycalendar) -> np.datetime64:
    """The rule's anchor day in ``year``/``month``, before any business-day adjustment."""
    last_day = pycalendar.monthrange(year, month)[1]
    if rule.anchor == "nth_weekday":
        assert rule.nth is not None  # checked by ExpiryRule
        assert rule.weekday is not None
        return np.datetime64(_nth_weekday(year, month, rule.nth, rule.weekday), "D")
    if rule.anchor == "day_of_month":
        assert rule.day is not None
        # A day past the month's end (31 in April) means the month's last calendar day.
        return np.datetime64(dt.date(year, month, min(rule.day, last_day)), "D")
    first = np.datetime64(dt.date(year, month, 1), "D")
    last = np.datetime64(dt.date(year, month, last_day), "D")
    anchors = {
        "first_calendar_day": first,
        "last_calendar_day": last,
        "first_business_day": np.busday_offset(first, 0, roll="forward", busdaycal=cal),
        "last_business_day": np.busday_offset(last, 0, roll="backward", busdaycal=cal),
    }
    return anchors[rule.anchor]


@lru_cache(maxsize=65536)
def evaluate_rule(rule: ExpiryRule, calendar_name: str, year: int, month: int) -> dt.date:
    """The date ``rule`` names for the contract of delivery ``year``/``month``.

    The anchor is found in the month ``rule.month_offset`` away from the delivery month; a
    non-business anchor rolls to the preceding or following business day (``adjust``), or with
    ``"none"`` the offset counts business days strictly before/after the anchor itself.
    """
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1 to 12, got {month}")
    anchor_year, anchor_month = _shift_month(year, month, rule.month_offset)
    if not FIRST_YEAR <= anchor_year <= LAST_YEAR:
        raise ValueError(
            f"contract year {year} is outside the holiday calendars' span {FIRST_YEAR}-{LAST_YEAR}"
        )
    cal = _busday_calendar(calendar_name)
    anchor = _anchor_date(rule, anchor_year, anchor_month, cal)
    roll: Literal["forward", "backward"]
    if rule.adjust == "preceding":
        roll = "backward"
    elif rule.adjust == "following":
        roll = "forward"
    else:
        # Counting strictly before a non-business anchor = rolling forward first, and vice versa.
        roll = "forward" if rule.business_days < 0 else "backward"
    return _to_date(np.busday_offset(anchor, rule.business_days, roll=roll, busdaycal=cal))


def _check_contract(spec: ContractSpec, contract: FuturesContract) -> None:
    if contract.root != spec.root:
        raise ValueError(f"contract {contract.long_symbol} is not a {spec.root} contract")


def last_trade_date(spec: ContractSpec, contract: FuturesContract) -> dt.date:
    """The last day ``contract`` trades, by the exchange's rule for ``spec``."""
    _check_contract(spec, contract)
    return evaluate_rule(spec.last_trade_rule, spec.calendar, contract.year, contract.month.value)


def first_notice_date(spec: ContractSpec, contract: FuturesContract) -> dt.date | None:
    """The first notice day, or None for cash-settled markets and those without one."""
    _check_contract(spec, contract)
    if spec.first_notice_rule is None:
        return None
    return evaluate_rule(spec.first_notice_rule, spec.calendar, contract.year, contract.month.value)


def roll_date(
    spec: ContractSpec,
    contract: FuturesContract,
    *,
    business_days_before: int,
    reference: RollReference = "auto",
) -> dt.date:
    """The business day ``business_days_before`` exchange days before the reference date.

    ``"auto"`` uses the first notice day when the market has one (a long holder must be out
    before it to avoid delivery), otherwise the last trade day.
    """
    if business_days_before < 0:
        raise ValueError(f"business_days_before must be >= 0, got {business_days_before}")
    if reference == "first_notice":
        anchor = first_notice_date(spec, contract)
        if anchor is None:
            raise ValueError(f"{spec.root} has no first notice day; use 'last_trade' or 'auto'")
    elif reference == "last_trade":
        anchor = last_trade_date(spec, contract)
    elif reference == "auto":
        anchor = first_notice_date(spec, contract) or last_trade_date(spec, contract)
    else:
        raise ValueError(f"reference must be last_trade, first_notice or auto, got {reference!r}")
    return add_business_days(spec.calendar, anchor, -business_days_before)


def contract_chain(spec: ContractSpec, start: dt.date, end: dt.date) -> list[FuturesContract]:
    """Listed contracts, in expiry order, needed for a continuous series over [start, end].

    That is every listed contract whose last trade day falls in [start, end], plus the first
    one expiring after ``end`` (the front month on ``end`` itself, and the roll target).
    """
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    chain: list[FuturesContract] = []
    # Last trade can precede the delivery month (CL: a month earlier), so start a year early.
    for year in range(max(start.year - 1, FIRST_YEAR), end.year + 3):
        for month in spec.listed_months:
            if _shift_month(year, month.value, spec.last_trade_rule.month_offset)[0] < FIRST_YEAR:
                continue  # the rule's anchor month lies before the holiday calendars' span
            contract = FuturesContract(spec.root, year, month)
            expiry = last_trade_date(spec, contract)
            if expiry < start:
                continue
            chain.append(contract)
            if expiry > end:
                return chain
    raise ValueError(f"no {spec.root} contract expires after {end.isoformat()}")


def upcoming_contracts(spec: ContractSpec, today: dt.date, count: int) -> list[FuturesContract]:
    """The next ``count`` listed contracts whose last trade day is on or after ``today``."""
    chain: list[FuturesContract] = []
    year = today.year - 1
    while len(chain) < count:
        for month in spec.listed_months:
            contract = FuturesContract(spec.root, year, month)
            if last_trade_date(spec, contract) >= today and len(chain) < count:
                chain.append(contract)
        year += 1
    return chain


__all__ = [
    "RollReference",
    "add_business_days",
    "business_day_mask",
    "business_days",
    "calendar_names",
    "contract_chain",
    "evaluate_rule",
    "exchange_holidays",
    "first_notice_date",
    "is_business_day",
    "last_trade_date",
    "roll_date",
    "upcoming_contracts",
]
