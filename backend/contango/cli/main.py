"""Entry point of the ``contango`` command.

Exit codes scripts can rely on: 0 success, 1 the work found a problem (a validation error, a
failed check), 2 the command was called wrongly (bad option, unknown contract, missing file).

Command groups are imported only when they are used: the engine's compiled kernels, pandas and
the exchange calendars cost seconds to import, and ``contango contracts list`` should not pay
for the backtester.
"""

from __future__ import annotations

import importlib

import typer
from typer._click.core import Command, Context  # typer vendors click; its types live here
from typer.core import TyperGroup

from contango import __version__

# name -> (module holding a typer ``app``, one-line help shown in ``contango --help``)
_GROUPS: dict[str, tuple[str, str]] = {
    "contracts": ("contango.cli.contracts", "Contract specifications and calendars."),
    "data": ("contango.cli.data", "Import, validate and read market data."),
    "samples": ("contango.cli.samples", "Generate and load the bundled sample data."),
    "backtest": ("contango.cli.backtest", "Run backtests."),
    "audit": ("contango.cli.audit", "Verify, export and checkpoint the audit log."),
}


class _LazyGroup(TyperGroup):
    """A group whose sub-groups are imported on first use."""

    def list_commands(self, ctx: Context) -> list[str]:
        return [*super().list_commands(ctx), *_GROUPS]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in _GROUPS:
            return super().get_command(ctx, cmd_name)
        module_name, help_text = _GROUPS[cmd_name]
        module = importlib.import_module(module_name)
        # Mount the sub-app the way `add_typer` does, so a group with a single command stays a
        # group (`contango samples load`), instead of collapsing into that command.
        holder = typer.Typer()
        holder.add_typer(module.app, name=cmd_name)
        group = typer.main.get_command(holder)
        assert isinstance(group, TyperGroup)
        command = group.commands[cmd_name]
        command.help = command.help or help_text
        command.short_help = help_text
        return command


app = typer.Typer(
    name="contango",
    cls=_LazyGroup,
    help="Contango: futures research and backtesting.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"contango {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Contango: futures research and backtesting."""


@app.command("serve")
def serve(
    host: str | None = typer.Option(None, help="Address to listen on (CONTANGO_HOST)."),
    port: int | None = typer.Option(None, help="Port to listen on (CONTANGO_PORT)."),
    forwarded_allow_ips: str = typer.Option(
        "127.0.0.1",
        help="Proxies whose X-Forwarded-For is trusted for the client address (comma-separated).",
    ),
) -> None:
    """Start the API server with its job runner; the first start creates an admin account."""
    from contango.cli.serve import serve as run_server

    run_server(host=host, port=port, forwarded_allow_ips=forwarded_allow_ips)


@app.command("warm-up")
def warm_up() -> None:
    """Compile the engine's kernels now (a minute or two on a fresh installation, seconds once
    cached): for images and machines whose first job should not wait; contango serve does it
    in the background at start."""
    from contango.cli.console import err, fail, out
    from contango.services.warmup import warm_kernels

    said: list[str] = []
    with err.status("compiling the engine's kernels on the ES daily sample"):
        seconds = warm_kernels(said.append)
    if seconds is None:
        raise fail(said, 1)
    out.print(*said)


@app.command("tour")
def tour() -> None:
    """Show what is loaded and what to try next."""
    from contango.cli import samples

    samples.tour()
