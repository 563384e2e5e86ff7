"""The terminals every command writes to, and the one shape of an error message.

Results go to standard output and problems to standard error, so that a script can pipe the
output of a command and still see why it failed.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(lines: list[str] | str, code: int) -> typer.Exit:
    """Print each line as an error and return the exit to raise (1: a problem, 2: usage)."""
    for line in [lines] if isinstance(lines, str) else lines:
        err.print(f"[red]error:[/red] {escape(line)}")
    return typer.Exit(code)
