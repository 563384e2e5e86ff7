"""Reading source files batch by batch, in bounded memory, hashing them on the way.

CSV goes through ``pyarrow.csv.open_csv``'s streaming reader fed by a Python reader that
hashes the bytes and reports progress as they pass, so a 10 GB file is read once. Parquet is
read one row group at a time. Batches come with their 1-based data row numbers.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from contango.data.schema import DATE, TIME, MappingError, schema_for
from contango.data.store import SourceInfo
from contango.data.validation import ReportBuilder

Progress = Callable[[int, int], None]  # (bytes done, bytes in total)
Batches = Iterator[tuple[pa.Table, npt.NDArray[np.int64]]]
CSV_BLOCK_BYTES = 4 << 20  # bounds memory: the reader holds a few dozen blocks in flight
PARQUET_BATCH_ROWS = 256 * 1024
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


def is_parquet(path: Path) -> bool:
    """Whether ``path`` is read as Parquet (else as CSV, optionally gzip-compressed)."""
    return path.name.lower().endswith(PARQUET_SUFFIXES)


def source_columns(path: Path) -> list[str]:
    """The column names of a file: the Parquet schema or the CSV header row."""
    if is_parquet(path):
        return list(pq.ParquetFile(path).schema_arrow.names)
    return _csv_header(path)


class _HashingReader(io.RawIOBase):
    """Reads a file once for the CSV parser, hashing it and reporting progress on the way."""

    def __init__(self, path: Path, progress: Progress | None) -> None:
        self._file = path.open("rb")
        self._total = path.stat().st_size
        self._done = 0
        self._progress = progress
        self.hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = self._file.readinto(buffer)
        if n:
            self.hash.update(memoryview(buffer)[:n])
            self._done += n
            if self._progress is not None:
                self._progress(self._done, self._total)
        return n or 0

    def close(self) -> None:
        self._file.close()
        super().close()


def _csv_header(path: Path) -> list[str]:
    return _csv_dialect(path)[0]


def _csv_dialect(path: Path) -> tuple[list[str], str]:
    """Column names (blanks around them removed) and the delimiter, from the header row.

    The delimiter is the most frequent of ``,`` ``;`` tab ``|`` in the header, since
    European vendors often write ``;``.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8-sig") as handle:
        line = handle.readline()
    delimiter = max(",;\t|", key=line.count)
    first = next(csv.reader([line], delimiter=delimiter), None)
    if not first or not line.strip():
        raise MappingError(f"{path.name}: empty file, expected a header row")
    return [name.strip() for name in first], delimiter


def csv_batches(
    path: Path,
    columns: dict[str, str],
    kind: str,
    builder: ReportBuilder,
    progress: Progress | None,
) -> tuple[Batches, Callable[[], SourceInfo]]:
    schema = schema_for(kind)
    types: dict[str, pa.DataType] = {}
    for canonical, column in columns.items():
        if canonical in ("ts", "contract", DATE, TIME):
            types[column] = pa.string()
        else:
            types[column] = (
                pa.float64()
                if schema.field(canonical).type == pa.int64()
                else (schema.field(canonical).type)
            )
    raw = _HashingReader(path, progress)
    stream: pa.NativeFile = pa.PythonFile(raw, mode="r")
    if path.suffix == ".gz":
        stream = pa.CompressedInputStream(stream, "gzip")
    names, delimiter = _csv_dialect(path)
    # Our own (stripped) header names, so that " Close" in the file maps as "Close".
    read_options = pacsv.ReadOptions(
        block_size=CSV_BLOCK_BYTES, encoding="utf8", column_names=names, skip_rows=1
    )
    parse_options = pacsv.ParseOptions(delimiter=delimiter)
    convert_options = pacsv.ConvertOptions(
        column_types=types, include_columns=list(types), strings_can_be_null=True
    )

    def batches() -> Batches:
        done = 0
        try:
            # The reader parses its first block when opened, so a bad value there raises here.
            reader = pacsv.open_csv(
                stream,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
            while True:
                batch = reader.read_next_batch()
                rows = np.arange(done + 1, done + batch.num_rows + 1, dtype=np.int64)
                done += batch.num_rows
                yield pa.Table.from_batches([batch]), rows
        except StopIteration:
            return
        except pa.ArrowInvalid as exc:
            canonical = {source: name for name, source in columns.items()}
            if not _locate_unreadable(
                path,
                options=(read_options, parse_options),
                types=types,
                canonical=canonical,
                first_row=done + 1,
                builder=builder,
            ):
                builder.add("unreadable", f"{exc} (in the block starting at data row {done + 1})")
        finally:
            raw.close()

    def describe() -> SourceInfo:
        return SourceInfo(
            name=path.name, hash=f"sha256:{raw.hash.hexdigest()}", size=path.stat().st_size
        )

    return batches(), describe


_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


def _locate_unreadable(
    path: Path,
    *,
    options: tuple[pacsv.ReadOptions, pacsv.ParseOptions],
    types: dict[str, pa.DataType],
    canonical: dict[str, str],
    first_row: int,
    builder: ReportBuilder,
) -> bool:
    """After the reader refused a block (its error names the column, not the row), read the
    file again as text from that block on and report each value that is not a number with
    its row. Only bad files pay for this second reading; it stops after the first bad block.
    """
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(types, pa.string()),
        include_columns=list(types),
        strings_can_be_null=True,
    )
    numeric = [c for c, kind in types.items() if pa.types.is_floating(kind)]
    done = 0
    try:
        reader = pacsv.open_csv(
            str(path), read_options=options[0], parse_options=options[1], convert_options=convert
        )
        for batch in reader:
            rows = np.arange(done + 1, done + batch.num_rows + 1, dtype=np.int64)
            done += batch.num_rows
            if done >= first_row and _report_non_numbers(batch, numeric, rows, canonical, builder):
                return True
    except pa.ArrowInvalid:
        pass  # a broken line (wrong number of fields): the reader's own message says which
    return False


def _report_non_numbers(
    batch: pa.RecordBatch,
    numeric: list[str],
    rows: npt.NDArray[np.int64],
    canonical: dict[str, str],
    builder: ReportBuilder,
) -> bool:
    found = False
    for column in numeric:
        text = batch.column(column)
        match = pc.fill_null(pc.match_substring_regex(text, _NUMBER), True)
        bad = ~match.to_numpy(zero_copy_only=False)
        if bad.any():
            found = True
            name = canonical.get(column, column)
            builder.add_rows(
                "unreadable",
                bad,
                rows,
                column=name,
                values=text.to_numpy(zero_copy_only=False),
                message=f"{name} {{value!r}} is not a number",
            )
    return found


def parquet_batches(
    path: Path, columns: dict[str, str], progress: Progress | None
) -> tuple[Batches, Callable[[], SourceInfo]]:
    size = path.stat().st_size
    with path.open("rb") as handle:
        digest: str = hashlib.file_digest(handle, "sha256").hexdigest()
    parquet = pq.ParquetFile(path)
    total_rows = max(parquet.metadata.num_rows, 1)

    def batches() -> Batches:
        # One row group at a time: ``iter_batches`` reads ahead and its memory grows with
        # the file, while a row group is a bound the file's writer chose.
        done = 0
        wanted = list(dict.fromkeys(columns.values()))
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group, columns=wanted)
            for offset in range(0, table.num_rows, PARQUET_BATCH_ROWS):
                part = table.slice(offset, PARQUET_BATCH_ROWS)
                rows = np.arange(done + 1, done + part.num_rows + 1, dtype=np.int64)
                done += part.num_rows
                yield part, rows
                if progress is not None:
                    progress(size * done // total_rows, size)

    def describe() -> SourceInfo:
        return SourceInfo(name=path.name, hash=f"sha256:{digest}", size=size)

    return batches(), describe
