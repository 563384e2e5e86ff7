"""Importing market data files (CSV, Parquet) into the versioned store, in bounded memory.

A file is read batch by batch (``pyarrow.csv.open_csv`` streaming reader, or Parquet row
groups), each batch is mapped to the canonical schema, checked, and written to temporary
fragment files. Only when the whole file has been read without an error is the new version
published; a file with an error leaves the store untouched and raises
:class:`~contango.data.validation.ValidationFailed` with the report. Memory is bounded by the
batch size and the store's per-import buffer, never by the file size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from contango.data.ingest_convert import Conformer, check_timezone
from contango.data.ingest_read import (
    Batches,
    Progress,
    csv_batches,
    is_parquet,
    parquet_batches,
    source_columns,
)
from contango.data.registry import get_registry
from contango.data.schema import ColumnMapping, Kind, MappingError, schema_for
from contango.data.store import (
    DatasetVersion,
    LocalParquetStore,
    MarketStore,
    PendingCommit,
    SourceInfo,
    StoreError,
    open_store,
)
from contango.data.validation import ReportBuilder, ValidationFailed, ValidationReport
from contango.data.validation_checks import BatchChecks
from contango.domain.contracts import ContractSpec
from contango.domain.symbols import parse_symbol

_NS_PER_DAY = 86_400 * 1_000_000_000


@dataclass(frozen=True, kw_only=True)
class ImportResult:
    """The version an import produced and the file's report (warnings only, by definition).

    ``created`` is False when every row was already stored as it is: the latest version is
    returned and no new one is made, so importing the same file twice is harmless.
    """

    version: DatasetVersion
    report: ValidationReport
    created: bool


@dataclass(frozen=True, kw_only=True)
class _Options:
    kind: Kind
    dataset: str | None
    contract: str | None
    root: str | None
    spec: ContractSpec | None


def import_table(
    table: pa.Table,
    *,
    dataset: str,
    spec: ContractSpec | None = None,
    kind: Kind = "bars",
    source: SourceInfo | None = None,
    store: MarketStore | None = None,
    author: str | None = None,
) -> ImportResult:
    """Validate a table in (or close to) the canonical schema, then commit it atomically.

    ``contract`` values are parsed like file symbols (``ESZ24`` becomes ``ESZ2024``); with a
    ``spec`` the contracts must be of its root (the registry is not consulted), else the root
    must be in the registry. Raises ValidationFailed, committing nothing, if any check errs.
    """
    names = [n for n in table.column_names if n in schema_for(kind).names]
    mapping = ColumnMapping(columns={n: n for n in names})
    columns = mapping.resolve(table.column_names, kind)
    options = _Options(kind=kind, dataset=dataset, contract=None, root=None, spec=spec)
    builder = ReportBuilder(source.name if source else dataset)
    conformer = _conformer(options, columns, "UTC", None, builder)
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    batches = iter([(table, rows)])
    return _run(
        batches,
        conformer=conformer,
        builder=builder,
        options=options,
        store=store or open_store(),
        source=source,
        author=author,
    )


def validate_file(
    path: Path | str,
    *,
    mapping: ColumnMapping | None = None,
    timezone: str = "UTC",
    contract: str | None = None,
    root: str | None = None,
    kind: Kind = "bars",
    time_format: str | None = None,
    progress: Progress | None = None,
) -> ValidationReport:
    """The report of a file, without importing anything."""
    path = Path(path)
    builder, conformer, batches, _ = _prepare(
        path,
        mapping=mapping,
        timezone=timezone,
        contract=contract,
        root=root,
        kind=kind,
        time_format=time_format,
        progress=progress,
    )
    checks = BatchChecks(builder, kind, conformer.spec)
    for table, rows in batches:
        canonical = conformer.conform(table, rows)
        checks.spec = conformer.spec
        checks.check(canonical, rows)
    checks.finish()
    return builder.report()


def import_file(
    path: Path | str,
    *,
    dataset: str | None = None,
    mapping: ColumnMapping | None = None,
    timezone: str = "UTC",
    contract: str | None = None,
    root: str | None = None,
    kind: Kind = "bars",
    time_format: str | None = None,
    store: MarketStore | None = None,
    author: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate and import a CSV or Parquet file as a new version of ``dataset``.

    ``dataset`` defaults to ``<ROOT>.<bar size>`` (``ES.1d``, ``CL.1m``, ``ES.ticks``).
    Raises MappingError for usage problems (columns, time zone, contract) and
    ValidationFailed, committing nothing, if the file has errors.
    """
    path = Path(path)
    builder, conformer, batches, source = _prepare(
        path,
        mapping=mapping,
        timezone=timezone,
        contract=contract,
        root=root,
        kind=kind,
        time_format=time_format,
        progress=progress,
    )
    options = _Options(kind=kind, dataset=dataset, contract=contract, root=root, spec=None)
    return _run(
        batches,
        conformer=conformer,
        builder=builder,
        options=options,
        store=store or open_store(),
        source=source,
        author=author,
    )


def _conformer(
    options: _Options,
    columns: dict[str, str],
    timezone: str,
    time_format: str | None,
    builder: ReportBuilder,
) -> Conformer:
    registry = get_registry()
    spec, root, fixed = options.spec, options.root, None
    try:
        if options.contract is not None:
            parsed = registry.parse(options.contract)
            fixed, root = parsed.long_symbol, parsed.root
        if root is not None:
            spec = registry.spec(root)
            root = spec.root
    except (KeyError, ValueError) as exc:
        raise MappingError(str(exc).strip("'\"")) from None
    return Conformer(
        kind=options.kind,
        columns=columns,
        timezone=check_timezone(timezone),
        registry=registry,
        out=builder,
        contract=fixed,
        root=spec.root if spec else root,
        time_format=time_format,
        spec=spec,
        spec_given=options.spec is not None,
        symbol_prefix=root if options.root is not None else None,
    )


def _run(
    batches: Batches,
    *,
    conformer: Conformer,
    builder: ReportBuilder,
    options: _Options,
    store: MarketStore,
    source: Callable[[], SourceInfo] | SourceInfo | None,
    author: str | None,
) -> ImportResult:
    started = datetime.now(UTC)
    checks = BatchChecks(builder, options.kind, conformer.spec)
    pending: PendingCommit | None = None
    whole: list[pa.Table] = []  # only for stores without streamed commits
    try:
        for table, rows in batches:
            canonical = conformer.conform(table, rows)
            checks.spec = conformer.spec
            checks.check(canonical, rows)
            if builder.error_count:
                continue  # keep reading to report every problem, but write nothing more
            if isinstance(store, LocalParquetStore):
                if pending is None:
                    name = options.dataset or _default_name(conformer, canonical, options.kind)
                    _check_root(store, name, conformer.root)
                    pending = store.begin(name, kind=options.kind)
                pending.write(canonical)
            else:
                whole.append(canonical.cast(schema_for(options.kind)))
        checks.finish()
        if builder.rows == 0:
            builder.add("no_rows", "the file has no data rows")
        report = builder.report()
        if not report.ok:
            raise ValidationFailed(report)
        info = source() if callable(source) else source
        if pending is not None:
            version = pending.finish(source=info, report=report, author=author)
        else:
            table = pa.concat_tables(whole) if whole else schema_for(options.kind).empty_table()
            name = options.dataset or _default_name(conformer, table, options.kind)
            _check_root(store, name, conformer.root)
            version = store.commit(
                name, table, kind=options.kind, source=info, report=report, author=author
            )
    except BaseException:
        if pending is not None:
            pending.abort()
        raise
    return ImportResult(version=version, report=report, created=version.created_at >= started)


def _check_root(store: MarketStore, dataset: str, root: str | None) -> None:
    """A dataset holds one market: refuse CL rows for a dataset of ES contracts."""
    try:
        held = store.versions(dataset)[0].contracts
    except StoreError:
        return  # a new dataset
    if root is not None and held and parse_symbol(held[0]).root != root:
        raise MappingError(
            f"dataset {dataset} holds {parse_symbol(held[0]).root} contracts, not {root}: "
            "a dataset holds one market; give another --dataset"
        )


def _default_name(conformer: Conformer, table: pa.Table, kind: str) -> str:
    if conformer.root is None:
        raise MappingError("no dataset name and no market root: give --dataset or --root")
    if kind == "ticks":
        return f"{conformer.root}.ticks"
    return f"{conformer.root}.{bar_size(table)}"


def bar_size(table: pa.Table) -> str:
    """The bar size of canonical bars as a dataset suffix: ``1d``, ``1h``, ``5m``, ``30s``.

    Daily bars are stamped at 00:00 UTC; otherwise the most common step between consecutive
    bars of the same contract is the bar size.
    """
    ts = table.column("ts").cast(pa.int64()).to_numpy(zero_copy_only=False)
    ts = ts[~np.isnan(ts.astype(np.float64))].astype(np.int64) if ts.dtype != np.int64 else ts
    if ts.size == 0 or not np.any(ts % _NS_PER_DAY):
        return "1d"
    contracts = table.column("contract").cast(pa.string()).to_numpy(zero_copy_only=False)
    order = np.lexsort((ts, contracts))
    step = np.diff(ts[order])[contracts[order][1:] == contracts[order][:-1]]
    step = step[step > 0]
    if step.size == 0:
        return "1m"
    values, counts = np.unique(step, return_counts=True)
    seconds = int(values[np.argmax(counts)] // 1_000_000_000)
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 1)}s"


def _prepare(
    path: Path,
    *,
    mapping: ColumnMapping | None,
    timezone: str,
    contract: str | None,
    root: str | None,
    kind: Kind,
    time_format: str | None,
    progress: Progress | None,
) -> tuple[
    ReportBuilder,
    Conformer,
    Batches,
    Callable[[], SourceInfo],
]:
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    builder = ReportBuilder(path.name)
    header = source_columns(path)
    columns = (mapping or ColumnMapping()).resolve(header, kind)
    if contract is None and "contract" not in columns:
        raise MappingError(
            f"{path.name}: no contract: give --contract (e.g. ESZ24) or map a symbol column"
        )
    options = _Options(kind=kind, dataset=None, contract=contract, root=root, spec=None)
    conformer = _conformer(options, columns, timezone, time_format, builder)
    if is_parquet(path):
        batches, source = parquet_batches(path, columns, progress)
    else:
        batches, source = csv_batches(path, columns, kind, builder, progress)
    return builder, conformer, batches, source
