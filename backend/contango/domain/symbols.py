"""Futures symbols both ways: ``"ESZ24"`` <-> ``FuturesContract("ES", 2024, MonthCode.Z)``.

A symbol is ROOT + month code + year. Roots are 1 to 4 upper-case letters or digits (``6E``,
``FGBL``); the year is written with 1, 2 or 4 digits. One- and two-digit years are ambiguous, so
they are resolved against a reference year with a fixed window (so the answer never depends on
anything but the inputs):

* 1 digit: the one year ending in that digit in ``[reference - 5, reference + 4]``
  (reference 2024: ``"ESZ9"`` is 2019, ``"ESZ8"`` is 2028);
* 2 digits: the one year ending in those digits in ``[reference - 50, reference + 49]``
  (reference 2024: ``"ESZ74"`` is 2074, ``"ESZ75"`` is 1975);
* 4 digits: taken literally. ``FuturesContract.long_symbol`` (``ESZ2024``) is the canonical form
  stored in data files for exactly this reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from contango.domain.contracts import FuturesContract
from contango.domain.months import MonthCode

YearDigits = Literal[1, 2, 4]

_MAX_ROOT_LENGTH = 4
_MONTH_LETTERS = "".join(m.letter for m in MonthCode)
_EXAMPLE = "expected ROOT + month code + year, e.g. ESZ4, ESZ24 or ESZ2024"
# Windows, as (years back, years forward) from the reference year; each holds exactly one year
# for every possible ending, which is what makes the resolution unambiguous.
_ONE_DIGIT_WINDOW = (5, 4)
_TWO_DIGIT_WINDOW = (50, 49)


def resolve_year(year_text: str, reference_year: int) -> int:
    """The full year that ``year_text`` (1, 2 or 4 digits) names, seen from ``reference_year``."""
    if not year_text.isdigit() or not year_text.isascii():
        raise ValueError(f"year {year_text!r} must be digits")
    digits = len(year_text)
    value = int(year_text)
    if digits == 4:
        return value
    if digits == 1:
        back, _ = _ONE_DIGIT_WINDOW
        modulus = 10
    elif digits == 2:
        back, _ = _TWO_DIGIT_WINDOW
        modulus = 100
    else:
        raise ValueError(f"year {year_text!r} must have 1, 2 or 4 digits")
    start = reference_year - back
    # The first year >= start whose last digit(s) match.
    return start + (value - start) % modulus


def parse_symbol(symbol: str, *, reference_year: int | None = None) -> FuturesContract:
    """Parse ``"ESZ4"``, ``"ESZ24"``, ``"ESZ2024"`` or ``"6EH25"`` into a contract.

    ``reference_year`` anchors one- and two-digit years (see the module docstring); when it is
    None the current UTC calendar year is used, which is fine for interactive input but not for
    stored data (store ``long_symbol`` instead). Lower case and surrounding blanks are accepted.
    Raises ValueError saying what is wrong with the symbol.
    """
    text = symbol.strip().upper()
    if not text:
        raise ValueError(f"empty contract symbol: {_EXAMPLE}")
    stem = text.rstrip("0123456789")
    year_text = text[len(stem) :]
    if not year_text:
        raise ValueError(f"symbol {symbol!r} has no year: {_EXAMPLE}")
    if len(year_text) not in (1, 2, 4):
        raise ValueError(
            f"symbol {symbol!r} has a {len(year_text)}-digit year {year_text!r}: "
            f"use 1, 2 or 4 digits ({_EXAMPLE})"
        )
    if not stem:
        raise ValueError(f"symbol {symbol!r} has no root or month code: {_EXAMPLE}")
    letter, root = stem[-1], stem[:-1]
    if letter not in _MONTH_LETTERS:
        raise ValueError(
            f"symbol {symbol!r} has no valid month code: {letter!r} before the year is not one "
            f"of {_MONTH_LETTERS} ({_EXAMPLE})"
        )
    _check_root(root, symbol)
    if reference_year is None:
        reference_year = dt.datetime.now(dt.UTC).year
    year = resolve_year(year_text, reference_year)
    try:
        return FuturesContract(root, year, MonthCode.from_letter(letter))
    except ValueError as exc:
        raise ValueError(f"symbol {symbol!r}: {exc}") from None


def _check_root(root: str, symbol: str) -> None:
    if not root:
        raise ValueError(f"symbol {symbol!r} has no root before the month code: {_EXAMPLE}")
    if len(root) > _MAX_ROOT_LENGTH:
        raise ValueError(
            f"symbol {symbol!r}: root {root!r} is longer than {_MAX_ROOT_LENGTH} characters"
        )
    if not (root.isascii() and root.isalnum()):
        raise ValueError(f"symbol {symbol!r}: root {root!r} must be letters or digits only")


def format_symbol(contract: FuturesContract, digits: YearDigits = 2) -> str:
    """The symbol of ``contract`` with a 1-, 2- or 4-digit year (``ESZ4``, ``ESZ24``, ``ESZ2024``).

    Short forms lose information; they read back correctly only when :func:`parse_symbol` gets
    a reference year whose window contains the contract's year.
    """
    if digits == 4:
        return contract.long_symbol
    if digits == 2:
        return contract.symbol
    if digits == 1:
        return f"{contract.root}{contract.month.letter}{contract.year % 10}"
    raise ValueError(f"digits must be 1, 2 or 4, got {digits!r}")
