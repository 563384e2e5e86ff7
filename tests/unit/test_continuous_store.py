"""Roll dates from the exchange calendar, and continuous series read from the store.

Dates used (checked against the exchanges' published calendars):
* ES (cash-settled, no first notice day): ESH2024 last trades Friday 2024-03-15; five CME
  business days earlier is Friday 2024-03-08. ESM2024 last trades 2024-06-21; five business
  days earlier is 2024-06-13 because Juneteenth (Wednesday 2024-06-19) is a holiday.
* ZN (physically delivered): ZNH2024's first notice day is 2024-02-29 and its last trade day
  2024-03-19; ``auto`` counts back from the first notice day: five business days before
  2024-02-29 is 2024-02-22.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from contango.data.continuous_store import (
    ContinuousRequestError,
    chain_symbols,
    check_output_path,
    contract_roll_dates,
    load_continuous,
    rolls_path,
)
from contango.data.ingest import import_table
from contango.data.registry import get_registry
from contango.domain.expiry_rules import ExpiryRule
from contango.domain.rolls import Adjustment, CalendarRoll, ContractRollDates, VolumeCrossover


def test_calendar_roll_dates_count_exchange_business_days_before_the_last_trade_day() -> None:
    spec = get_registry().spec("ES")
    dates = contract_roll_dates(spec, ["ESH2024", "ESM2024"], CalendarRoll())
    assert dates == [
        ContractRollDates(
            contract="ESH2024", last_trade=date(2024, 3, 15), roll_date=date(2024, 3, 8)
        ),
        ContractRollDates(
            contract="ESM2024", last_trade=date(2024, 6, 21), roll_date=date(2024, 6, 13)
        ),
    ]


def test_auto_reference_counts_back_from_the_first_notice_day_for_delivered_markets() -> None:
    spec = get_registry().spec("ZN")
    (auto,) = contract_roll_dates(spec, ["ZNH2024"], CalendarRoll(reference="auto"))
    assert (auto.last_trade, auto.roll_date) == (date(2024, 3, 19), date(2024, 2, 22))
    (last,) = contract_roll_dates(spec, ["ZNH2024"], CalendarRoll(reference="last_trade"))
    # Five business days before Tuesday 2024-03-19: Tuesday 2024-03-12.
    assert last.roll_date == date(2024, 3, 12)


def test_crossover_rules_use_their_calendar_deadline() -> None:
    spec = get_registry().spec("ES")
    rule = VolumeCrossover(deadline=CalendarRoll(business_days_before=0))
    (dates,) = contract_roll_dates(spec, ["ESH2024"], rule)
    assert dates.roll_date == date(2024, 3, 15)


def test_a_first_notice_day_after_expiry_never_delays_the_roll_past_expiry() -> None:
    # A made-up market whose first notice day (last business day of the delivery month) comes
    # after its last trade day (the 10th, or the business day before): the roll counts back
    # from the last trade day instead.
    zn = get_registry().spec("ZN")
    spec = dataclasses.replace(
        zn,
        first_notice_rule=ExpiryRule(anchor="last_business_day"),
        last_trade_rule=ExpiryRule(anchor="day_of_month", day=10),
    )
    (dates,) = contract_roll_dates(spec, ["ZNH2024"], CalendarRoll(business_days_before=2))
    # Last trade Friday 2024-03-08 (the 10th is a Sunday); two business days before: 03-06.
    assert (dates.last_trade, dates.roll_date) == (date(2024, 3, 8), date(2024, 3, 6))


def test_a_stored_contract_of_another_root_is_refused() -> None:
    with pytest.raises(ValueError, match="CLF2025 is not a ES contract"):
        contract_roll_dates(get_registry().spec("ES"), ["CLF2025"], CalendarRoll())


def test_first_notice_reference_without_a_first_notice_day_is_a_request_error() -> None:
    with pytest.raises(ContinuousRequestError, match="no first notice day"):
        contract_roll_dates(
            get_registry().spec("ES"), ["ESH2024"], CalendarRoll(reference="first_notice")
        )


def es_bars(closes: dict[str, list[float]]) -> pa.Table:
    """Daily bars on 2024-03-06, 07, 08 and 11, as many as each contract has closes."""
    days = [datetime(2024, 3, d, tzinfo=UTC) for d in (6, 7, 8, 11)]
    rows = [(s, days[i], c) for s, cs in closes.items() for i, c in enumerate(cs)]
    return pa.table(
        {
            "ts": pa.array([r[1] for r in rows], pa.timestamp("ns", tz="UTC")),
            "contract": [r[0] for r in rows],
            **{name: [r[2] for r in rows] for name in ("open", "high", "low", "close")},
            "volume": [10] * len(rows),
        }
    )


def test_load_continuous_reads_the_latest_version_of_the_roots_daily_dataset() -> None:
    closes = {"ESH2024": [5100.0, 5101.0, 5102.0, 5103.0], "ESM2024": [5160.0, 5161.5, 5163.0]}
    version = import_table(es_bars(closes), dataset="ES.1d").version
    built = load_continuous("es", rule=CalendarRoll(), adjustment=Adjustment.DIFFERENCE)
    assert (built.dataset, built.version) == ("ES.1d", version.id)
    # ESH2024 on 03-06, 03-07; ESM2024 from the roll date 03-08. Gap on 03-07: 5161.5 - 5101.
    assert built.series.table.column("close").to_pylist() == [5160.5, 5161.5, 5163.0]
    assert built.series.table.column("contract").to_pylist()[0] == "ESH2024"


def test_a_listed_contract_missing_from_the_store_still_takes_its_turn() -> None:
    # ESM2024 is not stored. After ESH2024's roll date (03-08) ESM2024 is the front month
    # until 2024-06-13, so the stored ESU2024 bars of 03-08 and 03-11 are not the front month.
    bars = es_bars({"ESH2024": [5100.0, 5101.0], "ESU2024": [5220.0, 5221.0, 5222.0, 5223.0]})
    spec = get_registry().spec("ES")
    # Listed contracts expiring from the first bar to ESU2024's expiry, and the one after.
    assert chain_symbols(spec, bars) == ["ESH2024", "ESM2024", "ESU2024", "ESZ2024"]
    import_table(bars, dataset="ES.1d")
    built = load_continuous("ES", rule=CalendarRoll(), adjustment=Adjustment.RATIO)
    assert built.series.table.column("contract").to_pylist() == ["ESH2024", "ESH2024"]
    assert len(built.series.rolls) == 0


def test_unknown_dataset_names_the_datasets_of_the_root() -> None:
    with pytest.raises(ContinuousRequestError, match=r"datasets of CL: none"):
        load_continuous("CL", rule=CalendarRoll())


def test_output_suffix_decides_the_format_and_the_roll_schedule_file() -> None:
    assert rolls_path(Path("out/es.csv")) == Path("out/es.rolls.csv")
    assert rolls_path(Path("es.PARQUET")) == Path("es.rolls.parquet")
    check_output_path(Path("es.Parquet"))
    with pytest.raises(ContinuousRequestError, match=r"must be \.csv or \.parquet"):
        check_output_path(Path("es.json"))
