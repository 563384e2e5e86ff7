"""Datasets of the market data store as users reach them: which they see, their versions and
bars, and files uploaded, validated and imported through the data layer.

The store (:mod:`contango.data.store`) knows nothing of users. Ownership lives in the
``datasets`` table: a store dataset with a row belongs to that row's owner and team; one with
no row (the bundled samples) is shared, readable by everyone and written only by admins. A
dataset another team owns is answered as missing, so its name is not revealed.

Validation and import are the data layer's own (:func:`contango.data.ingest.import_file`), run
in a worker thread because they read and write files for as long as the file takes.
"""

from __future__ import annotations

import gzip
import re
import shutil
import uuid
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contango import audit
from contango.auth.rbac import Principal, can_reach
from contango.data.ingest import import_file, validate_file
from contango.data.registry import get_registry
from contango.data.schema import ColumnMapping, Kind, MappingError
from contango.data.store import DatasetVersion, LocalParquetStore, StoreError, open_store

__all__ = ["LocalParquetStore"]  # the store type routers declare as a dependency
from contango.data.validation import ValidationFailed, ValidationReport
from contango.db.models import Dataset, User
from contango.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TooLargeError,
)
from contango.settings import Settings

# What a file that is not the format its name says raises while being read.
_UNREADABLE = (pa.ArrowException, UnicodeDecodeError, EOFError, zlib.error, gzip.BadGzipFile)


def market_store(settings: Settings) -> LocalParquetStore:
    """The market data store of ``settings`` (not of the process environment)."""
    return open_store(settings.store_dir)


@dataclass(frozen=True, kw_only=True)
class DatasetView:
    """A store dataset as one caller sees it: its lineage (newest first) and whether shared."""

    name: str
    shared: bool
    versions: tuple[DatasetVersion, ...]

    @property
    def latest(self) -> DatasetVersion:
        """The newest version."""
        return self.versions[0]


@dataclass(frozen=True, kw_only=True)
class DatasetFilter:
    """Which datasets to list; every given field must match."""

    kind: str | None = None
    root: str | None = None  # the part of the name before the first dot (ES of ES.1d)
    search: str | None = None  # in the name, case-insensitive
    shared: bool | None = None

    def matches(self, view: DatasetView) -> bool:
        """Whether ``view`` passes every given filter."""
        return (
            (self.kind is None or view.latest.kind == self.kind)
            and (self.root is None or view.name.split(".")[0].upper() == self.root.upper())
            and (self.search is None or self.search.lower() in view.name.lower())
            and (self.shared is None or view.shared == self.shared)
        )


async def _rows(session: AsyncSession, names: Sequence[str]) -> dict[str, Dataset]:
    if not names:
        return {}
    found = await session.execute(select(Dataset).where(Dataset.name.in_(names)))
    return {row.name: row for row in found.scalars()}


def _missing(name: str) -> NotFoundError:
    return NotFoundError(f"no dataset {name!r}: list the datasets you can read with GET /datasets")


async def list_datasets(
    session: AsyncSession,
    caller: Principal,
    store: LocalParquetStore,
    filters: DatasetFilter,
) -> list[DatasetView]:
    """The store's datasets the caller may read (their team's and the shared ones), by name."""
    chains = await anyio.to_thread.run_sync(_lineages, store)
    rows = await _rows(session, list(chains))
    views = []
    for name, chain in chains.items():
        row = rows.get(name)
        if row is not None and not can_reach(caller, row.owner_id, row.team_id):
            continue
        view = DatasetView(name=name, shared=row is None, versions=chain)
        if filters.matches(view):
            views.append(view)
    return views


def _lineages(store: LocalParquetStore) -> dict[str, tuple[DatasetVersion, ...]]:
    """Every dataset's lineage, by name (one pass over the manifests, in a worker thread)."""
    return {s.name: tuple(store.versions(s.name)) for s in store.datasets()}


async def get_dataset(
    session: AsyncSession, caller: Principal, store: LocalParquetStore, name: str
) -> DatasetView:
    """One readable dataset with its lineage; NotFoundError if missing or another team's."""
    row = (await _rows(session, [name])).get(name)
    if row is not None and not can_reach(caller, row.owner_id, row.team_id):
        raise _missing(name)
    try:
        chain = await anyio.to_thread.run_sync(store.versions, name)
    except StoreError:
        raise _missing(name) from None
    return DatasetView(name=name, shared=row is None, versions=tuple(chain))


def pick_version(view: DatasetView, version: str | None) -> DatasetVersion:
    """The version whose id starts with ``version`` (the latest when None)."""
    if version is None:
        return view.latest
    matches = [v for v in view.versions if v.id.startswith(version)]
    if len(matches) != 1:
        what = "no" if not matches else "more than one"
        raise NotFoundError(f"dataset {view.name} has {what} version matching {version!r}")
    return matches[0]


@dataclass(frozen=True, kw_only=True)
class RowsQuery:
    """A slice of a dataset version: contracts (any symbol form), [start, end), a page."""

    version: str | None = None
    contracts: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 10_000
    offset: int = 0


@dataclass(frozen=True, kw_only=True)
class RowsPage:
    """One page of rows (canonical columns) of a version, and how many rows matched."""

    dataset: str
    version: str
    table: pa.Table
    total: int


def _stored_symbols(version: DatasetVersion, contracts: Sequence[str]) -> list[str]:
    """``ESZ24`` -> ``ESZ2024`` as stored; refuses symbols the version does not hold."""
    registry = get_registry()
    symbols = []
    for symbol in contracts:
        try:
            long = registry.parse(symbol).long_symbol
        except (KeyError, ValueError) as exc:
            raise InvalidInputError(
                f"contract {symbol!r}: {str(exc).strip(chr(34) + chr(39))}",
                extra={"field": "contract"},
            ) from None
        if long not in version.contracts:
            raise NotFoundError(
                f"dataset {version.dataset} version {version.id} holds no {long} "
                f"(it holds {', '.join(version.contracts[:20])})"
            )
        symbols.append(long)
    return symbols


async def read_rows(
    session: AsyncSession,
    caller: Principal,
    store: LocalParquetStore,
    name: str,
    query: RowsQuery,
) -> RowsPage:
    """Rows of a readable dataset's version, sorted by (contract, ts), one page of them."""
    if query.start is not None and query.end is not None and query.end <= query.start:
        raise InvalidInputError(
            f"end {query.end} is not after start {query.start}", extra={"field": "end"}
        )
    view = await get_dataset(session, caller, store, name)
    chosen = pick_version(view, query.version)
    symbols = _stored_symbols(chosen, query.contracts)
    read = partial(
        store.read,
        name,
        version=chosen.id,
        contracts=symbols or None,
        start=query.start,
        end=query.end,
    )
    table = await anyio.to_thread.run_sync(read)
    page = table.slice(query.offset, query.limit)
    return RowsPage(dataset=name, version=chosen.id, table=page, total=table.num_rows)


def json_columns(table: pa.Table) -> dict[str, list[Any]]:
    """Columns as JSON-ready lists: timestamps as ISO 8601 UTC text (nanoseconds kept), NaN as
    null (JSON has no NaN)."""
    out: dict[str, list[Any]] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        values = column
        if pa.types.is_timestamp(column.type):
            values = pc.strftime(column, format="%Y-%m-%dT%H:%M:%SZ")
        elif pa.types.is_floating(column.type):
            values = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
        out[name] = values.to_pylist()
    return out


# -- uploads -----------------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class StagedUpload:
    """A file being received into the uploads folder, refused once it passes ``limit`` bytes.

    Each upload gets its own folder so that the file keeps the name it was sent with (the
    store records it as the version's source) and two uploads never collide.
    """

    def __init__(self, uploads_dir: Path, filename: str, limit: int) -> None:
        base = _SAFE_NAME.sub("_", filename.replace("\\", "/").rsplit("/", 1)[-1])[-120:]
        self.folder = uploads_dir / uuid.uuid4().hex
        self.folder.mkdir(parents=True)
        self.path = self.folder / (base.lstrip(".") or "upload.csv")
        self.limit = limit
        self.size = 0
        self._handle = self.path.open("wb")

    async def write(self, data: bytes) -> None:
        """Append ``data``; TooLargeError (and the partial file removed) past the limit."""
        self.size += len(data)
        if self.size > self.limit:
            self.remove()
            raise TooLargeError(
                f"file: the upload is larger than the limit of {self.limit:,} bytes",
                extra={"limit": self.limit},
            )
        await anyio.to_thread.run_sync(self._handle.write, data)

    def close(self) -> None:
        """Finish writing; the file is complete on disk."""
        self._handle.close()

    def remove(self) -> None:
        """Delete the file and its folder (safe to call more than once)."""
        self._handle.close()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass(frozen=True, kw_only=True)
class FileOptions:
    """How to read an uploaded file: the options of ``contango data validate`` / ``import``."""

    kind: Kind = "bars"
    root: str | None = None
    contract: str | None = None
    timezone: str = "UTC"
    mapping: tuple[str, ...] = ()
    time_format: str | None = None

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of the data layer's validate_file / import_file."""
        return {
            "mapping": ColumnMapping.parse(self.mapping),
            "timezone": self.timezone,
            "contract": self.contract,
            "root": self.root,
            "kind": self.kind,
            "time_format": self.time_format,
        }


@dataclass(frozen=True, kw_only=True)
class UploadOutcome:
    """The version an upload produced (or the latest, unchanged) and the file's report."""

    version: DatasetVersion
    report: ValidationReport
    created: bool
    dataset_created: bool


def report_json(report: ValidationReport) -> dict[str, Any]:
    """A report as JSON, with its verdict and totals."""
    return {
        **report.to_dict(),
        "ok": report.ok,
        "error_count": report.error_count,
        "warning_count": report.warning_count,
    }


@contextmanager
def _file_problems(staged: StagedUpload) -> Iterator[None]:
    """Turn the data layer's complaints about a file into one InvalidInputError each."""
    if staged.size == 0:
        raise InvalidInputError("file: the upload is empty", extra={"field": "file"})
    try:
        yield
    except ValidationFailed as failed:
        raise InvalidInputError(
            f"{failed}; nothing was imported", extra={"report": report_json(failed.report)}
        ) from None
    except (MappingError, StoreError) as exc:
        raise InvalidInputError(str(exc)) from None
    except _UNREADABLE as exc:
        raise InvalidInputError(
            f"file {staged.path.name}: cannot be read as CSV (.csv, .csv.gz) or Parquet "
            f"(.parquet), as its name says: {exc}",
            extra={"field": "file"},
        ) from None


async def validate_upload(staged: StagedUpload, options: FileOptions) -> ValidationReport:
    """The report of an uploaded file; nothing is stored."""
    with _file_problems(staged):
        check = partial(validate_file, staged.path, **options.arguments())
        return await anyio.to_thread.run_sync(check)


async def _target(
    session: AsyncSession, caller: Principal, store: LocalParquetStore, name: str, kind: Kind
) -> bool:
    """Check the caller may add a version to ``name``; create its row if new (True then)."""
    row = (await _rows(session, [name])).get(name)
    if row is not None:
        if not can_reach(caller, row.owner_id, row.team_id, write=True):
            raise _missing(name)
        return False
    try:
        await anyio.to_thread.run_sync(store.versions, name)
    except StoreError:
        pass  # a new dataset: it becomes the caller's and their team's
    else:
        if not can_reach(caller, None, None, write=True):
            raise PermissionDeniedError(
                f"dataset {name} is shared: only an admin may add versions; upload under "
                "another name"
            )
        return False
    session.add(Dataset(name=name, kind=kind, owner_id=caller.user_id, team_id=caller.team_id))
    try:
        await session.flush()
    except IntegrityError:
        raise ConflictError(f"dataset {name} was created by another upload meanwhile") from None
    return True


async def upload(
    session: AsyncSession,
    caller: Principal,
    store: LocalParquetStore,
    staged: StagedUpload,
    *,
    dataset: str,
    options: FileOptions,
) -> UploadOutcome:
    """Validate an uploaded file and import it as a new version of ``dataset``.

    A file with any error imports nothing and raises InvalidInputError carrying the report.
    The dataset's row (first upload) and the audit entry are written in ``session``'s
    transaction; the store's version is published before that transaction commits.
    """
    dataset_created = await _target(session, caller, store, dataset, options.kind)
    user = await session.get(User, caller.user_id)
    author = user.email if user is not None else str(caller.user_id)
    with _file_problems(staged):
        arguments = options.arguments()
        run = partial(
            import_file, staged.path, dataset=dataset, store=store, author=author, **arguments
        )
        result = await anyio.to_thread.run_sync(run)
    if result.created:
        version = result.version
        await audit.record_event(
            session,
            action="dataset.upload",
            actor_id=caller.user_id,
            actor=str(caller.user_id),
            target=f"dataset:{dataset}",
            outcome="success",
            details={
                "version": version.id,
                "parent": version.parent,
                "dataset_created": dataset_created,
                "rows_added": version.rows_added,
                "rows_replaced": version.rows_replaced,
                "source": None if version.source is None else version.source.__dict__,
                "warnings": result.report.warning_count,
            },
        )
    return UploadOutcome(
        version=result.version,
        report=result.report,
        created=result.created,
        dataset_created=dataset_created,
    )
