"""``contango data``: commands of this group."""

from __future__ import annotations

import typer

app = typer.Typer(help="data commands.", no_args_is_help=True)


def _register_continuous() -> None:
    # The continuous-series command lives in its own module; it is part of the `data` group.
    from contango.cli.continuous import continuous

    app.command("continuous")(continuous)


_register_continuous()
