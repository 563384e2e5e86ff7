"""Files of the local store: content-addressed fragments, atomic writes, the commit lock.

A fragment's name is the hash of its rows, computed column by column from the values (not
from the Parquet bytes, which depend on how the rows were chunked), so the same rows always
get the same name and a second copy is never written.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from contango.data.schema import schema_for

ROW_GROUP_ROWS = 128 * 1024  # small enough that a time filter skips most of a long history
_MAX_BUFFERED_ROWS = 1_000_000  # across all contracts of one import: bounds memory
# Reads of a whole market must take well under a second: uncompressed pages with dictionary
# encoding (prices and volumes repeat a lot) read several times faster than zstd or snappy
# and are barely larger. Timestamps are unique, so they are not dictionary-encoded.
_COMPRESSION = "none"


@dataclass(frozen=True, kw_only=True)
class FragmentInfo:
    """One immutable Parquet file: the rows of one contract, sorted by time (ns, UTC)."""

    hash: str
    contract: str
    rows: int
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FragmentInfo:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


def fragment_path(folder: Path, fragment_hash: str) -> Path:
    """Where the fragment with this content hash lives."""
    return folder / "fragments" / f"{fragment_hash}.parquet"


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


@contextlib.contextmanager
def dataset_lock(folder: Path) -> Iterator[None]:
    """Exclusive lock on a dataset while its LATEST pointer moves (POSIX ``flock``)."""
    import fcntl  # POSIX only; imported where the lock is taken

    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class _RowHasher:
    """Hash of a fragment's rows, independent of how they were split into batches.

    Each column feeds its own hasher (and nullable columns a second one for their validity),
    so the digest is that of each whole column, whatever the chunking.
    """

    def __init__(self, schema: pa.Schema) -> None:
        self._values = {n: hashlib.sha256() for n in schema.names if n != "contract"}
        self._valid = {f.name: hashlib.sha256() for f in schema if f.nullable}

    def update(self, table: pa.Table) -> None:
        for name, hasher in self._values.items():
            column = table.column(name)
            if name in self._valid:
                valid = column.is_valid().to_numpy(zero_copy_only=False)
                self._valid[name].update(np.ascontiguousarray(valid).tobytes())
                column = column.fill_null(0)
            values = column.cast(pa.int64()) if name == "ts" else column
            hasher.update(np.ascontiguousarray(values.to_numpy()).tobytes())

    def digest(self, contract: str) -> str:
        # One contract per fragment: its symbol is hashed once here.
        total = hashlib.blake2b(contract.encode(), digest_size=16)
        for name, hasher in self._values.items():
            total.update(name.encode() + hasher.digest())
            if name in self._valid:
                total.update(self._valid[name].digest())
        return total.hexdigest()


class _ContractSpill:
    """The growing fragment of one contract: buffered rows, then row groups in a temp file."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.rows = 0
        self.start: int | None = None
        self.end: int | None = None
        self.sorted = True
        self.hasher = _RowHasher(schema)
        self.writer: pq.ParquetWriter | None = None

    def add(self, table: pa.Table) -> None:
        ts = table.column("ts").cast(pa.int64()).to_numpy()
        if ts.size == 0:
            return
        if self.sorted and (
            (self.end is not None and ts[0] < self.end) or bool(np.any(ts[1:] < ts[:-1]))
        ):
            self.sorted = False
        self.start = int(ts.min()) if self.start is None else min(self.start, int(ts.min()))
        self.end = int(ts.max()) if self.end is None else max(self.end, int(ts.max()))
        self.buffer.append(table)
        self.buffered += table.num_rows
        self.rows += table.num_rows

    def flush(self, background: _Background | None = None) -> None:
        if not self.buffer:
            return
        table = pa.concat_tables(self.buffer)
        self.buffer, self.buffered = [], 0
        if background is None:
            self._write(table)
        else:
            background.submit(self._write, table)

    def _write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.writer = _parquet_writer(self.path, self.schema)
        self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        self.hasher.update(table)

    def close(self) -> None:
        """Write what is buffered and close the file (the background must be drained)."""
        self.flush()
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class _Background:
    """One worker thread that encodes, writes and hashes row groups while the caller reads
    and checks the next batch (Parquet encoding and hashing release the GIL). At most
    ``depth`` jobs wait, which bounds the memory they hold; one worker keeps each
    contract's row groups in order.
    """

    def __init__(self, depth: int = 3) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fragment-writer")
        self._jobs: deque[Future[None]] = deque()
        self._depth = depth

    def submit(self, job: Callable[[pa.Table], None], table: pa.Table) -> None:
        self._jobs.append(self._pool.submit(job, table))
        while len(self._jobs) > self._depth:
            self._jobs.popleft().result()

    def drain(self) -> None:
        while self._jobs:
            self._jobs.popleft().result()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _parquet_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    return pq.ParquetWriter(
        path,
        schema,
        compression=_COMPRESSION,
        write_statistics=True,
        use_dictionary=[name for name in schema.names if name != "ts"],
    )


class FragmentWriter:
    """Splits incoming rows by contract into temp fragment files, then publishes them."""

    def __init__(self, folder: Path, kind: str) -> None:
        self.folder = folder
        self.schema = schema_for(kind)
        self._tmp = folder / "tmp" / uuid.uuid4().hex
        self._spills: dict[str, _ContractSpill] = {}
        self._buffered = 0
        self._background = _Background()

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Add canonical rows; each contract's rows must come in time order across calls."""
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        table = table.select(self.schema.names)
        if table.num_rows == 0:
            return
        for contract, part in _split_by_contract(table, self.schema):
            spill = self._spills.get(contract)
            if spill is None:
                self._tmp.mkdir(parents=True, exist_ok=True)
                spill = _ContractSpill(self._tmp / f"{len(self._spills)}.parquet", self.schema)
                self._spills[contract] = spill
            spill.add(part)
            self._buffered += part.num_rows
            if spill.buffered >= ROW_GROUP_ROWS:
                self._buffered -= spill.buffered
                spill.flush(self._background)
        if self._buffered > _MAX_BUFFERED_ROWS:
            for spill in self._spills.values():
                spill.flush(self._background)
            self._buffered = 0

    def close(self) -> list[FragmentInfo]:
        """Finish every fragment, move it to its content address and describe it."""
        infos = []
        (self.folder / "fragments").mkdir(parents=True, exist_ok=True)
        try:
            self._background.drain()
        finally:
            self._background.shutdown()
        for contract, written in sorted(self._spills.items()):
            written.close()
            spill = written if written.sorted else _sorted_copy(written)
            fragment_hash = spill.hasher.digest(contract)
            target = fragment_path(self.folder, fragment_hash)
            if target.exists():
                spill.path.unlink()
            else:
                spill.path.replace(target)
            assert spill.start is not None
            assert spill.end is not None
            infos.append(
                FragmentInfo(
                    hash=fragment_hash,
                    contract=contract,
                    rows=spill.rows,
                    start=spill.start,
                    end=spill.end,
                )
            )
        shutil.rmtree(self._tmp, ignore_errors=True)
        return infos

    def abort(self) -> None:
        """Remove the temp files; nothing of this import remains."""
        with contextlib.suppress(Exception):
            self._background.shutdown()
        for spill in self._spills.values():
            with contextlib.suppress(Exception):
                if spill.writer is not None:
                    spill.writer.close()
        shutil.rmtree(self._tmp, ignore_errors=True)


def small_codes(codes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Dictionary codes as int16 when they fit: numpy's stable sort is then a radix sort."""
    return codes.astype(np.int16) if codes.size and codes.max() < 2**15 else codes


def _split_by_contract(table: pa.Table, schema: pa.Schema) -> Iterator[tuple[str, pa.Table]]:
    """Each contract's rows in their order, cast to ``schema``. A dictionary-encoded
    ``contract`` column (as the importer makes) is grouped by its codes without hashing."""
    contracts = table.column("contract").combine_chunks()
    if not pa.types.is_dictionary(contracts.type):
        contracts = pc.dictionary_encode(contracts)
    names = contracts.dictionary.to_pylist()
    codes = small_codes(contracts.indices.to_numpy(zero_copy_only=False))
    rest = [n for n in schema.names if n != "contract"]
    if codes.size and codes.min() == codes.max():
        groups: Iterator[tuple[int, pa.Table]] = iter([(int(codes[0]), table.select(rest))])
    else:
        order = np.argsort(codes, kind="stable")
        grouped = table.select(rest).take(pa.array(order))
        bounds = np.flatnonzero(np.diff(codes[order])) + 1
        starts, ends = [0, *bounds.tolist()], [*bounds.tolist(), len(order)]
        groups = (
            (int(codes[order[lo]]), grouped.slice(lo, hi - lo))
            for lo, hi in zip(starts, ends, strict=True)
        )
    for code, part in groups:
        name = names[code]
        column = pa.repeat(pa.scalar(name, pa.string()), part.num_rows)
        yield name, part.add_column(1, "contract", column).cast(schema)


def _sorted_copy(spill: _ContractSpill) -> _ContractSpill:
    """A contract whose rows came out of time order (direct commits of unsorted tables)."""
    table = pq.read_table(spill.path, schema=spill.schema)
    table = table.sort_by([("ts", "ascending")])
    spill.path.unlink()
    fresh = _ContractSpill(spill.path, spill.schema)
    fresh.add(table)
    fresh.close()
    return fresh


def supersede(
    folder: Path, parents: Sequence[FragmentInfo], new: Sequence[FragmentInfo]
) -> tuple[list[FragmentInfo], int]:
    """The parent's fragments with rows repeated by ``new`` (same contract and ts) removed.

    Returns the fragments to keep (untouched ones and rewritten ones) and how many rows the
    new fragments replaced. Only fragments whose time range overlaps a new fragment of the
    same contract are opened.
    """
    by_contract = {f.contract: f for f in new}
    kept: list[FragmentInfo] = []
    replaced = 0
    new_ts: dict[str, np.ndarray[Any, np.dtype[np.int64]]] = {}  # read once per contract
    for old in parents:
        fresh = by_contract.get(old.contract)
        if fresh is None or old.end < fresh.start or fresh.end < old.start:
            kept.append(old)
            continue
        if old.hash == fresh.hash:
            replaced += old.rows
            continue
        if fresh.contract not in new_ts:
            new_ts[fresh.contract] = _ts_of(folder, fresh)
        stamps = new_ts[fresh.contract]
        old_table = pq.read_table(fragment_path(folder, old.hash))
        old_ts = old_table.column("ts").cast(pa.int64()).to_numpy()
        where = np.clip(np.searchsorted(stamps, old_ts), 0, stamps.size - 1)
        repeated = stamps[where] == old_ts
        count = int(repeated.sum())
        if count == 0:
            kept.append(old)
            continue
        replaced += count
        if count < old.rows:
            kept.extend(_write_fragments(folder, old_table.filter(pa.array(~repeated))))
    return kept, replaced


def _ts_of(folder: Path, fragment: FragmentInfo) -> np.ndarray[Any, np.dtype[np.int64]]:
    column = pq.read_table(fragment_path(folder, fragment.hash), columns=["ts"]).column("ts")
    return np.sort(column.cast(pa.int64()).to_numpy())


def _write_fragments(folder: Path, table: pa.Table) -> list[FragmentInfo]:
    kind = "bars" if "open" in table.column_names else "ticks"
    writer = FragmentWriter(folder, kind)
    try:
        writer.write(table)
        return writer.close()
    except BaseException:
        writer.abort()
        raise
