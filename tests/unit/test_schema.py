"""Canonical schemas and how vendor column names map onto them."""

from __future__ import annotations

import pyarrow as pa
import pytest

from contango.data.schema import (
    BAR_SCHEMA,
    TICK_SCHEMA,
    ColumnMapping,
    MappingError,
    empty_table,
    schema_for,
)


def test_bar_schema_is_the_shared_model() -> None:
    assert BAR_SCHEMA.names == [
        "ts",
        "contract",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "open_interest",
    ]
    assert BAR_SCHEMA.field("ts").type == pa.timestamp("ns", tz="UTC")
    assert BAR_SCHEMA.field("volume").type == pa.int64()
    assert BAR_SCHEMA.field("open_interest").nullable
    assert not BAR_SCHEMA.field("close").nullable
    assert TICK_SCHEMA.names == [
        "ts",
        "contract",
        "price",
        "size",
        "bid",
        "ask",
        "bid_size",
        "ask_size",
    ]
    assert empty_table("ticks").schema == TICK_SCHEMA
    with pytest.raises(ValueError, match="bars"):
        schema_for("candles")


def test_common_vendor_names_are_detected() -> None:
    columns = ["Date", "Time", "Open", "High", "Low", "Last", "Vol", "Open Interest", "Symbol"]
    assert ColumnMapping().resolve(columns, "bars") == {
        "date": "Date",
        "time": "Time",
        "open": "Open",
        "high": "High",
        "low": "Low",
        "close": "Last",
        "volume": "Vol",
        "open_interest": "Open Interest",
        "contract": "Symbol",
    }


def test_a_single_date_column_is_the_timestamp() -> None:
    resolved = ColumnMapping().resolve(["date", "o", "h", "l", "c", "v"], "bars")
    assert resolved["ts"] == "date"
    assert "date" not in resolved


def test_timestamp_column_wins_over_date_and_time() -> None:
    resolved = ColumnMapping().resolve(
        ["Timestamp", "Date", "Time", "Open", "High", "Low", "Close", "Volume"], "bars"
    )
    assert resolved["ts"] == "Timestamp"
    assert "date" not in resolved
    assert "time" not in resolved


def test_tick_names_map_volume_to_size() -> None:
    resolved = ColumnMapping().resolve(["Timestamp", "Price", "Volume", "Bid", "Ask"], "ticks")
    assert (resolved["size"], resolved["bid"], resolved["ask"]) == ("Volume", "Bid", "Ask")


def test_explicit_mapping_wins_and_frees_the_guessed_column() -> None:
    mapping = ColumnMapping.parse(["Settle=close", "Last = open"])
    resolved = mapping.resolve(["Date", "Last", "High", "Low", "Settle", "Volume"], "bars")
    assert (resolved["close"], resolved["open"]) == ("Settle", "Last")


@pytest.mark.parametrize(
    ("pairs", "columns", "message"),
    [
        (["Last"], ["Last"], "expected SOURCE=CANONICAL"),
        (["Last=price"], ["Last"], "'price' is not a bars column"),
        (["Px=close"], ["Last"], "no column 'Px'"),
        ([], ["Date", "Open", "High", "Low", "Close"], "no column for volume"),
    ],
)
def test_mapping_errors_say_what_is_wrong(
    pairs: list[str], columns: list[str], message: str
) -> None:
    with pytest.raises(MappingError, match=message):
        ColumnMapping.parse(pairs).resolve(columns, "bars")
