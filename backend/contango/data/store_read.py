"""Reading a version's rows back: only the fragments that can hold the rows asked for.

A fragment's contract and time range are in the manifest, so choosing fragments opens no file;
inside a fragment, Parquet row-group statistics on ``ts`` skip what lies outside the window.
Fragments are read in parallel (Parquet decoding releases the GIL).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from contango.data.schema import schema_for
from contango.data.store_files import FragmentInfo, fragment_path


def read_fragments(
    folder: Path,
    kind: str,
    fragments: Sequence[FragmentInfo],
    *,
    contracts: Sequence[str] | None,
    start_ns: int | None,
    end_ns: int | None,
    columns: Sequence[str] | None,
) -> pa.Table:
    """Rows of the chosen fragments within [start, end), sorted by (contract, ts)."""
    schema = schema_for(kind)
    wanted = list(columns) if columns is not None else schema.names
    unknown = [c for c in wanted if c not in schema.names]
    if unknown:
        raise ValueError(f"no column {', '.join(unknown)} in {kind}; columns: {schema.names}")
    chosen = [
        f
        for f in sorted(fragments, key=lambda f: (f.contract, f.start))
        if (contracts is None or f.contract in contracts)
        and (start_ns is None or f.end >= start_ns)
        and (end_ns is None or f.start < end_ns)
    ]
    needed = list(dict.fromkeys(["contract", "ts", *wanted]))
    if not chosen:
        return schema.empty_table().select(wanted)

    ts_type = schema.field("ts").type

    def load(fragment: FragmentInfo) -> pa.Table:
        window = []
        if start_ns is not None and fragment.start < start_ns:
            window.append(("ts", ">=", pa.scalar(start_ns, pa.int64()).cast(ts_type)))
        if end_ns is not None and fragment.end >= end_ns:
            window.append(("ts", "<", pa.scalar(end_ns, pa.int64()).cast(ts_type)))
        return pq.read_table(
            fragment_path(folder, fragment.hash),
            columns=needed,
            filters=window or None,
            schema=schema,
        )

    if len(chosen) == 1:
        tables = [load(chosen[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            tables = list(pool.map(load, chosen))
    table = pa.concat_tables(tables)
    overlapping = any(
        a.contract == b.contract and b.start <= a.end for a, b in itertools.pairwise(chosen)
    )
    if overlapping:
        table = table.sort_by([("contract", "ascending"), ("ts", "ascending")])
    return table.select(wanted)
