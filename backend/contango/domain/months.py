"""Futures delivery month codes (F=January ... Z=December), as every exchange lists them."""

from __future__ import annotations

from enum import Enum


class MonthCode(Enum):
    """A delivery month and its one-letter exchange code."""

    F = 1
    G = 2
    H = 3
    J = 4
    K = 5
    M = 6
    N = 7
    Q = 8
    U = 9
    V = 10
    X = 11
    Z = 12

    @property
    def letter(self) -> str:
        """The exchange's letter for this month, e.g. ``"Z"`` for December."""
        return self.name

    @property
    def month(self) -> int:
        """The calendar month, 1 to 12."""
        return self.value

    @classmethod
    def from_letter(cls, letter: str) -> MonthCode:
        """Parse a month letter; lower case is accepted, anything else is an error."""
        try:
            return cls[letter.upper()]
        except KeyError:
            allowed = "".join(m.name for m in cls)
            raise ValueError(f"unknown month code {letter!r}: expected one of {allowed}") from None

    @classmethod
    def from_month(cls, month: int) -> MonthCode:
        """The code for calendar month ``month`` (1 to 12)."""
        if not 1 <= month <= 12:
            raise ValueError(f"month must be 1 to 12, got {month}")
        return cls(month)


def parse_month_codes(codes: str) -> tuple[MonthCode, ...]:
    """Parse a listed-months string such as ``"HMUZ"`` into sorted month codes."""
    months = {MonthCode.from_letter(c) for c in codes}
    if not months:
        raise ValueError("a market must list at least one contract month")
    return tuple(sorted(months, key=lambda m: m.value))
