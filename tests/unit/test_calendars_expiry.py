"""Exchange business days and contract dates against dates the exchanges publish.

Every expected date below was worked out by hand from the exchange's rule text (quoted from the
contract specification page) and a wall calendar, and where a published date was found it is
cited; none is taken from this code's output. Source kinds:
  [spec]   exchange contract-specification page (rule text) + hand count
  [notice] exchange notice / advisory naming the date
  [3rd]    third-party expiry calendar or forum post quoting the exchange
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contango.data.calendars import (
    business_day_mask,
    business_days,
    contract_chain,
    evaluate_rule,
    first_notice_date,
    is_business_day,
    last_trade_date,
    roll_date,
)
from contango.data.registry import get_registry
from contango.domain.contracts import FuturesContract
from contango.domain.expiry_rules import ExpiryRule
from contango.domain.months import MonthCode

D = dt.date


def _contract(symbol: str) -> FuturesContract:
    # Four-digit years are literal, so the reference year does not matter here.
    return get_registry().parse(symbol, reference_year=2024)


# (long symbol, expected last trade, source and hand arithmetic)
LAST_TRADE = [
    # ES [spec] "third Friday of the contract month"
    ("ESZ2024", D(2024, 12, 20), "Dec 2024 Fridays: 6, 13, 20"),
    ("ESH2025", D(2025, 3, 21), "Mar 2025 Fridays: 7, 14, 21"),
    ("ESM2023", D(2023, 6, 16), "Jun 2023 Fridays: 2, 9, 16"),
    # [notice] CME Equity update 2008-03-14: Good Friday = 3rd Friday, expiry Thursday 3/20/08
    ("ESH2008", D(2008, 3, 20), "3rd Friday Mar 21 2008 is Good Friday -> Thu Mar 20"),
    # CL [spec] 3 business days before the 25th of the prior month (4 if the 25th is not one)
    ("CLF2025", D(2024, 12, 19), "Dec 25 holiday -> 4 before: 24, 23, 20, 19"),
    ("CLH2024", D(2024, 2, 20), "Feb 25 2024 Sunday -> 4 before: 23, 22, 21, 20"),
    ("CLQ2024", D(2024, 7, 22), "Jul 25 2024 Thursday -> 24, 23, 22"),
    # NG [spec] 3 business days before the first calendar day of the contract month
    ("NGF2025", D(2024, 12, 27), "before Jan 1: Dec 31, 30, (25 holiday) 27"),
    ("NGJ2024", D(2024, 3, 26), "before Apr 1: Mar 28 (29 Good Friday), 27, 26"),
    # GC [spec] third last business day of the contract month
    ("GCZ2024", D(2024, 12, 27), "Dec 2024 last bdays: 31, 30, 27"),
    ("GCJ2024", D(2024, 4, 26), "Apr 2024 last bdays: 30, 29, 26"),
    ("GCQ2025", D(2025, 8, 27), "Aug 2025 last bdays: 29, 28, 27"),
    # ZN [spec] seventh business day preceding the last business day of the contract month
    ("ZNZ2024", D(2024, 12, 19), "LBD Dec 31; 30, 27, 26, (25) 24, 23, 20, 19"),
    ("ZNH2024", D(2024, 3, 19), "LBD Mar 28 (29 Good Friday); 27, 26, 25, 22, 21, 20, 19"),
    ("ZNU2024", D(2024, 9, 19), "LBD Sep 30; 27, 26, 25, 24, 23, 20, 19"),
    # ZT [spec] last business day of the contract month
    ("ZTZ2024", D(2024, 12, 31), "Dec 31 2024 is a Tuesday"),
    # ZC [spec] business day prior to the 15th calendar day of the contract month
    ("ZCZ2024", D(2024, 12, 13), "Dec 15 2024 Sunday -> Fri Dec 13"),
    ("ZCN2024", D(2024, 7, 12), "Jul 15 2024 Monday -> Fri Jul 12"),
    ("ZCH2025", D(2025, 3, 14), "Mar 15 2025 Saturday -> Fri Mar 14"),
    # 6E [spec] 2nd business day immediately preceding the third Wednesday
    ("6EZ2024", D(2024, 12, 16), "3rd Wed Dec 18 -> 17, 16"),
    ("6EH2025", D(2025, 3, 17), "3rd Wed Mar 19 -> 18, 17"),
    ("6JU2024", D(2024, 9, 16), "3rd Wed Sep 18 -> 17, 16"),
    # HE [spec] 10th business day of the contract month
    ("HEZ2024", D(2024, 12, 13), "Dec 2, 3, 4, 5, 6, 9, 10, 11, 12, 13"),
    ("HEN2024", D(2024, 7, 15), "Jul 1, 2, 3, (4 holiday) 5, 8, 9, 10, 11, 12, 15"),
    # [notice] CME Clearing advisory 99-92: Oct 1999 hogs last day Thu Oct 14 (Columbus Day open)
    ("HEV1999", D(1999, 10, 14), "Oct 1, 4, 5, 6, 7, 8, 11, 12, 13, 14"),
    # [3rd] Reuters 2013-10-02: "October hogs will expire from trading on Oct. 14"
    ("HEV2013", D(2013, 10, 14), "Oct 1, 2, 3, 4, 7, 8, 9, 10, 11, 14"),
    # LE [spec] last business day of the contract month
    ("LEZ2024", D(2024, 12, 31), "Dec 31 2024 Tuesday"),
    ("LEQ2024", D(2024, 8, 30), "Aug 31 2024 Saturday -> Fri Aug 30"),
    # FGBL [spec] two exchange days before the 10th calendar day (or the next exchange day)
    ("FGBLZ2024", D(2024, 12, 6), "Dec 10 Tue -> 9, 6"),
    # [3rd] forum post quoting Eurex rules, table for 2008: H 6 Mar, M 6 Jun, U 8 Sep, Z 8 Dec
    ("FGBLH2008", D(2008, 3, 6), "Mar 10 Mon -> 7, 6"),
    ("FGBLU2008", D(2008, 9, 8), "Sep 10 Wed -> 9, 8"),
    ("FGBLZ2008", D(2008, 12, 8), "Dec 10 Wed -> 9, 8"),
    # FESX [spec] third Friday
    ("FESXM2025", D(2025, 6, 20), "Jun 2025 Fridays: 6, 13, 20"),
    # KC [spec] one business day before last notice day (7 bdays before the LBD);
    # [3rd] bohlish.com coffee calendar: 09H 03/19, 09K 05/18, 09N 07/21, 09Z 12/18
    ("KCH2009", D(2009, 3, 19), "LBD Mar 31; 8 back: 30, 27, 26, 25, 24, 23, 20, 19"),
    ("KCK2009", D(2009, 5, 18), "LBD May 29; 28, 27, 26, (25 Memorial) 22, 21, 20, 19, 18"),
    ("KCN2009", D(2009, 7, 21), "LBD Jul 31; 30, 29, 28, 27, 24, 23, 22, 21"),
    ("KCZ2009", D(2009, 12, 18), "LBD Dec 31; 30, 29, 28, (25) 24, 23, 22, 21, 18"),
    # CC [spec] one business day before last notice day (10 bdays before the LBD);
    # [3rd] bohlish.com cocoa calendar: 09H 03/16, 09K 05/13, 09Z 12/15
    ("CCH2009", D(2009, 3, 16), "LBD Mar 31; 11 back: 30, 27 .. 17, 16"),
    ("CCK2009", D(2009, 5, 13), "LBD May 29; 28, 27, 26, (25) 22, 21, 20, 19, 18, 15, 14, 13"),
    ("CCZ2009", D(2009, 12, 15), "LBD Dec 31; 30, 29, 28, (25) 24, 23, 22, 21, 18, 17, 16, 15"),
    # CT [spec] seventeen business days from the end of the spot month (LBD counts as 1);
    # [3rd] bohlish.com cotton calendar: 09H 03/09, 09K 05/06, 09V 10/08, 09Z 12/08
    ("CTH2009", D(2009, 3, 9), "31, 30, 27, 26, 25, 24, 23, 20, 19, 18, 17, 16, 13, 12, 11, 10, 9"),
    ("CTK2009", D(2009, 5, 6), "29, 28, 27, 26, (25) 22 .. 7, 6 is the 17th"),
    ("CTV2009", D(2009, 10, 8), "Columbus Day Oct 12 counts: ... 13, 12, 9, 8 is the 17th"),
    ("CTZ2009", D(2009, 12, 8), "31, 30, 29, 28, (25) 24 .. 9, 8 is the 17th"),
    # SB [spec] last business day of the month preceding the delivery month
    ("SBH2025", D(2025, 2, 28), "Fri Feb 28 2025"),
    ("SBV2024", D(2024, 9, 30), "Mon Sep 30 2024"),
]


@pytest.mark.parametrize(("symbol", "expected", "worked"), LAST_TRADE)
def test_last_trade_date_matches_the_exchange(symbol: str, expected: D, worked: str) -> None:
    contract = _contract(symbol)
    assert last_trade_date(get_registry().spec(contract.root), contract) == expected, worked


FIRST_NOTICE = [
    # [spec] GC/ZN/ZC: first notice = last business day of the month before the contract month
    ("GCZ2024", D(2024, 11, 29), "Nov 29 2024: Friday after Thanksgiving, a business day"),
    ("GCJ2024", D(2024, 3, 28), "Mar 29 2024 Good Friday -> Thu Mar 28"),
    ("ZNZ2024", D(2024, 11, 29), "last business day of November 2024"),
    ("ZNH2024", D(2024, 2, 29), "leap year: Thu Feb 29 2024"),
    ("ZCZ2024", D(2024, 11, 29), "last business day of November 2024"),
    # KC [spec] seven business days prior to the first business day of the delivery month
    ("KCH2009", D(2009, 2, 19), "FBD Mar 2 2009; 27, 26, 25, 24, 23, 20, 19 (Feb 16 holiday)"),
]


@pytest.mark.parametrize(("symbol", "expected", "worked"), FIRST_NOTICE)
def test_first_notice_date_matches_the_exchange(symbol: str, expected: D, worked: str) -> None:
    contract = _contract(symbol)
    assert first_notice_date(get_registry().spec(contract.root), contract) == expected, worked


@pytest.mark.parametrize("root", ["ES", "HE", "FESX", "CL", "6E"])
def test_markets_without_a_first_notice_day_return_none(root: str) -> None:
    spec = get_registry().spec(root)
    contract = FuturesContract(root, 2024, spec.listed_months[-1])
    assert first_notice_date(spec, contract) is None


@pytest.mark.parametrize(
    ("calendar", "day", "open_"),
    [
        ("CMEGlobex_Energy", D(2024, 11, 28), False),  # Thanksgiving: abbreviated, no settlement
        ("CMEGlobex_Energy", D(2024, 11, 29), True),  # the Friday after settles normally
        ("CME_Equity", D(2024, 6, 19), False),  # Juneteenth
        ("CME_Bond", D(2024, 3, 29), False),  # Good Friday 2024
        ("CME_Bond", D(2024, 10, 14), True),  # Columbus Day: CME settles
        ("CMEGlobex_Grains", D(2024, 7, 4), False),
        ("ICEUS", D(2024, 1, 15), False),  # MLK Day
        ("EUREX", D(2024, 4, 1), False),  # Easter Monday
        ("EUREX", D(2024, 7, 4), True),  # a US holiday is a Eurex business day
        ("EUREX_Bond", D(2024, 12, 31), False),
        ("CMEGlobex_FX", D(2024, 12, 21), False),  # Saturday
    ],
)
def test_business_days_follow_the_exchange_holidays(calendar: str, day: D, open_: bool) -> None:
    assert is_business_day(calendar, day) is open_


def test_business_days_in_a_holiday_week_skip_thanksgiving() -> None:
    days = business_days("CME_Equity", D(2024, 11, 25), D(2024, 12, 1))
    # Mon 25, Tue 26, Wed 27, (Thu 28 Thanksgiving), Fri 29; the weekend is out.
    expected = np.array(["2024-11-25", "2024-11-26", "2024-11-27", "2024-11-29"], "datetime64[D]")
    np.testing.assert_array_equal(days, expected)
    mask = business_day_mask("CME_Equity", np.arange("2024-11-25", "2024-12-02", dtype="M8[D]"))
    assert mask.tolist() == [True, True, True, False, True, False, False]


def test_unknown_calendar_is_refused_with_examples() -> None:
    with pytest.raises(ValueError, match="unknown holiday calendar 'NOPE'"):
        is_business_day("NOPE", D(2024, 1, 2))


def test_roll_date_counts_business_days_before_the_reference() -> None:
    registry = get_registry()
    gc, es = registry.spec("GC"), registry.spec("ES")
    gcz24 = FuturesContract("GC", 2024, MonthCode.Z)
    esz24 = FuturesContract("ES", 2024, MonthCode.Z)
    # GC auto -> first notice Fri Nov 29 2024; 3 back: 27, 26, 25 (28 Thanksgiving).
    assert roll_date(gc, gcz24, business_days_before=3) == D(2024, 11, 25)
    # last trade Dec 27 2024; 2 back: 26, 24 (25 Christmas).
    assert roll_date(gc, gcz24, business_days_before=2, reference="last_trade") == D(2024, 12, 24)
    # ES has no first notice: auto = last trade Dec 20; 5 back: 19, 18, 17, 16, 13.
    assert roll_date(es, esz24, business_days_before=5) == D(2024, 12, 13)
    with pytest.raises(ValueError, match="ES has no first notice day"):
        roll_date(es, esz24, business_days_before=1, reference="first_notice")


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        # [notice] CME "FX Quarterly Roll Dates" page: the floor rolls 5 business days before
        # termination (2nd business day before the 3rd Wednesday).
        ("6EU2015", D(2015, 9, 4)),  # 3rd Wed Sep 16 -> Mon 14; 11, 10, 9, 8, (7 Labor Day) 4
        ("6EH2016", D(2016, 3, 7)),  # 3rd Wed Mar 16 -> Mon 14; 11, 10, 9, 8, 7
        ("6EZ2016", D(2016, 12, 12)),  # 3rd Wed Dec 21 -> Mon 19; 16, 15, 14, 13, 12
        ("6JM2014", D(2014, 6, 9)),  # 3rd Wed Jun 18 -> Mon 16; 13, 12, 11, 10, 9
    ],
)
def test_fx_roll_dates_match_cme_published_roll_calendar(symbol: str, expected: D) -> None:
    contract = _contract(symbol)
    spec = get_registry().spec(contract.root)
    assert roll_date(spec, contract, business_days_before=5) == expected


def test_contract_of_another_root_is_refused() -> None:
    with pytest.raises(ValueError, match="not a ES contract"):
        last_trade_date(get_registry().spec("ES"), FuturesContract("NQ", 2024, MonthCode.Z))


def test_contract_chain_covers_the_range_plus_the_next_contract() -> None:
    es = get_registry().spec("ES")
    chain = contract_chain(es, D(2024, 3, 1), D(2024, 12, 31))
    # Expiries: H24 Mar 15, M24 Jun 21, U24 Sep 20, Z24 Dec 20 (all in range), then H25 Mar 21.
    assert [c.long_symbol for c in chain] == ["ESH2024", "ESM2024", "ESU2024", "ESZ2024", "ESH2025"]


def test_contract_chain_for_cl_starts_with_the_front_month_on_start() -> None:
    cl = get_registry().spec("CL")
    # CLF25 last trades Dec 19 2024, so on Dec 20 2024 the front month is CLG25 (Jan 21 2025).
    chain = contract_chain(cl, D(2024, 12, 20), D(2025, 1, 10))
    assert [c.long_symbol for c in chain] == ["CLG2025"]


def test_contract_chain_at_the_start_of_the_calendar_span() -> None:
    cl = get_registry().spec("CL")
    # CLF90 would be anchored on Dec 25 1989, outside the span; CLG90 (Jan 25 1990, Thursday:
    # 24, 23, 22 -> Jan 22) is the first contract expiring on/after Jan 2 1990.
    chain = contract_chain(cl, D(1990, 1, 2), D(1990, 1, 31))
    assert [c.long_symbol for c in chain] == ["CLG1990", "CLH1990"]


def test_adjust_none_counts_strictly_before_a_weekend_anchor() -> None:
    rule = ExpiryRule(anchor="day_of_month", day=15, adjust="none", business_days=-1)
    # Sat Mar 15 2025: the business day strictly before is Fri Mar 14.
    assert evaluate_rule(rule, "CMEGlobex_Grains", 2025, 3) == D(2025, 3, 14)
    preceding = ExpiryRule(anchor="day_of_month", day=15, adjust="preceding", business_days=-1)
    # preceding: Sat 15 -> Fri 14, then one more back -> Thu 13.
    assert evaluate_rule(preceding, "CMEGlobex_Grains", 2025, 3) == D(2025, 3, 13)


_ROOTS = sorted(get_registry().roots())


@settings(max_examples=150, deadline=None)
@given(root=st.sampled_from(_ROOTS), year=st.integers(1995, 2070), index=st.integers(0, 11))
def test_last_trade_is_always_a_business_day(root: str, year: int, index: int) -> None:
    spec = get_registry().spec(root)
    contract = FuturesContract(root, year, spec.listed_months[index % len(spec.listed_months)])
    assert is_business_day(spec.calendar, last_trade_date(spec, contract))


# Where the rulebook puts first notice before the last trade (long holders must leave early).
_NOTICE_BEFORE_TRADE = [
    *("ZT", "ZF", "ZN", "ZB", "GC", "SI", "HG", "ZC", "ZS", "ZW", "KC", "CC", "CT"),
]


@settings(max_examples=150, deadline=None)
@given(
    root=st.sampled_from(_NOTICE_BEFORE_TRADE),
    year=st.integers(1995, 2070),
    index=st.integers(0, 11),
)
def test_first_notice_precedes_last_trade(root: str, year: int, index: int) -> None:
    spec = get_registry().spec(root)
    contract = FuturesContract(root, year, spec.listed_months[index % len(spec.listed_months)])
    notice = first_notice_date(spec, contract)
    assert notice is not None
    assert is_business_day(spec.calendar, notice)
    assert notice < last_trade_date(spec, contract)


@settings(max_examples=60, deadline=None)
@given(
    root=st.sampled_from(_ROOTS),
    start=st.dates(D(1996, 1, 1), D(2068, 1, 1)),
    days=st.integers(0, 900),
)
def test_contract_chain_is_strictly_ordered_by_expiry(root: str, start: D, days: int) -> None:
    spec = get_registry().spec(root)
    end = start + dt.timedelta(days=days)
    chain = contract_chain(spec, start, end)
    expiries = [last_trade_date(spec, c) for c in chain]
    assert all(a < b for a, b in itertools.pairwise(expiries))
    assert expiries[0] >= start
    assert expiries[-1] > end
    assert all(e <= end for e in expiries[:-1])
