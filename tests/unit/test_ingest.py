"""Importing files: time zones, symbols, mapping, atomicity, streaming in small batches."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contango.data import ingest, ingest_read
from contango.data.ingest import bar_size, import_file, import_table
from contango.data.registry import get_registry
from contango.data.schema import BAR_SCHEMA, ColumnMapping, MappingError
from contango.data.store import open_store
from contango.data.validation import ValidationFailed

ES_DAILY = (
    "Date,Open,High,Low,Close,Volume,OpenInterest\n"
    "2024-01-02,4800.00,4810.25,4790.50,4805.00,1000,2000\n"
    "2024-01-03,4805.00,4812.00,4795.25,4800.25,1100,2100\n"
)


def write(tmp_path: Path, text: str, name: str = "file.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def stamps(table: pa.Table) -> list[datetime]:
    return table.column("ts").to_pylist()


def test_daily_csv_import_reads_back_exact_values(tmp_path: Path) -> None:
    result = import_file(write(tmp_path, ES_DAILY), contract="ESH24")

    assert result.created
    assert result.version.dataset == "ES.1d"
    table = open_store().read("ES.1d")
    assert table.schema == BAR_SCHEMA
    assert table.to_pylist()[1] == {
        "ts": datetime(2024, 1, 3, tzinfo=UTC),
        "contract": "ESH2024",
        "open": 4805.0,
        "high": 4812.0,
        "low": 4795.25,
        "close": 4800.25,
        "volume": 1100,
        "open_interest": 2100,
    }


def test_source_hash_is_the_sha256_of_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, ES_DAILY)
    result = import_file(path, contract="ESH24")
    source = result.version.source
    assert source is not None
    assert source.name == "file.csv"
    assert source.hash == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert source.size == len(ES_DAILY)


def test_naive_times_are_localized_then_converted_to_utc(tmp_path: Path) -> None:
    # Chicago is UTC-6 in January (CST) and UTC-5 in July (CDT).
    text = (
        "Timestamp,Open,High,Low,Close,Volume\n"
        "2024-01-02 08:30:00,75,75,75,75,1\n2024-01-02 08:31:00,75,75,75,75,1\n"
        "2024-07-01 08:30:00,75,75,75,75,1\n"
    )
    result = import_file(write(tmp_path, text), contract="CLQ24", timezone="America/Chicago")

    assert result.version.dataset == "CL.1m"
    assert stamps(open_store().read("CL.1m")) == [
        datetime(2024, 1, 2, 14, 30, tzinfo=UTC),
        datetime(2024, 1, 2, 14, 31, tzinfo=UTC),
        datetime(2024, 7, 1, 13, 30, tzinfo=UTC),
    ]


def test_trade_dates_are_not_shifted_by_the_time_zone(tmp_path: Path) -> None:
    import_file(write(tmp_path, ES_DAILY), contract="ESH24", timezone="America/Chicago")
    assert stamps(open_store().read("ES.1d")) == [
        datetime(2024, 1, 2, tzinfo=UTC),
        datetime(2024, 1, 3, tzinfo=UTC),
    ]


def test_offsets_in_the_text_win_over_the_time_zone_option(tmp_path: Path) -> None:
    text = (
        "Timestamp,Open,High,Low,Close,Volume\n"
        "2024-01-02T09:30:00-05:00,4800,4800,4800,4800,1\n"
        "2024-01-02T14:31:00Z,4800,4800,4800,4800,1\n"
    )
    import_file(write(tmp_path, text), contract="ESH24", timezone="Asia/Tokyo")
    assert stamps(open_store().read("ES.1m")) == [
        datetime(2024, 1, 2, 14, 30, tzinfo=UTC),
        datetime(2024, 1, 2, 14, 31, tzinfo=UTC),
    ]


def test_separate_date_and_time_columns_and_us_dates(tmp_path: Path) -> None:
    text = (
        "Date,Time,Open,High,Low,Close,Volume\n"
        "01/02/2024,09:30,4800,4800,4800,4800,1\n01/02/2024,10:30,4800,4800,4800,4800,1\n"
    )
    result = import_file(write(tmp_path, text), contract="ESH24", timezone="America/New_York")
    assert result.version.dataset == "ES.1h"
    assert stamps(open_store().read("ES.1h")) == [
        datetime(2024, 1, 2, 14, 30, tzinfo=UTC),
        datetime(2024, 1, 2, 15, 30, tzinfo=UTC),
    ]


def test_symbol_years_are_anchored_at_the_rows_year(tmp_path: Path) -> None:
    text = (
        "Date,Symbol,Open,High,Low,Close,Volume\n"
        "2014-09-02,ESZ4,2000,2000,2000,2000,1\n"
        "2024-09-03,ESZ4,5500,5500,5500,5500,1\n"
        "2024-09-03,esh25,5550,5550,5550,5550,1\n"
    )
    result = import_file(write(tmp_path, text), dataset="ES.1d")
    assert result.version.contracts == ("ESH2025", "ESZ2014", "ESZ2024")


def test_root_option_completes_short_symbols(tmp_path: Path) -> None:
    text = "Date,Contract,Open,High,Low,Close,Volume\n2024-01-02,Z24,75,75,75,75,1\n"
    result = import_file(write(tmp_path, text), root="CL")
    assert result.version.contracts == ("CLZ2024",)


def test_explicit_mapping_overrides_guessing(tmp_path: Path) -> None:
    text = "when,o,h,l,Last,settle,qty\n2024-01-02,75,76,74,75.5,75.25,10\n"
    mapping = ColumnMapping.parse(["when=ts", "Last=close", "qty=volume"])
    import_file(write(tmp_path, text), contract="CLF25", mapping=mapping)
    assert open_store().read("CL.1d").column("close").to_pylist() == [75.5]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"contract": "XXZ24"}, "unknown contract root"),
        ({"contract": "ESZ24", "timezone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"contract": "ESZ24", "mapping": ColumnMapping.parse(["Foo=close"])}, "no column 'Foo'"),
        ({}, "no contract"),
    ],
)
def test_usage_problems_raise_mapping_errors(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(MappingError, match=message):
        import_file(write(tmp_path, ES_DAILY), **kwargs)  # type: ignore[arg-type]


def test_file_with_errors_imports_nothing_and_keeps_previous_version(tmp_path: Path) -> None:
    good = import_file(write(tmp_path, ES_DAILY, "good.csv"), contract="ESH24")
    bad = ES_DAILY + "2024-01-04,4800,4790,4780,4800.25,10,1\n"  # high below open at row 3

    with pytest.raises(ValidationFailed) as failed:
        import_file(write(tmp_path, bad, "bad.csv"), contract="ESH24")

    assert [(f.code, f.row) for f in failed.value.report.errors] == [("high_below_open_close", 3)]
    store = open_store()
    assert [v.id for v in store.versions("ES.1d")] == [good.version.id]
    assert not list((store.root / "ES.1d").glob("tmp/*"))
    assert len(list((store.root / "ES.1d" / "fragments").iterdir())) == 1


def test_warnings_are_stored_with_the_version(tmp_path: Path) -> None:
    text = ES_DAILY + "2024-01-04,4800.10,4801,4799,4800,10,1\n"  # off the 0.25 grid
    result = import_file(write(tmp_path, text), contract="ESH24")
    stored = open_store().version("ES.1d", result.version.id).report
    assert stored is not None
    assert [(f.code, f.row, f.column) for f in stored.findings] == [("price_off_tick", 3, "open")]


def test_streaming_in_tiny_batches_gives_the_same_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file far larger than the batch size: the same rows, hash and findings as one batch."""
    n = 3000
    minutes = np.datetime64("2024-01-02T00:00") + np.arange(n)
    symbols = np.where(np.arange(n) % 2 == 0, "CLF25", "CLG25")  # interleaved contracts
    price = 70 + (np.arange(n) % 50) / 100
    lines = [
        f"{m},{s},{p:.2f},{p + 0.05:.2f},{p - 0.05:.2f},{p:.2f},{i % 7}\n"
        for i, (m, s, p) in enumerate(zip(minutes, symbols, price, strict=True))
    ]
    path = write(tmp_path, "Timestamp,Symbol,Open,High,Low,Close,Volume\n" + "".join(lines))
    whole = import_file(path, dataset="one")
    seen: list[int] = []
    real = ingest.Conformer.conform

    def spy(self: ingest.Conformer, batch: pa.Table, rows: np.ndarray) -> pa.Table:
        seen.append(batch.num_rows)
        return real(self, batch, rows)

    monkeypatch.setattr(ingest_read, "CSV_BLOCK_BYTES", 4096)
    monkeypatch.setattr(ingest.Conformer, "conform", spy)
    monkeypatch.setattr("contango.data.store_files._MAX_BUFFERED_ROWS", 100)
    streamed = import_file(path, dataset="many")

    assert len(seen) > 20
    assert max(seen) < 200
    assert sum(seen) == n
    assert streamed.version.content_hash == whole.version.content_hash
    assert open_store().read("many").equals(open_store().read("one"))


def test_parquet_with_aware_timestamps_and_epoch_seconds(tmp_path: Path) -> None:
    aware = pa.array([datetime(2024, 1, 2, 14, 30, tzinfo=UTC)], pa.timestamp("ms", tz="UTC"))
    table = pa.table(
        {
            "timestamp": aware,
            "symbol": ["ESH24"],
            "open": [4800.0],
            "high": [4800.25],
            "low": [4799.75],
            "close": [4800.0],
            "volume": [5],
        }
    )
    pq.write_table(table, tmp_path / "a.parquet")
    epoch = table.set_column(0, "timestamp", pa.array([1_704_205_860], pa.int64()))  # 14:31 UTC
    pq.write_table(epoch, tmp_path / "b.parquet")

    import_file(tmp_path / "a.parquet", dataset="ES.1m")
    import_file(tmp_path / "b.parquet", dataset="ES.1m")

    assert stamps(open_store().read("ES.1m")) == [
        datetime(2024, 1, 2, 14, 30, tzinfo=UTC),
        datetime(2024, 1, 2, 14, 31, tzinfo=UTC),
    ]


def test_ticks_import_with_quotes(tmp_path: Path) -> None:
    text = (
        "Timestamp,Symbol,Price,Size,Bid,Ask,BidSize,AskSize\n"
        "2024-01-02T14:30:00.000000001Z,ESH24,4800.25,2,4800.00,4800.25,10,12\n"
        "2024-01-02T14:30:00.000000001Z,ESH24,4800.25,1,4800.00,4800.25,10,11\n"
    )
    result = import_file(write(tmp_path, text), kind="ticks")
    assert result.version.dataset == "ES.ticks"
    rows = open_store().read("ES.ticks").to_pylist()
    assert [(r["price"], r["size"], r["bid_size"], r["ask_size"]) for r in rows] == [
        (4800.25, 2, 10, 12),
        (4800.25, 1, 10, 11),
    ]


def test_import_table_checks_and_commits(tmp_path: Path) -> None:
    spec = get_registry().spec("ES")
    ts = pa.array(
        [datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC)],
        pa.timestamp("ns", tz="UTC"),
    )
    table = pa.table(
        {
            "ts": ts,
            "contract": ["ESH2024"] * 2,
            "open": [1.0, 1.0],
            "high": [1.25, 1.25],
            "low": [1.0, 1.0],
            "close": [1.0, 1.25],
            "volume": pa.array([1, 2], pa.int64()),
        }
    )
    result = import_table(table, dataset="ES.1d", spec=spec, author="sampler")
    assert (result.version.rows, result.version.author) == (2, "sampler")

    broken = table.set_column(3, "high", pa.array([1.0, 0.5]))  # high below close on row 2
    with pytest.raises(ValidationFailed, match="high_below_open_close"):
        import_table(broken, dataset="ES.1d", spec=spec)
    assert len(open_store().versions("ES.1d")) == 1


def test_bar_size_names() -> None:
    def table(minutes: list[int]) -> pa.Table:
        ts = np.datetime64("2024-01-02T00:00", "ns") + np.array(minutes) * 60_000_000_000
        return pa.table({"ts": pa.array(ts), "contract": ["CLF25"] * len(minutes)})

    assert bar_size(table([0, 1440, 2880])) == "1d"
    assert bar_size(table([1, 6, 11, 21])) == "5m"  # the most common step wins
    assert bar_size(table([60, 120, 180])) == "1h"


def test_a_dataset_holds_one_market(tmp_path: Path) -> None:
    import_file(write(tmp_path, ES_DAILY), contract="ESH24", dataset="mine")
    with pytest.raises(MappingError, match="holds ES contracts, not CL"):
        import_file(write(tmp_path, ES_DAILY), contract="CLH24", dataset="mine")


def test_header_only_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="no_rows"):
        import_file(write(tmp_path, "Date,Open,High,Low,Close,Volume\n"), contract="ESH24")
    assert open_store().datasets() == []


def test_interrupted_import_leaves_no_partial_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = import_file(write(tmp_path, ES_DAILY, "good.csv"), contract="ESH24")
    lines = [f"{np.datetime64('2024-02-01') + i},4800,4800,4800,4800,1\n" for i in range(300)]
    path = write(tmp_path, "Date,Open,High,Low,Close,Volume\n" + "".join(lines), "big.csv")
    calls = {"n": 0}
    real = ingest.Conformer.conform

    def interrupted(self: ingest.Conformer, batch: pa.Table, rows: np.ndarray) -> pa.Table:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the user pressed Ctrl-C after two batches were written
        return real(self, batch, rows)

    monkeypatch.setattr(ingest_read, "CSV_BLOCK_BYTES", 1024)
    monkeypatch.setattr("contango.data.store_files._MAX_BUFFERED_ROWS", 10)
    monkeypatch.setattr(ingest.Conformer, "conform", interrupted)
    with pytest.raises(KeyboardInterrupt):
        import_file(path, contract="ESH24")

    store = open_store()
    assert [v.id for v in store.versions("ES.1d")] == [good.version.id]
    assert store.read("ES.1d").num_rows == 2
    assert not list((store.root / "ES.1d").glob("tmp/*"))


def test_semicolons_blanks_in_header_and_gzip(tmp_path: Path) -> None:
    import gzip

    text = "Date; Open; High; Low; Close; Volume\n2024-01-02;75.10;75.20;75.00;75.15;3\n"
    path = tmp_path / "cl.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(text)
    result = import_file(path, contract="CLG24")
    assert open_store().read(result.version.dataset).column("close").to_pylist() == [75.15]


@pytest.mark.parametrize("block_bytes", [1 << 20, 64])
def test_hour_repeated_by_dst_end_is_resolved_by_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_bytes: int
) -> None:
    # Chicago, 3 Nov 2024: 01:00-01:59 CDT (UTC-5), then the clock goes back and 01:00-01:59
    # CST (UTC-6) follows. In time order the first pass is the earlier instant.
    local = ["00:59", "01:00", "01:30", "01:59", "01:00", "01:30", "01:59", "02:00"]
    text = "Timestamp,Open,High,Low,Close,Volume\n" + "".join(
        f"2024-11-03 {hm}:00,75,75,75,75,1\n" for hm in local
    )
    monkeypatch.setattr(ingest_read, "CSV_BLOCK_BYTES", block_bytes)
    result = import_file(write(tmp_path, text), contract="CLZ24", timezone="America/Chicago")

    utc = ["05:59", "06:00", "06:30", "06:59", "07:00", "07:30", "07:59", "08:00"]
    assert stamps(open_store().read(result.version.dataset)) == [
        datetime(2024, 11, 3, int(hm[:2]), int(hm[3:]), tzinfo=UTC) for hm in utc
    ]
    assert result.report.counts == {"ts_ambiguous": 6}
