"""``contango audit``: verify, export and checkpoint the audit log of this deployment.

Exit codes: 0 ok; 1 verification found tampering (each problem is printed with the check that
failed and the entry number); 2 the command was called wrongly (bad option, unwritable file).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, BinaryIO, TypeVar

import typer
from rich.markup import escape

from contango import audit
from contango.cli.console import err, fail, out
from contango.services.context import ServiceContext, open_context
from contango.settings import get_settings

app = typer.Typer(help="Verify, export and checkpoint the audit log.", no_args_is_help=True)

T = TypeVar("T")


def _run(work: Callable[[ServiceContext], Awaitable[T]]) -> T:
    async def main() -> T:
        context = await open_context(get_settings())
        try:
            return await work(context)
        finally:
            await context.close()

    return asyncio.run(main())


def _aware(moment: datetime | None) -> datetime | None:
    # typer parses ISO dates without a zone; the command line speaks UTC unless told otherwise.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@app.command()
def verify() -> None:
    """Recompute every hash, follow the chain and compare it with the signed checkpoints."""
    report = _run(lambda context: audit.verify_audit_log(context.database, context.settings))
    out.print(
        f"entries {report.entries} (seq {report.first_seq}..{report.last_seq}), "
        f"head {report.head_seq}, valid checkpoints {report.checkpoints} "
        f"(last at {report.last_checkpoint_seq})"
    )
    for note in report.notes:
        out.print(f"note: {escape(note)}")
    if report.ok:
        out.print("[green]ok[/green]: the audit log is intact")
        return
    lines = [f"[{p.check.value}] seq {p.seq}: {p.message}" for p in report.problems]
    if report.problems_not_listed:
        lines.append(f"... and {report.problems_not_listed} more problems")
    raise fail(lines, 1)


async def _export(context: ServiceContext, wanted: audit.EntryFilter, sink: BinaryIO) -> int:
    started = await audit.start_export(
        context.database, context.settings, wanted, actor_id=None, actor="cli"
    )
    async for line in started.lines:
        sink.write(line)
    sink.flush()
    return started.checkpoint.seq


@app.command()
def export(  # noqa: PLR0917  (typer maps each parameter to an option)
    out_file: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output).")
    ] = None,
    first_seq: Annotated[int | None, typer.Option(min=1, help="First entry number.")] = None,
    last_seq: Annotated[int | None, typer.Option(min=1, help="Last entry number.")] = None,
    since: Annotated[datetime | None, typer.Option(help="From this time (UTC if no zone).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Before this time.")] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action.")] = None,
) -> None:
    """Write entries as JSON lines, ending with a checkpoint signed now."""
    wanted = audit.EntryFilter(
        actor=actor,
        action=action,
        since=_aware(since),
        until=_aware(until),
        first_seq=first_seq,
        last_seq=last_seq,
    )
    if out_file is None:
        seq = _run(lambda context: _export(context, wanted, sys.stdout.buffer))
    else:
        try:
            with out_file.open("wb") as sink:
                seq = _run(lambda context: _export(context, wanted, sink))
        except OSError as error:
            raise fail(f"cannot write {out_file}: {error.strerror}", 2) from error
    err.print(f"exported up to entry {seq}, checkpoint appended to the export")


@app.command()
def checkpoint() -> None:
    """Sign the current head of the chain and append it to the checkpoint file."""
    made = _run(
        lambda context: audit.write_checkpoint(context.database, context.settings, reason="manual")
    )
    if made is None:  # only if_changed=True skips, which this command does not ask for
        raise fail("no checkpoint was written", 1)
    where = audit.checkpoint_path(get_settings())
    out.print(f"checkpoint at entry {made.seq} ({made.hash[:16]}...) -> {where}")
