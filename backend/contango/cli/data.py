"""``contango data``: validate, import, list, inspect and export market data.

Exit codes: 0 ok; 1 the file has validation errors (nothing was imported); 2 the command was
called wrongly (missing file, unknown contract or time zone, unmappable columns, no dataset).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from contango.cli.console import err as _err
from contango.cli.console import fail
from contango.cli.console import out as _out
from contango.data.ingest import import_file, validate_file
from contango.data.ingest_read import Progress as ProgressCallback
from contango.data.registry import get_registry
from contango.data.schema import KINDS, ColumnMapping, Kind, MappingError
from contango.data.store import DatasetVersion, StoreError, open_store
from contango.data.validation import ValidationFailed, ValidationReport

app = typer.Typer(help="Import, validate and read market data.", no_args_is_help=True)


FileArg = Annotated[Path, typer.Argument(help="CSV (optionally .gz) or Parquet file.")]
ContractOpt = Annotated[
    str | None,
    typer.Option("--contract", help="The file's contract (ESZ24) when it has no symbol column."),
]
RootOpt = Annotated[
    str | None,
    typer.Option("--root", help="Market root (ES); symbols without it get it prefixed."),
]
TimezoneOpt = Annotated[
    str,
    typer.Option("--timezone", help="IANA time zone of naive timestamps (dates are trade dates)."),
]
MapOpt = Annotated[
    list[str] | None,
    typer.Option("--map", help="SOURCE=CANONICAL column mapping, repeatable (Last=close)."),
]
KindOpt = Annotated[str, typer.Option("--kind", help="bars or ticks.")]
TimeFormatOpt = Annotated[
    str | None,
    typer.Option("--time-format", help="strptime format of the timestamps when not ISO."),
]


def _kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise fail(f"--kind {kind!r}: use bars or ticks", 2)
    return "bars" if kind == "bars" else "ticks"


@contextmanager
def _progress(label: str) -> Iterator[ProgressCallback]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=_err, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _print_report(report: ValidationReport) -> None:
    # One finding per line: readable in a narrow terminal and easy to grep.
    for f in report.findings:
        colour = "red" if f.severity == "error" else "yellow"
        contract = f" [{f.contract}]" if f.contract else ""
        _out.print(f"[{colour}]{escape(str(f) + contract)}[/{colour}]")
    listed = len(report.findings)
    total = sum(report.counts.values())
    if total > listed:
        _out.print(f"{total - listed} more findings not listed (at most 100 per code)")
    _out.print(
        "rows are data rows of the file (1 = the first row after the header)\n" + report.summary(),
        markup=False,
    )


def _print_version(version: DatasetVersion) -> None:
    _out.print(
        f"dataset {version.dataset} version {version.id} (parent {version.parent or '-'}): "
        f"{version.rows} rows, {len(version.contracts)} contracts, "
        f"{_when(version.start)} .. {_when(version.end)}; added {version.rows_added}, "
        f"replaced {version.rows_replaced}; by {version.author} at "
        f"{version.created_at:%Y-%m-%d %H:%M:%S} UTC"
    )


def _long_symbols(contracts: list[str] | None) -> list[str] | None:
    """``ESZ24`` -> ``ESZ2024`` as stored; a symbol the registry cannot parse is kept as typed."""
    if contracts is None:
        return None
    registry = get_registry()
    symbols = []
    for symbol in contracts:
        try:
            symbols.append(registry.parse(symbol).long_symbol)
        except (KeyError, ValueError):
            symbols.append(symbol)
    return symbols


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.strftime("%Y-%m-%d" if value.hour == value.minute == 0 else "%Y-%m-%d %H:%M")


@app.command("validate")
def validate(
    file: FileArg,
    *,
    contract: ContractOpt = None,
    root: RootOpt = None,
    timezone: TimezoneOpt = "UTC",
    mapping: MapOpt = None,
    kind: KindOpt = "bars",
    time_format: TimeFormatOpt = None,
) -> None:
    """Check a file and print its report; exit 1 if it has errors. Nothing is stored."""
    try:
        with _progress(f"validating {file.name}") as advance:
            report = validate_file(
                file,
                mapping=ColumnMapping.parse(mapping or []),
                timezone=timezone,
                contract=contract,
                root=root,
                kind=_kind(kind),
                time_format=time_format,
                progress=advance,
            )
    except (MappingError, FileNotFoundError) as exc:
        raise fail(str(exc), 2) from None
    _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


@app.command("import")
def import_(
    file: FileArg,
    *,
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Dataset name; default ROOT.BARSIZE (ES.1d).")
    ] = None,
    contract: ContractOpt = None,
    root: RootOpt = None,
    timezone: TimezoneOpt = "UTC",
    mapping: MapOpt = None,
    kind: KindOpt = "bars",
    time_format: TimeFormatOpt = None,
) -> None:
    """Validate a file and store it as a new dataset version; on errors store nothing, exit 1."""
    try:
        with _progress(f"importing {file.name}") as advance:
            result = import_file(
                file,
                dataset=dataset,
                mapping=ColumnMapping.parse(mapping or []),
                timezone=timezone,
                contract=contract,
                root=root,
                kind=_kind(kind),
                time_format=time_format,
                progress=advance,
            )
    except (MappingError, FileNotFoundError, StoreError) as exc:
        raise fail(str(exc), 2) from None
    except ValidationFailed as failed:
        _print_report(failed.report)
        _err.print("[red]nothing imported[/red]: fix the errors above and import again")
        raise typer.Exit(1) from None
    if result.report.findings:
        _print_report(result.report)
    if not result.created:
        _out.print("no change: every row was already stored as it is")
    _print_version(result.version)


@app.command("list")
def list_() -> None:
    """Datasets in the store with their latest version, rows and time range."""
    summaries = open_store().datasets()
    if not summaries:
        _out.print("no datasets yet: import one with `contango data import FILE`")
        return
    table = Table()
    table.add_column("dataset", no_wrap=True)
    table.add_column("kind")
    table.add_column("latest", no_wrap=True, min_width=12)
    for name in ("versions", "rows", "contracts"):
        table.add_column(name, justify="right")
    for name in ("start", "end"):
        table.add_column(name, no_wrap=True)
    for s in summaries:
        v = s.latest
        table.add_row(
            s.name,
            s.kind,
            v.id,
            str(s.version_count),
            str(v.rows),
            str(len(v.contracts)),
            _when(v.start),
            _when(v.end),
        )
    _out.print(table)


@app.command("versions")
def versions(dataset: Annotated[str, typer.Argument(help="Dataset name, e.g. ES.1d.")]) -> None:
    """The lineage of a dataset, newest first: who imported what, when, from which file."""
    try:
        chain = open_store().versions(dataset)
    except StoreError as exc:
        raise fail(str(exc), 2) from None
    # One short block per version: the lineage reads top (newest) to bottom (first).
    for v in chain:
        parent = f"parent {v.parent}" if v.parent else "first version"
        _out.print(
            f"[bold]{v.id}[/bold]  {v.created_at:%Y-%m-%d %H:%M:%S} UTC  by {escape(v.author)}"
            f"  ({parent})"
        )
        _out.print(
            f"    {v.rows:,} rows (added {v.rows_added:,}, replaced {v.rows_replaced:,}), "
            f"{len(v.contracts)} contracts, {_when(v.start)} .. {_when(v.end)}",
            markup=False,
        )
        if v.source is not None:
            _out.print(f"    source {v.source.name} {v.source.hash or ''}", markup=False)
        if v.report is not None and v.report.warning_count:
            _out.print(f"    {v.report.summary()}", markup=False)


VersionOpt = Annotated[
    str | None, typer.Option("--version", help="Version id (prefix); default the latest.")
]
ContractFilter = Annotated[
    list[str] | None,
    typer.Option("--contract", help="Only this contract (ESZ24 or ESZ2024), repeatable."),
]


@app.command("show")
def show(
    dataset: Annotated[str, typer.Argument(help="Dataset name, e.g. ES.1d.")],
    version: VersionOpt = None,
    contract: ContractFilter = None,
    head: Annotated[int, typer.Option("--head", min=1, help="Rows to print.")] = 10,
) -> None:
    """Print the first rows of a dataset version."""
    try:
        table = open_store().read(dataset, version=version, contracts=_long_symbols(contract))
    except StoreError as exc:
        raise fail(str(exc), 2) from None
    out = Table(*table.column_names)
    for row in table.slice(0, head).to_pylist():
        out.add_row(*(_cell(v) for v in row.values()))
    _out.print(out)
    _out.print(f"{table.num_rows:,} rows")


def _cell(value: object) -> str:
    """A daily bar's timestamp (midnight UTC, the trade date) prints as its date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@app.command("export")
def export(
    dataset: Annotated[str, typer.Argument(help="Dataset name, e.g. ES.1d.")],
    output: Annotated[Path, typer.Argument(help="Target file: .csv or .parquet.")],
    version: VersionOpt = None,
    contract: ContractFilter = None,
) -> None:
    """Write a dataset version (or some contracts of it) to CSV or Parquet."""
    import pyarrow.csv as pacsv  # only this command writes files
    import pyarrow.parquet as pq

    if output.suffix not in (".csv", ".parquet"):
        raise fail(f"{output}: the file name must end in .csv or .parquet", 2)
    try:
        table = open_store().read(dataset, version=version, contracts=_long_symbols(contract))
    except StoreError as exc:
        raise fail(str(exc), 2) from None
    if output.suffix == ".csv":
        pacsv.write_csv(table, output)
    else:
        pq.write_table(table, output)
    _out.print(f"wrote {table.num_rows} rows to {output}")


def _register_continuous() -> None:
    # The continuous-series command lives in its own module; it is part of the `data` group.
    from contango.cli.continuous import continuous

    app.command("continuous")(continuous)


_register_continuous()
