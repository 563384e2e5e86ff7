"""Month codes and futures symbols, both ways."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from contango.domain.contracts import FuturesContract
from contango.domain.months import MonthCode, parse_month_codes
from contango.domain.symbols import format_symbol, parse_symbol, resolve_year


def test_month_codes_map_letters_to_calendar_months() -> None:
    assert [m.letter for m in MonthCode] == list("FGHJKMNQUVXZ")
    assert MonthCode.from_letter("z").month == 12
    assert MonthCode.from_month(3) is MonthCode.H


def test_parse_month_codes_sorts_and_deduplicates() -> None:
    assert parse_month_codes("ZUHMH") == (MonthCode.H, MonthCode.M, MonthCode.U, MonthCode.Z)


def test_unknown_month_letter_is_refused_with_allowed_letters() -> None:
    with pytest.raises(ValueError, match="FGHJKMNQUVXZ"):
        parse_month_codes("HMA")


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("ESZ4", FuturesContract("ES", 2024, MonthCode.Z)),
        ("ESZ24", FuturesContract("ES", 2024, MonthCode.Z)),
        ("ESZ2024", FuturesContract("ES", 2024, MonthCode.Z)),
        ("CLF25", FuturesContract("CL", 2025, MonthCode.F)),
        ("6EH25", FuturesContract("6E", 2025, MonthCode.H)),
        ("6JM5", FuturesContract("6J", 2025, MonthCode.M)),
        ("FGBLZ24", FuturesContract("FGBL", 2024, MonthCode.Z)),
        ("ZNZ24", FuturesContract("ZN", 2024, MonthCode.Z)),  # root ends in a month letter
        (" esz24 ", FuturesContract("ES", 2024, MonthCode.Z)),
    ],
)
def test_parse_symbol_reads_root_month_and_year(symbol: str, expected: FuturesContract) -> None:
    assert parse_symbol(symbol, reference_year=2024) == expected


@pytest.mark.parametrize(
    ("year_text", "reference", "expected"),
    [
        # 1 digit: window [reference - 5, reference + 4] = [2019, 2028] for 2024.
        ("9", 2024, 2019),
        ("8", 2024, 2028),
        ("4", 2024, 2024),
        ("0", 2024, 2020),
        # 2 digits: window [reference - 50, reference + 49] = [1974, 2073] for 2024.
        ("74", 2024, 1974),
        ("73", 2024, 2073),
        ("99", 2024, 1999),
        ("00", 2024, 2000),
        ("2031", 2024, 2031),
    ],
)
def test_short_years_resolve_inside_the_documented_window(
    year_text: str, reference: int, expected: int
) -> None:
    assert resolve_year(year_text, reference) == expected


def test_long_symbol_is_the_canonical_four_digit_form() -> None:
    contract = FuturesContract("ES", 2024, MonthCode.Z)
    assert contract.long_symbol == "ESZ2024"
    assert contract.symbol == "ESZ24"
    assert format_symbol(contract, 1) == "ESZ4"
    assert format_symbol(contract, 2) == "ESZ24"
    assert format_symbol(contract, 4) == "ESZ2024"


@pytest.mark.parametrize(
    ("symbol", "message"),
    [
        ("ESZ", "has no year"),
        ("ESA24", "no valid month code"),
        ("ES24", "no valid month code"),
        ("ESZ202", "3-digit year"),
        ("ESZ20245", "5-digit year"),
        ("Z24", "no root"),
        ("24", "no root or month code"),
        ("", "empty contract symbol"),
        ("ABCDEZ24", "longer than 4 characters"),
        ("E-SZ24", "letters or digits only"),
    ],
)
def test_malformed_symbols_say_what_is_wrong(symbol: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_symbol(symbol, reference_year=2024)


def test_format_symbol_refuses_other_digit_counts() -> None:
    with pytest.raises(ValueError, match="1, 2 or 4"):
        format_symbol(FuturesContract("ES", 2024, MonthCode.Z), 3)  # type: ignore[arg-type]


def test_contracts_order_by_expiry_within_a_root() -> None:
    z24 = FuturesContract("ES", 2024, MonthCode.Z)
    h25 = FuturesContract("ES", 2025, MonthCode.H)
    m24 = FuturesContract("ES", 2024, MonthCode.M)
    assert sorted([h25, z24, m24]) == [m24, z24, h25]


_roots = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=4)
_months = st.sampled_from(list(MonthCode))


@given(root=_roots, month=_months, reference=st.integers(1960, 2140), offset=st.integers(-5, 4))
def test_one_digit_symbols_round_trip_inside_the_window(
    root: str, month: MonthCode, reference: int, offset: int
) -> None:
    contract = FuturesContract(root, reference + offset, month)
    assert parse_symbol(format_symbol(contract, 1), reference_year=reference) == contract


@given(root=_roots, month=_months, reference=st.integers(1960, 2140), offset=st.integers(-50, 49))
def test_two_digit_symbols_round_trip_inside_the_window(
    root: str, month: MonthCode, reference: int, offset: int
) -> None:
    year = reference + offset
    assume(1900 <= year <= 2199)
    contract = FuturesContract(root, year, month)
    assert parse_symbol(format_symbol(contract, 2), reference_year=reference) == contract


@given(root=_roots, month=_months, year=st.integers(1900, 2199), reference=st.integers(1900, 2199))
def test_four_digit_symbols_round_trip_whatever_the_reference(
    root: str, month: MonthCode, year: int, reference: int
) -> None:
    contract = FuturesContract(root, year, month)
    assert parse_symbol(contract.long_symbol, reference_year=reference) == contract
