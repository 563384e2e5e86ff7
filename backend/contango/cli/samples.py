"""``contango samples`` and ``contango tour``: load the bundled sample data, then look around.

Exit codes: 0 ok (also when ``--if-empty`` finds data and loads nothing); 1 a generated dataset
failed validation (a defect of the generator, reported with the importer's findings); 2 the
command was called wrongly (unknown market, bad date).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from typer.core import TyperGroup

from contango.cli.console import err as _err
from contango.cli.console import out as _out
from contango.data.registry import UnknownRootError, get_registry
from contango.data.samples.load import (
    DEFAULT_END,
    DEFAULT_MINUTE_DAYS,
    DEFAULT_MINUTE_MARKETS,
    DEFAULT_SEED,
    DEFAULT_YEARS,
    LoadStep,
    load_samples,
)
from contango.data.store import open_store
from contango.data.validation import ValidationFailed

if TYPE_CHECKING:
    from contango.data.ingest import ImportResult
    from contango.data.store import DatasetSummary

app = typer.Typer(help="Generate and load the bundled sample data.", no_args_is_help=True)


def _roots(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip().upper() for part in text.split(",") if part.strip()]


def _day(when: datetime | None) -> str:
    return "-" if when is None else when.date().isoformat()


@contextmanager
def _market_bars(enabled: bool) -> Iterator[Callable[[LoadStep], None] | None]:
    """A rich progress display with one bar per market, fed by :class:`LoadStep` events."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_err, transient=False) as progress:
        tasks: dict[str, TaskID] = {}

        def update(step: LoadStep) -> None:
            if step.market not in tasks:
                tasks[step.market] = progress.add_task(step.market, total=step.steps)
            label = f"{step.dataset} {step.stage if step.stage != 'done' else 'ok'}"
            progress.update(tasks[step.market], completed=step.step, description=label)

        yield update


def _table(title: str) -> Table:
    # A light box keeps the seven columns readable in an 80-column terminal.
    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)


def _summary(results: list[ImportResult]) -> Table:
    table = _table("Sample datasets loaded")
    for column in ("dataset", "version", "rows", "contracts", "from", "to"):
        table.add_column(column, justify="right" if column == "rows" else "left", no_wrap=True)
    for result in results:
        version = result.version
        table.add_row(
            version.dataset,
            version.id,
            f"{version.rows:,}",
            str(len(version.contracts)),
            _day(version.start),
            _day(version.end),
        )
    return table


@app.command("load")
def load(
    *,
    if_empty: Annotated[
        bool,
        typer.Option("--if-empty", help="Do nothing when the store already holds any dataset."),
    ] = False,
    markets: Annotated[
        str | None,
        typer.Option("--markets", help="Comma-separated roots (ES,CL); default: every market."),
    ] = None,
    years: Annotated[
        int, typer.Option("--years", min=1, max=35, help="Years of daily bars per market.")
    ] = DEFAULT_YEARS,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed: the same seed gives the same bars.")
    ] = DEFAULT_SEED,
    end: Annotated[
        str,
        typer.Option("--end", help="Last trade date of the sample (YYYY-MM-DD)."),
    ] = DEFAULT_END.isoformat(),
    minute_markets: Annotated[
        str,
        typer.Option("--minute-markets", help="Roots that also get 1-minute bars ('' for none)."),
    ] = ",".join(DEFAULT_MINUTE_MARKETS),
    minute_days: Annotated[
        int,
        typer.Option("--minute-days", min=0, help="Sessions of 1-minute bars, ending at --end."),
    ] = DEFAULT_MINUTE_DAYS,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar per market.")
    ] = True,
) -> None:
    """Generate realistic contract chains for the registry's markets and import them.

    Each dataset (<ROOT>.1d, and <ROOT>.1m for the minute markets) is validated and versioned
    like an imported file. Loading again adds a new version only if the bars changed.
    """
    store = open_store()
    if if_empty and (existing := store.datasets()):
        _out.print(
            f"The store at {store.root} already holds {len(existing)} datasets; nothing loaded "
            "(drop --if-empty to load the samples again)."
        )
        return
    try:
        last = date.fromisoformat(end)
    except ValueError:
        _err.print(f"[red]error:[/red] --end {end!r}: expected a date such as 2025-12-31")
        raise typer.Exit(2) from None
    started = time.perf_counter()
    try:
        with _market_bars(progress) as update:
            results = load_samples(
                markets=_roots(markets),
                years=years,
                end=last,
                seed=seed,
                minute_markets=_roots(minute_markets) or (),
                minute_days=minute_days,
                store=store,
                progress=update,
            )
    except UnknownRootError as exc:
        _err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except ValidationFailed as exc:
        _err.print(f"[red]the generated data failed validation:[/red] {exc}")
        raise typer.Exit(1) from None
    except ValueError as exc:
        _err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    _out.print(_summary(results))
    warned = [
        f"{r.version.dataset}: {r.report.summary()}" for r in results if r.report.warning_count
    ]
    for line in warned:
        _out.print(f"[yellow]warning[/yellow] {line}")
    rows = sum(r.version.rows for r in results)
    _out.print(
        f"{len(results)} datasets, {rows:,} rows in {time.perf_counter() - started:.1f} s "
        f"(seed {seed}) into {store.root}"
    )


def _command_exists(*path: str) -> bool:
    """Whether ``contango <path...>`` is a registered command (the tour lists only those)."""
    from contango.cli.main import app as root_app

    command: object = typer.main.get_command(root_app)
    for name in path:
        # Ask each group for its child: the top level imports its groups only when asked.
        if not isinstance(command, TyperGroup):
            return False
        command = command.get_command(typer.Context(command), name)
        if command is None:
            return False
    return True


def _example_strategy() -> Path | None:
    folder = Path.cwd() / "examples"
    found = sorted(p for p in folder.glob("*") if p.suffix in (".py", ".yaml", ".yml", ".toml"))
    return found[0].relative_to(Path.cwd()) if found else None


def _next_steps(datasets: list[DatasetSummary]) -> list[tuple[tuple[str, ...], str, str]]:
    """(command path, command line, why) for the commands that exist in this build."""
    names = {d.name for d in datasets}
    daily = (
        "ES.1d" if "ES.1d" in names else next((n for n in sorted(names) if n.endswith(".1d")), None)
    )
    root = daily.split(".")[0] if daily else "ES"
    steps: list[tuple[tuple[str, ...], str, str]] = [
        (
            ("contracts", "list"),
            "contango contracts list",
            "every market: point value, tick, margins",
        ),
        (
            ("contracts", "show"),
            f"contango contracts show {root}",
            "one market's full spec and its next expiries",
        ),
        (("data", "list"), "contango data list", "datasets in the store, latest versions"),
    ]
    if daily:
        steps += [
            (
                ("data", "versions"),
                f"contango data versions {daily}",
                "the lineage of a dataset: who imported what, when",
            ),
            (("data", "show"), f"contango data show {daily}", "the first bars of the chain"),
            (
                ("data", "continuous"),
                f"contango data continuous {root} --roll calendar --adjust ratio --out "
                f"{root.lower()}.parquet",
                "a back-adjusted continuous series",
            ),
        ]
    if not names:
        steps.insert(0, (("samples", "load"), "contango samples load", "load the sample data"))
    example = _example_strategy()
    if example is not None:
        steps.append(
            (("backtest", "run"), f"contango backtest run {example}", "run an example strategy")
        )
    return [s for s in steps if _command_exists(*s[0])]


def tour() -> None:
    """Show what is loaded and what to try next."""
    registry = get_registry()
    sectors = registry.by_sector()
    _out.print(
        f"[bold]Contango[/bold] knows {len(registry)} markets in {len(sectors)} sectors: "
        + ", ".join(f"{name.replace('_', ' ')} ({len(specs)})" for name, specs in sectors.items())
    )
    store = open_store()
    datasets = store.datasets()
    if datasets:
        table = _table(f"Datasets in {store.root}")
        for column in ("dataset", "versions", "latest", "rows", "from", "to"):
            table.add_column(
                column, justify="right" if column in ("versions", "rows") else "left", no_wrap=True
            )
        for d in datasets:
            v = d.latest
            table.add_row(
                d.name, str(d.version_count), v.id, f"{v.rows:,}", _day(v.start), _day(v.end)
            )
        _out.print(table)
        rows = sum(d.latest.rows for d in datasets)
        _out.print(f"{len(datasets)} datasets, {rows:,} bars in their latest versions.")
    else:
        _out.print(f"The store at {store.root} is empty.")
    _out.print("\n[bold]Five minutes with Contango[/bold] - try, in order:")
    for number, (_, line, why) in enumerate(_next_steps(datasets), start=1):
        _out.print(f"  {number}. [cyan]{line}[/cyan]\n     {why}")
    _out.print("Every command has --help.")
    if shutil.which("contango") is None:
        # `make run` calls the command from the virtual environment without activating it.
        _out.print(
            f"`contango` is not on your PATH: run `source {Path(sys.prefix) / 'bin' / 'activate'}`"
            " first, or call it as .venv/bin/contango."
        )
