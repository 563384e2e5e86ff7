"""Entry point of the ``contango`` command.

Exit codes scripts can rely on: 0 success, 1 the work found a problem (a validation error, a
failed check), 2 the command was called wrongly (bad option, unknown contract, missing file).
"""

from __future__ import annotations

import typer

from contango import __version__

app = typer.Typer(
    name="contango",
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


def _register() -> None:
    # Imported here so that `contango --version` stays fast and each group stays a small module.
    from contango.cli import backtest, contracts, data, samples

    app.add_typer(contracts.app, name="contracts", help="Contract specifications and calendars.")
    app.add_typer(data.app, name="data", help="Import, validate and read market data.")
    app.add_typer(samples.app, name="samples", help="Generate and load the bundled sample data.")
    app.add_typer(backtest.app, name="backtest", help="Run backtests.")
    app.command("tour", help="Show what is loaded and what to try next.")(samples.tour)


_register()
