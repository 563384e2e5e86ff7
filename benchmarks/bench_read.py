"""Speed of reading a market's history back from the local store.

Stores ten years of synthetic 1-minute ES bars (about 3.5 million rows: 23 hours a weekday,
each quarterly contract stored for the quarter before its expiry, 40 contracts), then times
whole reads (goal: < 0.2 s), a one-contract read and a one-month window, best of ``--repeat``.

Run: ``.venv/bin/python benchmarks/bench_read.py [--years 10] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from contango.data.schema import BAR_SCHEMA
from contango.data.store import LocalParquetStore, open_store

_NS_PER_MINUTE = 60 * 10**9
_QUARTERS = {3: "H", 6: "M", 9: "U", 12: "Z"}


def synthetic_minutes(years: int, rng: np.random.Generator) -> pa.Table:
    """1-minute bars of ES-like contracts, each covering the quarter before its expiry."""
    first = 2014
    days = np.arange(np.datetime64(f"{first}-01-01"), np.datetime64(f"{first + years}-01-01"))
    days = days[np.is_busday(days)]
    minutes = np.arange(23 * 60, dtype=np.int64) * _NS_PER_MINUTE
    ts = (days.astype("datetime64[ns]").astype(np.int64)[:, None] + minutes).ravel()
    months = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    years_of = days.astype("datetime64[Y]").astype(np.int64) + 1970
    quarter_month = ((months - 1) // 3 + 1) * 3
    labels = np.array(
        [f"ES{_QUARTERS[m]}{y}" for m, y in zip(quarter_month, years_of, strict=True)]
    )
    contract = np.repeat(labels, minutes.size)
    ticks = 8000 + np.cumsum(rng.integers(-2, 3, ts.size))
    close = ticks * 0.25
    spread = rng.integers(0, 3, ts.size) * 0.25
    return pa.table(
        {
            "ts": pa.array(ts).cast(pa.timestamp("ns", tz="UTC")),
            "contract": contract,
            "open": close,
            "high": close + spread,
            "low": close - spread,
            "close": close,
            "volume": rng.integers(0, 2000, ts.size),
            "open_interest": pa.nulls(ts.size, pa.int64()),
        },
        schema=BAR_SCHEMA,
    )


def best_of(repeat: int, read: Callable[[], pa.Table]) -> tuple[float, int]:
    """Fastest of ``repeat`` runs, and the rows read."""
    best, rows = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        rows = read().num_rows
        best = min(best, time.perf_counter() - started)
    return best, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    table = synthetic_minutes(args.years, np.random.default_rng(7))
    with tempfile.TemporaryDirectory() as tmp:
        store: LocalParquetStore = open_store(Path(tmp))
        started = time.perf_counter()
        version = store.commit("ES.1m", table, kind="bars")
        seconds = time.perf_counter() - started
        print(
            f"commit: {version.rows:,} rows, {len(version.contracts)} contracts in "
            f"{seconds:.2f} s ({version.rows / seconds:,.0f} rows/s)"
        )
        del table
        one = version.contracts[len(version.contracts) // 2]
        month = (datetime(2018, 3, 1, tzinfo=UTC), datetime(2018, 4, 1, tzinfo=UTC))
        cases: dict[str, Callable[[], pa.Table]] = {
            "whole market": lambda: store.read("ES.1m"),
            "pinned version": lambda: store.read("ES.1m", version=version.id),
            "close only": lambda: store.read("ES.1m", columns=["ts", "contract", "close"]),
            f"one contract ({one})": lambda: store.read("ES.1m", contracts=[one]),
            "one month window": lambda: store.read("ES.1m", start=month[0], end=month[1]),
        }
        for label, read in cases.items():
            best, rows = best_of(args.repeat, read)
            print(f"{label:>26}: {rows:>10,} rows in {best:.3f} s ({rows / best:,.0f} rows/s)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB (includes generating the data)")


if __name__ == "__main__":
    main()
