"""Reading a finished job's results folder for the API: metrics, curves, tables, CSV.

Results are Parquet tables and JSON written by the engine and the research runners; this module
only reads them, with pyarrow, so a page of a large trades table or a decimated equity curve
never loads more than it returns.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from contango.db.models import Job, JobStatus
from contango.engine.metrics import json_safe
from contango.errors import ConflictError, InvalidInputError, NotFoundError


@dataclass(frozen=True)
class TablePage:
    """Rows of one page of a results table, and how many rows match in all."""

    rows: list[dict[str, Any]]
    total: int


def result_folder(job: Job) -> Path:
    """The results folder of a finished job; ConflictError while it is not finished."""
    if job.status != JobStatus.SUCCEEDED or job.result_dir is None:
        raise ConflictError(f"job {job.id} has no results: it is {job.status}")
    folder = Path(job.result_dir)
    if not folder.is_dir():
        raise NotFoundError(f"the results of job {job.id} are no longer on disk")
    return folder


def read_json(folder: Path, name: str) -> dict[str, Any]:
    """A JSON document of the results folder."""
    path = folder / name
    if not path.is_file():
        raise NotFoundError(f"{name} is not part of these results")
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _read_table(folder: Path, name: str) -> pa.Table:
    path = folder / f"{name}.parquet"
    if not path.is_file():
        raise NotFoundError(f"table {name} is not part of these results")
    return pq.read_table(path)


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return json_safe(value)


def table_page(
    folder: Path,
    name: str,
    *,
    equals: dict[str, Any] | None = None,
    sort_by: str | None = None,
    descending: bool = False,
    limit: int,
    offset: int,
) -> TablePage:
    """A filtered, sorted page of a results table; unknown columns are a clear 422."""
    table = _read_table(folder, name)
    for column, value in (equals or {}).items():
        if value is None:
            continue
        kind = table.schema.field(column).type if column in table.schema.names else None
        if kind is None or not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            if table.num_rows == 0:
                continue  # an empty table is written without column types; nothing matches
            raise InvalidInputError(f"table {name} has no {column} column to filter by")
        table = table.filter(
            pc.equal(table[column], pa.scalar(value, table.schema.field(column).type))
        )
    if sort_by is not None:
        if sort_by not in table.schema.names:
            raise InvalidInputError(
                f"sort_by {sort_by!r} is not a column of {name}; columns: "
                + ", ".join(table.schema.names)
            )
        order = "descending" if descending else "ascending"
        table = table.take(pc.sort_indices(table, sort_keys=[(sort_by, order, "at_end")]))
    rows = table.slice(offset, limit).to_pylist()
    return TablePage(
        rows=[{key: _plain(value) for key, value in row.items()} for row in rows],
        total=table.num_rows,
    )


def table_csv(folder: Path, name: str) -> bytes:
    """A results table as CSV (ISO timestamps, one header line)."""
    buffer = io.BytesIO()
    pcsv.write_csv(_read_table(folder, name), buffer)
    return buffer.getvalue()


def _finite_or_none(values: np.ndarray) -> list[float | None]:
    """Floats for JSON: NaN (an undefined ratio, e.g. margin over zero equity) as None."""
    return [float(v) if np.isfinite(v) else None for v in values.tolist()]


def _every(n: int, max_points: int) -> np.ndarray:
    """Indices that keep at most ``max_points`` of ``n`` points, always the first and last."""
    if max_points <= 0 or n <= max_points:
        return np.arange(n)
    index = np.linspace(0, n - 1, max_points).round().astype(np.int64)
    return np.unique(index)


def equity_curve(folder: Path, max_points: int) -> dict[str, list[Any]]:
    """Equity, drawdown from the running peak, margin usage and exposure per bar.

    Time is epoch milliseconds (what charting libraries take). The drawdown is computed on every
    bar before thinning, so the deepest point is exact even when a long curve is decimated.
    """
    table = _read_table(folder, "account")
    equity = table["equity"].to_numpy()
    peak = np.maximum.accumulate(equity)
    drawdown = np.where(peak > 0, equity / peak - 1.0, 0.0)
    keep = _every(equity.shape[0], max_points)
    deepest = int(np.argmin(drawdown)) if drawdown.size else 0
    if drawdown.size and deepest not in set(keep.tolist()):
        keep = np.sort(np.append(keep, deepest))
    ts_ms = table["ts"].cast(pa.int64()).to_numpy() // 1_000_000
    return {
        "ts": ts_ms[keep].tolist(),
        "equity": equity[keep].tolist(),
        "drawdown": drawdown[keep].tolist(),
        "margin_usage": _finite_or_none(table["margin_usage"].to_numpy()[keep]),
        "exposure": table["exposure"].to_numpy()[keep].tolist(),
    }


def monthly_returns(folder: Path) -> list[dict[str, Any]]:
    """Return of each calendar month (UTC), from month-end equity, for the heatmap.

    The first month is measured from the starting equity, i.e. the first bar's equity.
    """
    table = _read_table(folder, "account")
    if table.num_rows == 0:
        return []
    months = table["ts"].to_numpy().astype("datetime64[M]")
    equity = table["equity"].to_numpy()
    last = np.flatnonzero(np.append(months[1:] != months[:-1], True))
    month_end = equity[last]
    previous = np.concatenate([[equity[0]], month_end[:-1]])
    values = month_end / previous - 1.0
    return [
        {"year": int(str(m)[:4]), "month": int(str(m)[5:7]), "return": json_safe(float(v))}
        for m, v in zip(months[last], values, strict=True)
    ]


def csv_page(folder: Path, name: str, limit: int, offset: int) -> TablePage:
    """A page of a CSV table of the results folder."""
    path = folder / f"{name}.csv"
    if not path.is_file():
        raise NotFoundError(f"table {name} is not part of these results")
    table = pcsv.read_csv(path)
    rows = table.slice(offset, limit).to_pylist()
    return TablePage(
        rows=[{key: _plain(value) for key, value in row.items()} for row in rows],
        total=table.num_rows,
    )


def columns(folder: Path, name: str) -> dict[str, list[Any]]:
    """A whole results table as columns; timestamps as epoch milliseconds."""
    table = _read_table(folder, name)
    out: dict[str, list[Any]] = {}
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            out[field.name] = (column.cast(pa.int64()).to_numpy() // 1_000_000).tolist()
        else:
            out[field.name] = [_plain(value) for value in column.to_pylist()]
    return out
