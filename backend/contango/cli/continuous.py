"""``contango data continuous``: build a continuous series from a stored contract chain.

Exit codes: 0 ok; 1 the chain cannot be joined (e.g. a roll with no bar both contracts traded,
or a ratio adjustment across a negative price); 2 the command was called wrongly (unknown root
or dataset, an output suffix other than .csv or .parquet, a bad option).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from contango.cli.console import err as _err
from contango.cli.console import fail
from contango.cli.console import out as _out
from contango.data.continuous import ContinuousError, ContinuousSeries
from contango.data.continuous_store import (
    ContinuousRequestError,
    check_output_path,
    load_continuous,
    write_continuous,
)
from contango.domain.rolls import (
    Adjustment,
    CalendarRoll,
    OpenInterestCrossover,
    RollReference,
    RollRule,
    VolumeCrossover,
)

_REASONS = {"calendar": "calendar", "volume": "volume", "open_interest": "OI"}


class RollChoice(StrEnum):
    """The roll rules offered on the command line."""

    CALENDAR = "calendar"
    VOLUME = "volume"
    OI = "oi"


class ReferenceChoice(StrEnum):
    """The contract date a calendar deadline counts back from."""

    AUTO = "auto"
    LAST_TRADE = "last_trade"
    FIRST_NOTICE = "first_notice"


def _rule(roll: RollChoice, days: int, reference: ReferenceChoice, confirm: int) -> RollRule:
    as_reference: RollReference = (
        "last_trade"
        if reference is ReferenceChoice.LAST_TRADE
        else "first_notice"
        if reference is ReferenceChoice.FIRST_NOTICE
        else "auto"
    )
    deadline = CalendarRoll(business_days_before=days, reference=as_reference)
    if roll is RollChoice.VOLUME:
        return VolumeCrossover(confirm_bars=confirm, deadline=deadline)
    if roll is RollChoice.OI:
        return OpenInterestCrossover(confirm_bars=confirm, deadline=deadline)
    return deadline


def _when(moment: datetime) -> str:
    """A date for daily bars (stamped 00:00 UTC), a date and time for intraday ones."""
    return f"{moment:%Y-%m-%d}" if moment.time() == time(0) else f"{moment:%Y-%m-%d %H:%M}"


def _caption(adjustment: Adjustment) -> str:
    """What the offset / factor columns mean for this adjustment."""
    if adjustment is Adjustment.NONE:
        return "no adjustment: every bar keeps its contract's traded prices"
    what = "factor: multiplier of" if adjustment.is_ratio else "offset: points added to"
    if adjustment.is_forward:
        return f"{what} the bars from the roll on, by this roll; total: by all rolls so far"
    return f"{what} the bars before the roll, by this roll; total: by all later rolls"


def _rolls_table(series: ContinuousSeries) -> Table:
    """The roll schedule, narrow enough for an 80-column terminal.

    The file written next to the series has every field (closes and the bar the gap was
    measured on, usually the old contract's last bar).
    """
    ratio = series.rolls.adjustment.is_ratio
    table = Table(
        title=f"Roll schedule ({series.rolls.adjustment.value} adjustment)",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        collapse_padding=True,
        show_edge=False,
    )
    for name in ("roll at", "from -> to", "reason"):
        table.add_column(name, no_wrap=True)
    for name in ("gap", "factor" if ratio else "offset", "total"):
        table.add_column(name, justify="right", no_wrap=True)
    table.caption = _caption(series.rolls.adjustment)
    for event in series.rolls:
        table.add_row(
            _when(event.ts),
            f"{event.from_contract} -> {event.to_contract}",
            _REASONS[event.reason],
            f"{event.gap:+.6g}",
            f"{event.adjustment:.8g}",
            f"{event.cumulative:.8g}",
        )
    return table


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _summary(series: ContinuousSeries, dataset: str, version: str) -> str:
    table = series.table
    if table.num_rows == 0:
        return f"{dataset} @ {version}: no bars in the requested range"
    ts = table.column("ts")
    first, last = ts[0].as_py(), ts[-1].as_py()
    contracts = len(set(table.column("contract").to_pylist()))
    return (
        f"{dataset} @ {version}: {table.num_rows:,} bars from {_when(first)} to {_when(last)}"
        f" (UTC), {_count(contracts, 'contract')}, {_count(len(series.rolls), 'roll')}"
    )


RootArg = Annotated[str, typer.Argument(help="Market root, e.g. ES or CL.")]
RollOpt = Annotated[
    RollChoice,
    typer.Option(
        "--roll",
        help="calendar: roll N business days before the reference date; volume / oi: roll when "
        "the next contract's volume / open interest is higher, by the calendar date at the latest.",
    ),
]
DaysOpt = Annotated[
    int,
    typer.Option("--days", min=0, help="Business days before the reference date (calendar roll)."),
]
ReferenceOpt = Annotated[
    ReferenceChoice,
    typer.Option(
        "--reference",
        help="Date the calendar roll counts back from; auto = first notice day for markets with "
        "one, else the last trade day.",
    ),
]
ConfirmOpt = Annotated[
    int,
    typer.Option("--confirm", min=1, help="volume / oi: bars in a row the crossover must hold."),
]
AdjustOpt = Annotated[
    Adjustment,
    typer.Option(
        "--adjust",
        help="none; difference (back-adjusted by the gap in points); ratio (back-adjusted by "
        "the price ratio); forward / forward-ratio (first contract kept, later ones moved).",
    ),
]
NearbyOpt = Annotated[
    int, typer.Option("--nearby", min=1, help="1 = front month, 2 = the contract after it, ...")
]
DatasetOpt = Annotated[
    str | None, typer.Option("--dataset", help="Stored dataset to read (default: ROOT.1d).")
]
VersionOpt = Annotated[
    str | None, typer.Option("--version", help="Dataset version id or prefix (default: latest).")
]
StartOpt = Annotated[
    datetime | None,
    typer.Option("--start", formats=["%Y-%m-%d"], help="First trade date kept (inclusive)."),
]
EndOpt = Annotated[
    datetime | None,
    typer.Option("--end", formats=["%Y-%m-%d"], help="Last trade date kept (inclusive)."),
]
OutOpt = Annotated[
    Path,
    typer.Option("--out", help="Output .csv or .parquet; the rolls go to NAME.rolls.<suffix>."),
]


def continuous(
    root: RootArg,
    *,
    out: OutOpt,
    roll: RollOpt = RollChoice.CALENDAR,
    days: DaysOpt = 5,
    reference: ReferenceOpt = ReferenceChoice.AUTO,
    confirm: ConfirmOpt = 1,
    adjust: AdjustOpt = Adjustment.NONE,
    nearby: NearbyOpt = 1,
    dataset: DatasetOpt = None,
    version: VersionOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
) -> None:
    """Build a continuous series (roll rule, adjustment) and write it to CSV or Parquet."""
    if start is not None and end is not None and end < start:
        raise fail(f"--end {end:%Y-%m-%d} is before --start {start:%Y-%m-%d}", 2)
    try:
        check_output_path(out)
        rule = _rule(roll, days, reference, confirm)
        with _err.status(f"building the {root} continuous series..."):
            built = load_continuous(
                root,
                rule=rule,
                adjustment=adjust,
                nearby=nearby,
                dataset=dataset,
                version=version,
                start=None if start is None else start.date(),
                end=None if end is None else end.date() + timedelta(days=1),
            )
        schedule_path = write_continuous(built.series, out)
    except ContinuousRequestError as exc:
        raise fail(str(exc), 2) from None
    except ContinuousError as exc:
        raise fail(str(exc), 1) from None
    _out.print(_summary(built.series, built.dataset, built.version))
    if len(built.series.rolls):
        _out.print(_rolls_table(built.series))
    _out.print(f"wrote {escape(str(out))} ({built.series.table.num_rows:,} bars)")
    _out.print(f"wrote the roll schedule to {escape(str(schedule_path))}")
