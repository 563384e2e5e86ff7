"""The roll vocabulary: rules, adjustments, contract roll dates and the roll schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from contango.domain.rolls import (
    Adjustment,
    CalendarRoll,
    ContractRollDates,
    OpenInterestCrossover,
    RollEvent,
    RollSchedule,
    VolumeCrossover,
)


def event(day: int, old: str, new: str) -> RollEvent:
    ts = datetime(2024, 3, day, tzinfo=UTC)
    return RollEvent(
        ts=ts,
        from_contract=old,
        to_contract=new,
        reason="calendar",
        gap_ts=ts,
        from_close=5104.00,
        to_close=5164.50,
        adjustment=60.50,
        cumulative=60.50,
    )


def test_calendar_roll_defaults_to_five_days_before_the_automatic_reference() -> None:
    rule = CalendarRoll()
    assert (rule.business_days_before, rule.reference, rule.kind) == (5, "auto", "calendar")
    assert rule.deadline is rule


@pytest.mark.parametrize("days", [-1, 251])
def test_calendar_roll_refuses_day_counts_outside_0_to_250(days: int) -> None:
    with pytest.raises(ValueError, match="business_days_before must be 0 to 250"):
        CalendarRoll(business_days_before=days)


def test_calendar_roll_refuses_an_unknown_reference() -> None:
    with pytest.raises(ValueError, match="reference 'expiry'"):
        CalendarRoll(reference="expiry")  # type: ignore[arg-type]


def test_crossover_rules_carry_a_calendar_deadline() -> None:
    assert VolumeCrossover().deadline == CalendarRoll()
    assert VolumeCrossover().kind == "volume"
    assert OpenInterestCrossover(confirm_bars=3).confirm_bars == 3
    with pytest.raises(ValueError, match="confirm_bars must be an int >= 1"):
        OpenInterestCrossover(confirm_bars=True)


def test_adjustment_kinds() -> None:
    assert [a.value for a in Adjustment] == [
        "none",
        "difference",
        "ratio",
        "forward",
        "forward-ratio",
    ]
    assert [a.is_ratio for a in Adjustment] == [False, False, True, False, True]
    assert [a.is_forward for a in Adjustment] == [False, False, False, True, True]
    assert [a.identity for a in Adjustment] == [0.0, 0.0, 1.0, 0.0, 1.0]


def test_roll_dates_refuse_a_roll_after_the_day_following_expiry() -> None:
    ContractRollDates(contract="ESH2024", last_trade=date(2024, 3, 15), roll_date=date(2024, 3, 16))
    with pytest.raises(ValueError, match="ESH2024: roll date 2024-03-17 is after"):
        ContractRollDates(
            contract="ESH2024", last_trade=date(2024, 3, 15), roll_date=date(2024, 3, 17)
        )


def test_roll_event_gap_is_new_minus_old() -> None:
    assert event(8, "ESH2024", "ESM2024").gap == 5164.50 - 5104.00 == 60.50


def test_roll_schedule_requires_rolls_in_time_order_along_the_chain() -> None:
    first, second = event(8, "ESH2024", "ESM2024"), event(14, "ESM2024", "ESU2024")
    schedule = RollSchedule(adjustment=Adjustment.DIFFERENCE, events=(first, second))
    assert len(schedule) == 2
    assert list(schedule) == [first, second]
    with pytest.raises(ValueError, match="is not after"):
        RollSchedule(adjustment=Adjustment.DIFFERENCE, events=(second, first))
    with pytest.raises(ValueError, match="roll from ESU2024 follows a roll into ESM2024"):
        RollSchedule(adjustment=Adjustment.NONE, events=(first, event(14, "ESU2024", "ESZ2024")))


def test_roll_schedule_records_include_the_gap() -> None:
    schedule = RollSchedule(adjustment=Adjustment.NONE, events=(event(8, "ESH2024", "ESM2024"),))
    (record,) = schedule.as_records()
    assert record["from_contract"] == "ESH2024"
    assert record["gap"] == 60.50
