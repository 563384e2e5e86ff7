"""The versioned market data store: immutable dataset versions with lineage.

Layout of the embedded default, :class:`LocalParquetStore` (one folder per dataset)::

    <store>/<dataset>/fragments/<hash>.parquet   immutable, named by the hash of their rows
    <store>/<dataset>/versions/<id>.json         one manifest per version: its fragments + lineage
    <store>/<dataset>/LATEST                     the id of the newest version
    <store>/<dataset>/.lock                      held while a commit moves LATEST

A fragment holds the rows of **one contract** from one import, sorted by time, so a read for a
contract or a time window opens only the fragments whose ranges (kept in the manifest) match,
and Parquet row-group statistics prune inside them. A version is its parent's fragments plus
the new ones; when new rows repeat a (contract, ts) already stored, the new row wins: the older
fragment is rewritten without those rows into a new fragment (the old file stays, so earlier
versions still read exactly what they held). Rows of the older data at other times stay: a
re-import corrects or extends, it never deletes. For ticks the key is the same, so the ticks
of a re-imported timestamp are replaced as a whole by the new file's ticks at that time.

Every file is written to a temporary name and renamed into place; LATEST moves last, under a
lock, so a crash or a failed import leaves the store as it was (at worst an unreferenced
fragment file), and two concurrent imports into one dataset both land, one after the other.
Importing rows that are all stored already makes no new version.

Identity: a fragment is named by a hash of its values (per column, independent of batching);
a version's ``content_hash`` hashes its sorted fragment names, and its ``id`` hashes (parent
id, content hash). The same imports in the same order give the same ids anywhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from contango.data.schema import Kind
from contango.data.store_files import (
    FragmentInfo,
    FragmentWriter,
    dataset_lock,
    supersede,
    write_text_atomic,
)
from contango.data.store_read import read_fragments
from contango.data.store_versions import DatasetSummary, DatasetVersion, SourceInfo
from contango.data.validation import ValidationReport
from contango.settings import get_settings

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DATASET_NAME_OK = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


class StoreError(Exception):
    """A dataset or version that does not exist, or a store that cannot be written."""


class MarketStore(Protocol):
    """What Contango needs from a market data store; other backends implement the same."""

    def commit(
        self,
        dataset: str,
        table: pa.Table,
        *,
        kind: Kind,
        source: SourceInfo | None = None,
        report: ValidationReport | None = None,
        author: str | None = None,
    ) -> DatasetVersion:
        """Store ``table`` (canonical schema) as a new version of ``dataset``."""
        ...

    def read(
        self,
        dataset: str,
        *,
        version: str | None = None,
        contracts: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """Rows of a version (latest by default), sorted by (contract, ts)."""
        ...

    def datasets(self) -> list[DatasetSummary]:
        """Every dataset with its latest version."""
        ...

    def versions(self, dataset: str) -> list[DatasetVersion]:
        """The lineage of ``dataset``, newest first."""
        ...

    def version(self, dataset: str, version_id: str) -> DatasetVersion:
        """One version by id (a unique prefix is enough)."""
        ...


def _ns_to_datetime(ns: int | None) -> datetime | None:
    if ns is None:
        return None
    return datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC).replace(
        microsecond=(ns % 1_000_000_000) // 1000
    )


def _datetime_to_ns(when: datetime) -> int:
    """Nanoseconds since the epoch; a naive ``when`` is taken as UTC (never as local time)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    # Integer arithmetic: a float of total_seconds() would round microseconds far from 1970.
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


class PendingCommit:
    """Rows being written for one commit; nothing is visible until :meth:`finish`.

    Batches may interleave contracts (vendor files often do); each contract must arrive in
    time order. Memory stays bounded: each contract's rows go to their own fragment file as
    they come.
    """

    def __init__(self, store: LocalParquetStore, dataset: str, kind: Kind) -> None:
        self._store = store
        self.dataset = dataset
        self.kind = kind
        self._writer = FragmentWriter(store.dataset_dir(dataset), kind)

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Add canonical rows (validated by the caller)."""
        self._writer.write(batch)

    def abort(self) -> None:
        """Drop everything written; the store is unchanged."""
        self._writer.abort()

    def finish(
        self,
        *,
        source: SourceInfo | None = None,
        report: ValidationReport | None = None,
        author: str | None = None,
    ) -> DatasetVersion:
        """Publish the rows as a new version (or return the latest if nothing changed)."""
        try:
            new = self._writer.close()
        except BaseException:
            self._writer.abort()
            raise
        return self._store._publish(
            self.dataset, self.kind, new, source=source, report=report, author=author
        )


class LocalParquetStore:
    """The embedded store: Parquet fragments and JSON manifests in a folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        # Manifests never change once written, so parsed ones can be kept.
        self._manifests: dict[Path, DatasetVersion] = {}

    # -- paths -------------------------------------------------------------------------------
    def dataset_dir(self, dataset: str) -> Path:
        """Folder of ``dataset``; refuses names that could escape the store."""
        if not dataset or not set(dataset) <= _DATASET_NAME_OK or dataset.startswith("."):
            raise StoreError(
                f"dataset name {dataset!r}: use letters, digits, '.', '_' or '-' (e.g. ES.1d)"
            )
        return self.root / dataset

    # -- writing -----------------------------------------------------------------------------
    def begin(self, dataset: str, *, kind: Kind) -> PendingCommit:
        """Start a streamed commit; see :class:`PendingCommit`."""
        latest = self._latest(dataset)
        if latest is not None and latest.kind != kind:
            raise StoreError(f"dataset {dataset} holds {latest.kind}, not {kind}")
        return PendingCommit(self, dataset, kind)

    def commit(
        self,
        dataset: str,
        table: pa.Table,
        *,
        kind: Kind,
        source: SourceInfo | None = None,
        report: ValidationReport | None = None,
        author: str | None = None,
    ) -> DatasetVersion:
        """Store a whole table as a new version (see :class:`MarketStore`)."""
        pending = self.begin(dataset, kind=kind)
        try:
            pending.write(table)
        except BaseException:
            pending.abort()
            raise
        return pending.finish(source=source, report=report, author=author)

    def _publish(
        self,
        dataset: str,
        kind: Kind,
        new: list[FragmentInfo],
        *,
        source: SourceInfo | None,
        report: ValidationReport | None,
        author: str | None,
    ) -> DatasetVersion:
        folder = self.dataset_dir(dataset)
        with dataset_lock(folder):
            parent = self._latest(dataset)
            if parent is not None and parent.kind != kind:
                raise StoreError(f"dataset {dataset} holds {parent.kind}, not {kind}")
            kept, replaced = supersede(folder, parent.fragments if parent else (), new)
            fragments = tuple(sorted([*kept, *new], key=lambda f: (f.contract, f.start, f.hash)))
            content = hashlib.blake2b(
                "\n".join(sorted(f.hash for f in fragments)).encode(), digest_size=20
            ).hexdigest()
            if parent is not None and content == parent.content_hash:
                return parent
            version = DatasetVersion(
                id=hashlib.blake2b(
                    f"{parent.id if parent else ''}:{content}".encode(), digest_size=6
                ).hexdigest(),
                dataset=dataset,
                kind=kind,
                parent=parent.id if parent else None,
                content_hash=content,
                source=source,
                rows=sum(f.rows for f in fragments),
                rows_added=sum(f.rows for f in new),
                rows_replaced=replaced,
                contracts=tuple(sorted({f.contract for f in fragments})),
                start=_ns_to_datetime(min((f.start for f in fragments), default=None)),
                end=_ns_to_datetime(max((f.end for f in fragments), default=None)),
                report=None if report is None else report.without_errors(),
                author=author or get_settings().user,
                created_at=datetime.now(UTC),
                fragments=fragments,
            )
            manifest = json.dumps(version.to_dict(), indent=1, sort_keys=True)
            write_text_atomic(folder / "versions" / f"{version.id}.json", manifest)
            write_text_atomic(folder / "LATEST", version.id + "\n")
            return version

    # -- reading -----------------------------------------------------------------------------
    def _latest(self, dataset: str) -> DatasetVersion | None:
        pointer = self.dataset_dir(dataset) / "LATEST"
        try:
            version_id = pointer.read_text().strip()
        except FileNotFoundError:
            return None
        return self._load(dataset, version_id)

    def _load(self, dataset: str, version_id: str) -> DatasetVersion:
        path = self.dataset_dir(dataset) / "versions" / f"{version_id}.json"
        cached = self._manifests.get(path)
        if cached is not None:
            return cached
        try:
            version = DatasetVersion.from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            raise StoreError(f"dataset {dataset} has no version {version_id}") from None
        self._manifests[path] = version
        return version

    def versions(self, dataset: str) -> list[DatasetVersion]:
        """The lineage of ``dataset`` from the latest version back to the first."""
        chain: list[DatasetVersion] = []
        current = self._latest(dataset)
        if current is None:
            raise StoreError(f"no dataset {dataset!r} in {self.root}")
        while current is not None:
            chain.append(current)
            current = None if current.parent is None else self._load(dataset, current.parent)
        return chain

    def version(self, dataset: str, version_id: str) -> DatasetVersion:
        """A version of the lineage by id or unique id prefix (never an orphaned manifest)."""
        matches = [v for v in self.versions(dataset) if v.id.startswith(version_id)]
        if len(matches) != 1:
            what = "no" if not matches else "more than one"
            raise StoreError(f"dataset {dataset} has {what} version matching {version_id!r}")
        return matches[0]

    def datasets(self) -> list[DatasetSummary]:
        """Every dataset in the store with its latest version, by name."""
        if not self.root.is_dir():
            return []
        summaries = []
        for folder in sorted(p for p in self.root.iterdir() if (p / "LATEST").is_file()):
            chain = self.versions(folder.name)
            summaries.append(
                DatasetSummary(
                    name=folder.name,
                    kind=chain[0].kind,
                    latest=chain[0],
                    version_count=len(chain),
                )
            )
        return summaries

    def read(
        self,
        dataset: str,
        *,
        version: str | None = None,
        contracts: Sequence[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """Rows of a version sorted by (contract, ts); ``start`` inclusive, ``end`` exclusive."""
        chosen = self.version(dataset, version) if version else self._latest(dataset)
        if chosen is None:
            raise StoreError(f"no dataset {dataset!r} in {self.root}")
        return read_fragments(
            self.dataset_dir(dataset),
            chosen.kind,
            chosen.fragments,
            contracts=contracts,
            start_ns=None if start is None else _datetime_to_ns(start),
            end_ns=None if end is None else _datetime_to_ns(end),
            columns=columns,
        )


def open_store(root: Path | None = None) -> LocalParquetStore:
    """The store at ``root``, by default ``get_settings().store_dir`` (CONTANGO_DATA_DIR)."""
    # Nothing is created until something is written: reading an empty store is not an error.
    return LocalParquetStore(Path(root) if root is not None else get_settings().store_dir)


__all__ = [
    "DatasetSummary",
    "DatasetVersion",
    "LocalParquetStore",
    "MarketStore",
    "PendingCommit",
    "SourceInfo",
    "StoreError",
    "open_store",
]
