"""The canonical shape of market data in Contango, and how a user's columns map onto it.

Every importer, the store and every reader agree on two Arrow schemas: bars and ticks. Times
are UTC nanoseconds; an intraday bar is stamped with its start time, a daily bar with its trade
date at 00:00 UTC (a trade date is a label, not an instant, so it is never shifted by a time
zone). ``contract`` is the four-digit-year symbol (``ESZ2024``) so that symbols stay unique
across centuries of listings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

Kind = Literal["bars", "ticks"]
KINDS: tuple[str, ...] = ("bars", "ticks")

TS_TYPE = pa.timestamp("ns", tz="UTC")

BAR_SCHEMA = pa.schema(
    [
        pa.field("ts", TS_TYPE, nullable=False),
        pa.field("contract", pa.string(), nullable=False),
        pa.field("open", pa.float64(), nullable=False),
        pa.field("high", pa.float64(), nullable=False),
        pa.field("low", pa.float64(), nullable=False),
        pa.field("close", pa.float64(), nullable=False),
        pa.field("volume", pa.int64(), nullable=False),
        pa.field("open_interest", pa.int64(), nullable=True),
    ]
)

TICK_SCHEMA = pa.schema(
    [
        pa.field("ts", TS_TYPE, nullable=False),
        pa.field("contract", pa.string(), nullable=False),
        pa.field("price", pa.float64(), nullable=False),
        pa.field("size", pa.int64(), nullable=False),
        pa.field("bid", pa.float64(), nullable=True),
        pa.field("ask", pa.float64(), nullable=True),
        pa.field("bid_size", pa.int64(), nullable=True),
        pa.field("ask_size", pa.int64(), nullable=True),
    ]
)

# Columns a file must provide (after mapping); the others may be absent and are stored as null.
REQUIRED: dict[str, tuple[str, ...]] = {
    "bars": ("ts", "open", "high", "low", "close", "volume"),
    "ticks": ("ts", "price", "size"),
}

# Price columns checked for positivity and the tick grid, per kind.
PRICE_COLUMNS: dict[str, tuple[str, ...]] = {
    "bars": ("open", "high", "low", "close"),
    "ticks": ("price", "bid", "ask"),
}
QUANTITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "bars": ("volume", "open_interest"),
    "ticks": ("size", "bid_size", "ask_size"),
}

# Pseudo-targets a mapping may use besides the canonical columns: a separate date and time
# column (common in vendor exports) that together make ``ts``.
DATE, TIME = "date", "time"


def schema_for(kind: str) -> pa.Schema:
    """The canonical schema of ``kind`` (``"bars"`` or ``"ticks"``)."""
    if kind == "bars":
        return BAR_SCHEMA
    if kind == "ticks":
        return TICK_SCHEMA
    raise ValueError(f"kind must be 'bars' or 'ticks', got {kind!r}")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


# Header spellings seen in vendor files, normalised (lower case, letters and digits only).
_COMMON_NAMES: dict[str, dict[str, str]] = {
    "bars": {
        "ts": "ts",
        "timestamp": "ts",
        "datetime": "ts",
        "datetimeutc": "ts",
        "dt": "ts",
        "barstart": "ts",
        "timestamputc": "ts",
        "date": DATE,
        "tradedate": DATE,
        "day": DATE,
        "time": TIME,
        "bartime": TIME,
        "open": "open",
        "o": "open",
        "openprice": "open",
        "opn": "open",
        "high": "high",
        "h": "high",
        "hi": "high",
        "highprice": "high",
        "low": "low",
        "l": "low",
        "lo": "low",
        "lowprice": "low",
        "close": "close",
        "c": "close",
        "closeprice": "close",
        "last": "close",
        "settle": "close",
        "settlement": "close",
        "volume": "volume",
        "vol": "volume",
        "v": "volume",
        "totalvolume": "volume",
        "openinterest": "open_interest",
        "oi": "open_interest",
        "openint": "open_interest",
        "contract": "contract",
        "symbol": "contract",
        "ticker": "contract",
        "instrument": "contract",
        "sym": "contract",
    },
    "ticks": {
        "ts": "ts",
        "timestamp": "ts",
        "datetime": "ts",
        "datetimeutc": "ts",
        "dt": "ts",
        "timestamputc": "ts",
        "date": DATE,
        "tradedate": DATE,
        "time": TIME,
        "price": "price",
        "last": "price",
        "tradeprice": "price",
        "lastprice": "price",
        "size": "size",
        "qty": "size",
        "quantity": "size",
        "lastsize": "size",
        "volume": "size",
        "tradesize": "size",
        "bid": "bid",
        "bidprice": "bid",
        "ask": "ask",
        "askprice": "ask",
        "offer": "ask",
        "bidsize": "bid_size",
        "bidqty": "bid_size",
        "asksize": "ask_size",
        "askqty": "ask_size",
        "offersize": "ask_size",
        "contract": "contract",
        "symbol": "contract",
        "ticker": "contract",
        "instrument": "contract",
        "sym": "contract",
    },
}


class MappingError(ValueError):
    """The file's columns cannot be mapped onto the canonical schema (a usage problem)."""


@dataclass(frozen=True, kw_only=True)
class ColumnMapping:
    """Source column name -> canonical column name, e.g. ``{"Last": "close"}``.

    Targets are the canonical columns of the kind, or ``"date"`` and ``"time"`` for files that
    split the timestamp over two columns. Columns not named here are auto-detected from common
    spellings; columns that match nothing are ignored.
    """

    columns: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, pairs: Iterable[str]) -> ColumnMapping:
        """Build from ``"src=dst"`` strings as given on the command line."""
        columns: dict[str, str] = {}
        for pair in pairs:
            src, sep, dst = pair.partition("=")
            if not sep or not src.strip() or not dst.strip():
                raise MappingError(f"--map {pair!r}: expected SOURCE=CANONICAL, e.g. Last=close")
            columns[src.strip()] = dst.strip()
        return cls(columns=columns)

    def resolve(self, source_columns: Sequence[str], kind: str) -> dict[str, str]:
        """Canonical (or date/time) name -> source column, explicit names winning.

        Raises :class:`MappingError` naming the missing columns and the columns the file has.
        """
        schema = schema_for(kind)
        allowed = {*schema.names, DATE, TIME}
        resolved: dict[str, str] = {}
        for src, dst in self.columns.items():
            if dst not in allowed:
                raise MappingError(
                    f"--map {src}={dst}: {dst!r} is not a {kind} column; "
                    f"use one of {', '.join(sorted(allowed))}"
                )
            if src not in source_columns:
                raise MappingError(
                    f"--map {src}={dst}: the file has no column {src!r} "
                    f"(it has {', '.join(source_columns)})"
                )
            resolved[dst] = src
        explicit_sources = set(self.columns)
        common = _COMMON_NAMES[kind]
        for src in source_columns:
            guess = common.get(_norm(src))
            if guess is not None and guess not in resolved and src not in explicit_sources:
                resolved[guess] = src
        if "ts" in resolved:
            resolved.pop(DATE, None)
            resolved.pop(TIME, None)
        elif DATE in resolved and TIME not in resolved:
            resolved["ts"] = resolved.pop(DATE)
        missing = [c for c in REQUIRED[kind] if c not in resolved]
        if missing == ["ts"] and DATE in resolved:
            missing = []
        if missing:
            raise MappingError(
                f"no column for {', '.join(missing)} in {kind} file with columns "
                f"{', '.join(source_columns)}; name them with --map SOURCE=CANONICAL"
            )
        return resolved


def empty_table(kind: str) -> pa.Table:
    """A table with the canonical schema of ``kind`` and no rows."""
    return schema_for(kind).empty_table()
