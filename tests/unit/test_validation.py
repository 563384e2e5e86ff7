"""Every validation finding, triggered by a small hand-built file, at its exact row and column.

Rows are data rows: row 1 is the first line after the header.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contango.data import ingest_read
from contango.data.ingest import validate_file
from contango.data.registry import get_registry
from contango.data.schema import BAR_SCHEMA
from contango.data.validation import (
    MAX_LISTED,
    SEVERITY,
    Finding,
    ReportBuilder,
    ValidationReport,
)
from contango.data.validation_checks import BatchChecks

HEADER = "Date,Open,High,Low,Close,Volume\n"


def write(tmp_path: Path, text: str, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def where(report: ValidationReport, code: str) -> list[tuple[int | None, str | None]]:
    return [(f.row, f.column) for f in report.findings if f.code == code]


def test_clean_file_has_no_findings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER + "2024-01-02,4800,4801,4799,4800.25,10\n2024-01-03,4800.25,4802,4800,4801.5,12\n",
    )
    report = validate_file(path, contract="ESH24")
    assert report.findings == ()
    assert report.ok
    assert report.rows == 2


def test_ohlc_inconsistencies_are_errors_at_their_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "2024-01-02,4800,4801,4799,4800,10\n"
        + "2024-01-03,4800,4799.75,4790,4795,10\n"  # high 4799.75 < open 4800
        + "2024-01-04,4795,4800,4797,4796,10\n"  # low 4797 > close 4796
        # row 4: high < low, and both on the wrong side of open and close
        + "2024-01-05,4795,4790,4800,4795,10\n",
    )
    report = validate_file(path, contract="ESH24")
    assert where(report, "high_below_open_close") == [(2, "high"), (4, "high")]
    assert where(report, "low_above_open_close") == [(3, "low"), (4, "low")]
    assert where(report, "high_below_low") == [(4, "high")]
    assert not report.ok


def test_duplicate_and_unsorted_times_per_contract(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "2024-01-02,1,1,1,1,1\n2024-01-03,1,1,1,1,1\n"
        + "2024-01-03,1,1,1,1,1\n"  # row 3 repeats row 2
        # row 4 goes back in time
        + "2024-01-02,1,1,1,1,1\n",
    )
    report = validate_file(path, contract="ESH24")
    assert where(report, "ts_duplicate") == [(3, "ts")]
    assert where(report, "ts_unsorted") == [(4, "ts")]
    assert report.findings[0].contract == "ESH2024"


def test_contracts_may_interleave_when_each_is_in_time_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Date,Symbol,Open,High,Low,Close,Volume\n"
        "2024-01-02,ESH24,1,1,1,1,1\n2024-01-02,ESM24,2,2,2,2,1\n"
        "2024-01-03,ESH24,1,1,1,1,1\n2024-01-03,ESM24,2,2,2,2,1\n"
        "2024-01-02,ESU24,3,3,3,3,1\n",
    )
    report = validate_file(path)
    assert report.findings == ()


def test_prices_missing_zero_negative(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "2024-01-02,75,75,75,,1\n"  # close missing
        + "2024-01-03,0,75,0,75,1\n"  # open and low 0
        # a negative CL day is real (20 April 2020): a warning
        + "2024-01-06,-1,-0.5,-2,-1.5,1\n",
    )
    report = validate_file(path, contract="CLK24")
    assert where(report, "price_missing") == [(1, "close")]
    assert where(report, "price_zero") == [(2, "open"), (2, "low")]
    assert where(report, "price_negative") == [(3, "open"), (3, "high"), (3, "low"), (3, "close")]
    assert SEVERITY["price_negative"] == "warning"


def test_off_tick_prices_with_float_tolerance(tmp_path: Path) -> None:
    # CL tick 0.01: 75.23 is 7522.999999999999 ticks in float64 and must pass; 75.235 fails.
    cl = write(tmp_path, HEADER + "2024-01-02,75.23,75.29,75.01,75.235,1\n", "cl.csv")
    assert where(validate_file(cl, contract="CLK24"), "price_off_tick") == [(1, "close")]
    # ES tick 0.25: 4800.10 is off the grid.
    es = write(tmp_path, HEADER + "2024-01-02,4800.10,4801,4799,4800.75,1\n", "es.csv")
    report = validate_file(es, contract="ESH24")
    assert where(report, "price_off_tick") == [(1, "open")]
    assert report.findings[0].value == "4800.1"
    assert report.ok  # a warning only


def test_negative_missing_and_fractional_volume(tmp_path: Path) -> None:
    path = write(
        tmp_path, HEADER + "2024-01-02,1,1,1,1,-5\n2024-01-03,1,1,1,1,\n2024-01-04,1,1,1,1,2.5\n"
    )
    report = validate_file(path, contract="ESH24")
    assert where(report, "quantity_negative") == [(1, "volume")]
    assert where(report, "quantity_missing") == [(2, "volume"), (3, "volume")]
    assert where(report, "unreadable") == [(3, "volume")]


def test_missing_business_day_of_daily_bars_is_a_warning(tmp_path: Path) -> None:
    # CME_Equity: 2024-01-12 (Fri) is a business day; 2024-01-15 is MLK day, a holiday.
    path = write(
        tmp_path,
        HEADER + "".join(f"2024-01-{d},4800,4801,4799,4800,1\n" for d in ("10", "11", "16", "17")),
    )
    report = validate_file(path, contract="ESH24")
    missing = [f for f in report.findings if f.code == "missing_session"]
    assert [(f.value, f.contract, f.severity) for f in missing] == [
        ("2024-01-12", "ESH2024", "warning")
    ]


def test_spike_that_comes_back_is_flagged_but_a_gap_that_stays_is_not(tmp_path: Path) -> None:
    closes = [75.00, 75.10, 75.05, 75.20, 7.52, 75.25, 75.30, 75.20, 60.00, 60.10, 60.05]
    days = np.arange(np.datetime64("2024-01-02"), np.datetime64("2024-02-01"))
    days = days[np.is_busday(days)][: len(closes)]
    path = write(
        tmp_path,
        HEADER + "".join(f"{d},{c},{c},{c},{c},1\n" for d, c in zip(days, closes, strict=True)),
    )
    report = validate_file(path, contract="CLK24")
    # Row 5 (7.52) jumps -2.30 in log terms and row 6 comes straight back; the drop to 60.00
    # at row 9 stays and is no spike.
    assert where(report, "price_spike") == [(5, "close")]


def test_crossed_quotes_in_ticks_and_equal_tick_times_allowed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Timestamp,Price,Size,Bid,Ask\n"
        "2024-01-02T14:30:00.000,4800.25,1,4800.00,4800.25\n"
        "2024-01-02T14:30:00.000,4800.25,2,4800.00,4800.25\n"
        "2024-01-02T14:30:00.001,4800.50,1,4800.75,4800.50\n",
    )
    report = validate_file(path, contract="ESH24", kind="ticks")
    assert [(f.code, f.row, f.column) for f in report.findings] == [("quote_crossed", 3, "bid")]


def test_dst_nonexistent_is_error_and_ambiguous_is_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Timestamp,Open,High,Low,Close,Volume\n"
        "2024-03-10 01:59:00,75,75,75,75,1\n"
        "2024-03-10 02:30:00,75,75,75,75,1\n"  # skipped: clocks go 02:00 -> 03:00
        # repeated: 01:00-02:00 happens twice
        "2024-11-03 01:30:00,75,75,75,75,1\n",
    )
    report = validate_file(path, contract="CLK24", timezone="America/Chicago")
    assert where(report, "ts_nonexistent") == [(2, "ts")]
    assert where(report, "ts_ambiguous") == [(3, "ts")]


def test_unreadable_number_is_reported_at_its_row_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2024-01-02,1,1,1,1,1\n2024-01-03,1,abc,1,1,1\n")
    report = validate_file(path, contract="ESH24")
    assert where(report, "unreadable") == [(2, "high")]
    assert report.findings[0].value == "abc"
    assert not report.ok


def test_unparsable_timestamp_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2024-01-02,1,1,1,1,1\nnot a date,1,1,1,1,1\n")
    report = validate_file(path, contract="ESH24")
    assert where(report, "unreadable") == [(2, "ts")]


def test_symbols_unknown_or_of_another_root(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Date,Symbol,Open,High,Low,Close,Volume\n"
        "2024-01-02,ESH24,1,1,1,1,1\n2024-01-02,XXH24,1,1,1,1,1\n"
        "2024-01-02,CLH24,1,1,1,1,1\n2024-01-03,,1,1,1,1,1\n",
    )
    report = validate_file(path)
    assert where(report, "contract_unknown") == [(2, "Symbol")]
    assert where(report, "contract_other_root") == [(3, "Symbol")]
    assert where(report, "contract_missing") == [(4, "Symbol")]


def test_findings_are_capped_per_code_with_total_count(tmp_path: Path) -> None:
    rows = "".join(f"{np.datetime64('2020-01-01') + i},1,0.5,1,1,1\n" for i in range(150))
    report = validate_file(write(tmp_path, HEADER + rows), contract="ESH24")
    listed = [f for f in report.findings if f.code == "high_below_open_close"]
    assert len(listed) == MAX_LISTED
    assert report.counts["high_below_open_close"] == 150
    assert listed[-1].row == 100


def test_problems_across_batch_boundaries_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 40 rows in blocks of ~64 bytes: every row pair straddles some batch boundary.
    days = [np.datetime64("2024-01-01") + i for i in range(40)]
    lines = [f"{d},1,1,1,1,1\n" for d in days]
    lines[30] = lines[29]  # duplicate at row 31
    lines[35] = f"{days[20]},1,1,1,1,1\n"  # back in time at row 36
    monkeypatch.setattr(ingest_read, "CSV_BLOCK_BYTES", 64)
    report = validate_file(write(tmp_path, HEADER + "".join(lines)), contract="ESH24")
    assert where(report, "ts_duplicate") == [(31, "ts")]
    assert where(report, "ts_unsorted") == [(36, "ts")]


def test_batch_checks_carry_state_per_contract() -> None:
    spec = get_registry().spec("ES")
    out = ReportBuilder("batches")
    checks = BatchChecks(out, "bars", spec)

    def batch(contracts: list[str], days: list[str]) -> pa.Table:
        n = len(days)
        ts = pa.array(np.array(days, dtype="datetime64[ns]")).cast(pa.timestamp("ns", tz="UTC"))
        one = np.ones(n)
        return pa.table(
            {
                "ts": ts,
                "contract": contracts,
                "open": one,
                "high": one,
                "low": one,
                "close": one,
                "volume": np.ones(n, np.int64),
                "open_interest": pa.nulls(n, pa.int64()),
            },
            schema=BAR_SCHEMA,
        )

    checks.check(batch(["ESH2024", "ESM2024"], ["2024-01-03", "2024-01-05"]), np.array([1, 2]))
    # Next batch: ESM2024 repeats its last time (row 3), ESH2024 goes back (row 4).
    checks.check(batch(["ESM2024", "ESH2024"], ["2024-01-05", "2024-01-02"]), np.array([3, 4]))
    report = out.report()
    assert [(f.code, f.row, f.contract) for f in report.errors] == [
        ("ts_duplicate", 3, "ESM2024"),
        ("ts_unsorted", 4, "ESH2024"),
    ]


def test_report_round_trips_through_json_form() -> None:
    report = ValidationReport(
        source="x.csv",
        rows=3,
        counts={"price_off_tick": 2, "ts_duplicate": 1},
        findings=(
            Finding(
                severity="warning",
                code="price_off_tick",
                message="m",
                row=2,
                column="close",
                value="1.1",
                contract="ESH2024",
            ),
        ),
    )
    assert ValidationReport.from_dict(report.to_dict()) == report
    assert (report.error_count, report.warning_count) == (1, 2)
    assert report.without_errors().counts == {"price_off_tick": 2}


bars_strategy = st.lists(
    st.tuples(
        st.sampled_from(["ESH2024", "ESM2024"]),
        st.integers(0, 6),  # day offset: repeats and steps back happen often
        st.lists(st.integers(1, 12), min_size=4, max_size=4),  # o, h, l, c in ticks
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(rows=bars_strategy, split=st.integers(1, 40))
def test_checks_match_a_row_by_row_reference(
    rows: list[tuple[str, int, list[int]]], split: int
) -> None:
    """Vectorized, batched checks give the same rows as an obvious loop over the rows."""
    spec = get_registry().spec("ES")
    out = ReportBuilder("property")
    checks = BatchChecks(out, "bars", spec)
    table = pa.table(
        {
            "ts": pa.array(
                [np.datetime64("2024-01-01", "ns") + np.timedelta64(d, "D") for _, d, _ in rows]
            ).cast(pa.timestamp("ns", tz="UTC")),
            "contract": [c for c, _, _ in rows],
            "open": [p[0] * 0.25 for _, _, p in rows],
            "high": [p[1] * 0.25 for _, _, p in rows],
            "low": [p[2] * 0.25 for _, _, p in rows],
            "close": [p[3] * 0.25 for _, _, p in rows],
            "volume": pa.array([1] * len(rows), pa.int64()),
            "open_interest": pa.nulls(len(rows), pa.int64()),
        },
        schema=BAR_SCHEMA,
    )
    numbers = np.arange(1, len(rows) + 1, dtype=np.int64)
    for start in range(0, len(rows), split):
        checks.check(table.slice(start, split), numbers[start : start + split])
    got = out.report()

    expected: dict[str, list[int]] = {}
    last: dict[str, int] = {}
    for number, (contract, day, (o, h, lo, c)) in enumerate(rows, start=1):
        if h < max(o, c):
            expected.setdefault("high_below_open_close", []).append(number)
        if lo > min(o, c):
            expected.setdefault("low_above_open_close", []).append(number)
        if h < lo:
            expected.setdefault("high_below_low", []).append(number)
        if contract in last and day < last[contract]:
            expected.setdefault("ts_unsorted", []).append(number)
        if contract in last and day == last[contract]:
            expected.setdefault("ts_duplicate", []).append(number)
        last[contract] = day
    for code, numbers_expected in expected.items():
        assert sorted(f.row for f in got.findings if f.code == code) == numbers_expected
    assert {c for c in got.counts if SEVERITY[c] == "error"} == set(expected)


def test_spike_split_across_batches_is_found() -> None:
    spec = get_registry().spec("CL")
    out = ReportBuilder("batches")
    checks = BatchChecks(out, "bars", spec)
    closes = [75.00, 75.10, 75.05, 75.20, 7.52, 75.25, 75.30]  # row 5 is a bad print
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-01-08"))
    n = len(closes)
    table = pa.table(
        {
            "ts": pa.array(days.astype("datetime64[ns]")).cast(pa.timestamp("ns", tz="UTC")),
            "contract": ["CLK2024"] * n,
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "volume": pa.array([1] * n, pa.int64()),
            "open_interest": pa.nulls(n, pa.int64()),
        },
        schema=BAR_SCHEMA,
    )
    rows = np.arange(1, n + 1, dtype=np.int64)
    checks.check(table.slice(0, 5), rows[:5])  # the batch ends on the bad print
    checks.check(table.slice(5), rows[5:])  # and the next one brings the price back
    assert [(f.code, f.row) for f in out.report().findings] == [("price_spike", 5)]


def test_line_with_missing_fields_is_reported_with_its_text(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "2024-01-02,1,1,1,1,1\n2024-01-03,1,1,1\n")
    report = validate_file(path, contract="ESH24")
    [finding] = report.errors
    assert finding.code == "unreadable"
    assert "Expected 6 columns, got 4: 2024-01-03,1,1,1" in finding.message
