"""Figures for the sample generator: generation speed per market and the full default load.

Run: ``.venv/bin/python benchmarks/bench_samples.py`` (about half a minute on two cores).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from contango.data.registry import load_registry
from contango.data.samples import DEFAULT_END, DEFAULT_SEED, generate_chain
from contango.data.samples.load import DEFAULT_MINUTE_MARKETS, minute_window, years_before
from contango.settings import get_settings


def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def bench_generation() -> None:
    registry = load_registry()
    start = years_before(DEFAULT_END, 20)
    rows = 0
    began = time.perf_counter()
    for spec in registry.specs():
        rows += generate_chain(
            spec, start=start, end=DEFAULT_END, bar="1d", seed=DEFAULT_SEED
        ).num_rows
    elapsed = time.perf_counter() - began
    print(
        f"daily, 20 years, {len(registry)} markets: {rows:,} rows in {elapsed:.2f} s "
        f"({rows / elapsed:,.0f} rows/s)"
    )
    for root in DEFAULT_MINUTE_MARKETS:
        spec = registry.spec(root)
        first = minute_window(spec, DEFAULT_END, 63)
        began = time.perf_counter()
        table = generate_chain(spec, start=first, end=DEFAULT_END, bar="1m", seed=DEFAULT_SEED)
        elapsed = time.perf_counter() - began
        print(f"1-minute {root}, 63 sessions: {table.num_rows:,} rows in {elapsed:.2f} s")


def bench_load() -> None:
    from contango.data.samples import load_samples  # after CONTANGO_DATA_DIR is set

    began = time.perf_counter()
    results = load_samples()
    elapsed = time.perf_counter() - began
    rows = sum(r.version.rows for r in results)
    warnings = sum(r.report.warning_count for r in results)
    size = _folder_mb(get_settings().store_dir)
    print(
        f"load_samples() default: {len(results)} datasets, {rows:,} rows, {warnings} warnings, "
        f"{size:.1f} MB on disk, {elapsed:.1f} s"
    )


if __name__ == "__main__":
    bench_generation()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CONTANGO_DATA_DIR"] = folder
        get_settings.cache_clear()
        bench_load()
