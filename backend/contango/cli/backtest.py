"""``contango backtest``: commands of this group."""

from __future__ import annotations

import typer

app = typer.Typer(help="backtest commands.", no_args_is_help=True)
