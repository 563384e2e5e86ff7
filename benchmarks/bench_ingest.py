"""Speed and memory of importing bar files (Parquet and CSV) into the local store.

Generates a synthetic CL-like 1-minute file in a temp folder: three contracts alive at once,
rows interleaved by time as vendor files often are, prices on the 0.01 tick grid. Each import
runs in a fresh child process so that its peak RSS (VmHWM) is its own; run with a larger
``--rows`` to see that the peak stays put while the file grows (memory is bounded by the batch
size, not by the file size). Goals: >= 2 million rows/s from Parquet, >= 1 million rows/s
from CSV, per core. The import overlaps reading and checking with a background writer thread
(and Arrow's own threads), so CPU seconds are printed next to wall seconds: rows per CPU
second is the per-core figure.

Run: ``.venv/bin/python benchmarks/bench_ingest.py [--rows 3000000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

_NS_PER_MINUTE = 60 * 10**9
_CONTRACTS = ("CLF25", "CLG25", "CLH25")


def synthetic_bars(rows: int, rng: np.random.Generator, contracts: int = 3) -> pa.Table:
    """``rows`` 1-minute CL bars, ``contracts`` contracts interleaved by time, on the tick grid."""
    per_contract = rows // contracts
    start = np.datetime64("2020-01-02T00:00", "ns").astype(np.int64)
    ts = start + np.arange(per_contract, dtype=np.int64) * _NS_PER_MINUTE
    parts = {
        "Timestamp": [],
        "Symbol": [],
        "Open": [],
        "High": [],
        "Low": [],
        "Close": [],
        "Volume": [],
    }
    for offset, symbol in enumerate(_CONTRACTS[:contracts]):
        ticks = 6000 + offset * 20 + np.cumsum(rng.integers(-3, 4, per_contract))
        ticks = np.maximum(ticks, 1000)
        close = ticks / 100
        open_ = np.concatenate([[close[0]], close[:-1]])
        spread = rng.integers(0, 4, per_contract) / 100
        parts["Timestamp"].append(ts)
        parts["Symbol"].append(np.full(per_contract, symbol))
        parts["Open"].append(open_)
        parts["High"].append(np.round(np.maximum(open_, close) + spread, 2))
        parts["Low"].append(np.round(np.minimum(open_, close) - spread, 2))
        parts["Close"].append(close)
        parts["Volume"].append(rng.integers(0, 500, per_contract))
    columns = {k: np.stack(v, axis=1).ravel() for k, v in parts.items()}  # interleave by time
    table = pa.table(columns)
    stamps = pa.array(columns["Timestamp"], pa.int64()).cast(pa.timestamp("ns", tz="UTC"))
    return table.set_column(0, "Timestamp", stamps)


def peak_rss_mb() -> float:
    """Peak resident memory of this process. Linux's VmHWM starts afresh at exec, while
    ``ru_maxrss`` keeps the parent's peak across fork and exec, so VmHWM is preferred."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(path: str) -> None:
    started = time.perf_counter()
    # One-off start-up (imports, contract registry, holiday calendars) is timed on its own.
    from contango.data.calendars import exchange_holidays
    from contango.data.ingest import import_file
    from contango.data.registry import get_registry

    exchange_holidays(get_registry().spec("CL").calendar)
    startup = time.perf_counter() - started
    base_mb = peak_rss_mb()
    started, cpu = time.perf_counter(), _cpu_seconds()
    result = import_file(path, dataset="CL.1m")
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    peak_mb = peak_rss_mb()
    # The same file again into another dataset: memory pools and page tables are warm, as
    # in a long-lived worker importing one file after another.
    started = time.perf_counter()
    import_file(path, dataset="CL.again")
    warm = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows": result.version.rows,
                "seconds": seconds,
                "warm": warm,
                "startup": startup,
                "peak_mb": peak_mb,
                "cpu": cpu,
                "base_mb": base_mb,
            }
        )
    )


def _measure(path: Path, data_dir: Path) -> dict[str, float]:
    env = {**os.environ, "CONTANGO_DATA_DIR": str(data_dir)}
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=3_000_000, help="rows per file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    rng = np.random.default_rng(20240102)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"{args.rows:,} 1-minute CL bars per file; each import in a fresh process")
        for contracts, layout in ((1, "one contract"), (3, "3 contracts interleaved")):
            table = synthetic_bars(args.rows, rng, contracts)
            parquet = folder / f"cl_{contracts}.parquet"
            csv = folder / f"cl_{contracts}.csv"
            pq.write_table(table, parquet, row_group_size=256 * 1024)
            pacsv.write_csv(table, csv)
            del table
            for path in (parquet, csv):
                figures = _measure(path, folder / f"store-{path.stem}-{path.suffix[1:]}")
                size_mb = path.stat().st_size / 2**20
                rows = figures["rows"]
                print(
                    f"{path.suffix[1:]:>8}, {layout}: {rows:,.0f} rows, {size_mb:,.0f} MB file\n"
                    f"          first import {figures['seconds']:.2f} s = "
                    f"{rows / figures['seconds']:,.0f} rows/s ({figures['cpu']:.2f} CPU s = "
                    f"{rows / figures['cpu']:,.0f} rows per CPU s); again "
                    f"{figures['warm']:.2f} s = {rows / figures['warm']:,.0f} rows/s\n"
                    f"          peak RSS {figures['peak_mb']:,.0f} MB "
                    f"(after start-up {figures['base_mb']:,.0f} MB; start-up "
                    f"{figures['startup']:.1f} s not counted)"
                )


if __name__ == "__main__":
    main()
