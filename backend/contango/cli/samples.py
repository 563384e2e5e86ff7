"""``contango samples``: commands of this group."""

from __future__ import annotations

import typer

app = typer.Typer(help="samples commands.", no_args_is_help=True)


def tour() -> None:
    """Show what is loaded and what to try next."""
