"""Datasets of the market data store as users reach them: which they see, their versions and
bars, and files uploaded, validated and imported through the data layer.

The store (:mod:`contango.data.store`) knows nothing of users. Ownership lives in the
``datasets`` table: a store dataset with a row belongs to that row's owner and team; one with
no row (the bundled samples) is shared, readable by everyone and written only by admins. A
dataset another team owns is answered as missing, so its name is not revealed.

Uploads (validated, then imported as a new version) are in ``contango.services.dataset_uploads``.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import anyio.to_thread
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contango.auth.rbac import Principal, can_reach
from contango.data.registry import get_registry
from contango.data.store import DatasetVersion, LocalParquetStore, StoreError, open_store

__all__ = ["LocalParquetStore"]  # the store type routers declare as a dependency
from contango.db.models import Dataset
from contango.errors import (
    InvalidInputError,
    NotFoundError,
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


async def owner_rows(session: AsyncSession, names: Sequence[str]) -> dict[str, Dataset]:
    """The ownership rows of the named datasets that have one (shared datasets have none)."""
    if not names:
        return {}
    found = await session.execute(select(Dataset).where(Dataset.name.in_(names)))
    return {row.name: row for row in found.scalars()}


def dataset_missing(name: str) -> NotFoundError:
    """What a caller hears of a dataset they may not reach: the same as of one that is not."""
    return NotFoundError(f"no dataset {name!r}: list the datasets you can read with GET /datasets")


async def list_datasets(
    session: AsyncSession,
    caller: Principal,
    store: LocalParquetStore,
    filters: DatasetFilter,
) -> list[DatasetView]:
    """The store's datasets the caller may read (their team's and the shared ones), by name."""
    chains = await anyio.to_thread.run_sync(_lineages, store)
    rows = await owner_rows(session, list(chains))
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
    row = (await owner_rows(session, [name])).get(name)
    if row is not None and not can_reach(caller, row.owner_id, row.team_id):
        raise dataset_missing(name)
    try:
        chain = await anyio.to_thread.run_sync(store.versions, name)
    except StoreError:
        raise dataset_missing(name) from None
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
