"""``contango data continuous``: build a continuous series from a stored contract chain."""

from __future__ import annotations


def continuous() -> None:
    """Build a continuous series (roll rule, adjustment) and write it to CSV or Parquet."""
