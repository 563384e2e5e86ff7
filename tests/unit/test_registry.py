"""The bundled contract registry, user overrides and the errors a bad file produces."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from contango.data.registry import (
    BUNDLED_REGISTRY,
    RegistryError,
    UnknownRootError,
    clear_registry_cache,
    get_registry,
    load_specs_file,
)
from contango.domain.contracts import SECTORS, FuturesContract
from contango.domain.months import MonthCode

REQUIRED_ROOTS = [
    "ES",
    "NQ",
    "YM",
    "RTY",
    "ZT",
    "ZF",
    "ZN",
    "ZB",
    "CL",
    "NG",
    "RB",
    "HO",
    "GC",
    "SI",
    "HG",
    "6E",
    "6J",
    "6B",
    "6A",
    "ZC",
    "ZS",
    "ZW",
    "LE",
    "HE",
    "KC",
    "FESX",
    "FGBL",
]


@pytest.fixture(autouse=True)
def _fresh_registry() -> None:
    clear_registry_cache()


# Each row: root, point value, tick size, tick value, currency -- from the exchange contract
# specification pages, with the arithmetic that ties them together.
EXCHANGE_SPECS = [
    ("ES", 50, 0.25, 12.50, "USD"),  # $50 x index; 0.25 x 50 = 12.50
    ("NQ", 20, 0.25, 5.00, "USD"),  # $20 x index; 0.25 x 20 = 5
    ("YM", 5, 1, 5.00, "USD"),  # $5 x index; 1 x 5 = 5
    ("RTY", 50, 0.1, 5.00, "USD"),  # $50 x index; 0.1 x 50 = 5
    ("ZT", 2000, 1 / 256, 7.8125, "USD"),  # $200,000 face: 1 point = $2,000; 1/8 of 1/32
    ("ZF", 1000, 1 / 128, 7.8125, "USD"),  # $100,000 face; 1/4 of 1/32 = 1/128 x 1000
    ("ZN", 1000, 1 / 64, 15.625, "USD"),  # 1/2 of 1/32 = 1/64 x 1000 = 15.625
    ("ZB", 1000, 1 / 32, 31.25, "USD"),  # 1/32 x 1000 = 31.25
    ("CL", 1000, 0.01, 10.00, "USD"),  # 1,000 bbl; $0.01 x 1000 = 10
    ("NG", 10000, 0.001, 10.00, "USD"),  # 10,000 MMBtu; 0.001 x 10000 = 10
    ("RB", 42000, 0.0001, 4.20, "USD"),  # 42,000 gal; 0.0001 x 42000 = 4.20
    ("HO", 42000, 0.0001, 4.20, "USD"),
    ("GC", 100, 0.1, 10.00, "USD"),  # 100 oz; 0.10 x 100 = 10
    ("SI", 5000, 0.005, 25.00, "USD"),  # 5,000 oz; 0.005 x 5000 = 25
    ("HG", 25000, 0.0005, 12.50, "USD"),  # 25,000 lb; 0.0005 x 25000 = 12.50
    ("6E", 125000, 0.00005, 6.25, "USD"),  # EUR 125,000; 0.00005 x 125000 = 6.25
    ("6J", 12_500_000, 0.0000005, 6.25, "USD"),  # JPY 12.5m; 0.0000005 x 12.5m = 6.25
    ("6B", 62500, 0.0001, 6.25, "USD"),  # GBP 62,500; 0.0001 x 62500 = 6.25
    ("6A", 100000, 0.0001, 10.00, "USD"),  # AUD 100,000; outright 0.0001 x 100000 = 10
    ("ZC", 50, 0.25, 12.50, "USD"),  # 5,000 bu x $0.01 = $50 per cent; 1/4 cent = 12.50
    ("ZS", 50, 0.25, 12.50, "USD"),
    ("ZW", 50, 0.25, 12.50, "USD"),
    ("LE", 400, 0.025, 10.00, "USD"),  # 40,000 lb x $0.01 = $400 per cent; 0.025 x 400 = 10
    ("HE", 400, 0.025, 10.00, "USD"),
    ("KC", 375, 0.05, 18.75, "USD"),  # 37,500 lb x $0.01 = $375 per cent; 0.05 x 375 = 18.75
    ("FESX", 10, 1, 10.00, "EUR"),  # EUR 10 per index point; tick 1 = EUR 10
    ("FGBL", 1000, 0.01, 10.00, "EUR"),  # EUR 100,000 nominal: 1% = EUR 1,000; 0.01 = EUR 10
    ("FDAX", 25, 1, 25.00, "EUR"),  # EUR 25 per point; tick 1 point = EUR 25
    ("MES", 5, 0.25, 1.25, "USD"),  # $5 x index; 0.25 x 5 = 1.25
    ("SB", 1120, 0.01, 11.20, "USD"),  # 112,000 lb x $0.01 = $1,120 per cent; 0.01 -> 11.20
    ("CC", 10, 1, 10.00, "USD"),  # 10 t; $1/t x 10 = 10
    ("CT", 500, 0.01, 5.00, "USD"),  # 50,000 lb x $0.01 = $500 per cent; 0.01 -> 5
]


def test_bundled_registry_covers_every_required_market() -> None:
    registry = get_registry()
    assert len(registry) >= 27
    missing = [root for root in REQUIRED_ROOTS if root not in registry]
    assert missing == []


@pytest.mark.parametrize(("root", "point_value", "tick", "tick_value", "ccy"), EXCHANGE_SPECS)
def test_point_value_and_tick_match_the_exchange(
    root: str, point_value: float, tick: float, tick_value: float, ccy: str
) -> None:
    spec = get_registry().spec(root)
    assert spec.point_value == point_value
    assert math.isclose(spec.tick_size, tick, rel_tol=1e-12)
    assert math.isclose(spec.tick_value, tick_value, rel_tol=1e-12)
    assert spec.currency == ccy


def test_every_sector_is_represented_in_canonical_order() -> None:
    groups = get_registry().by_sector()
    assert tuple(groups) == SECTORS
    assert {s.root for s in groups["fx"]} >= {"6E", "6J", "6B", "6A"}


def test_treasuries_carry_a_fractional_price_quote() -> None:
    registry = get_registry()
    quotes = {root: registry.spec(root).price_quote for root in ("ZT", "ZF", "ZN", "ZB", "ES")}
    assert quotes == {
        "ZT": "eighth_32nds",
        "ZF": "quarter_32nds",
        "ZN": "half_32nds",
        "ZB": "32nds",
        "ES": "decimal",
    }


def test_cash_settled_markets_have_no_first_notice_rule() -> None:
    for spec in get_registry().specs():
        if spec.settlement == "cash":
            assert spec.first_notice_rule is None, spec.root


def test_spec_lookup_is_case_insensitive() -> None:
    assert get_registry().spec("es").root == "ES"


def test_unknown_root_lists_close_matches() -> None:
    with pytest.raises(UnknownRootError, match=r"did you mean.*ES"):
        get_registry().spec("EX")


def test_registry_parse_checks_root_and_listed_month() -> None:
    registry = get_registry()
    assert registry.parse("ESZ24", reference_year=2024) == FuturesContract("ES", 2024, MonthCode.Z)
    with pytest.raises(ValueError, match="lists months HMUZ, not F"):
        registry.parse("ESF25", reference_year=2024)
    with pytest.raises(UnknownRootError):
        registry.parse("QQZ24", reference_year=2024)


def _bundled_entry(root: str) -> dict[str, object]:
    document = yaml.safe_load(BUNDLED_REGISTRY.read_text(encoding="utf-8"))
    entry: dict[str, object] = document["markets"][root]
    return entry


def _write_user_file(folder: Path, name: str, markets: dict[str, object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump({"markets": markets}), encoding="utf-8")
    return path


def test_user_file_adds_a_market_and_overrides_a_bundled_one(data_dir: Path) -> None:
    es = _bundled_entry("ES")
    micro_nq = {
        **_bundled_entry("NQ"),
        "name": "Micro E-mini Nasdaq-100",
        "point_value": 2,
        "tick_value": 0.5,
    }  # $2 x index; 0.25 x 2 = 0.50
    cheaper_es = {**es, "margin": {"initial": 1000, "maintenance": 900}}
    _write_user_file(data_dir / "specs", "mine.yaml", {"MNQ": micro_nq, "ES": cheaper_es})

    registry = get_registry()

    assert registry.spec("MNQ").point_value == 2
    assert registry.spec("ES").initial_margin == 1000
    assert registry.source("ES").name == "mine.yaml"
    assert registry.source("CL") == BUNDLED_REGISTRY


def test_editing_a_user_file_is_picked_up_without_clearing(data_dir: Path) -> None:
    entry = {**_bundled_entry("ES"), "name": "first"}
    path = _write_user_file(data_dir / "specs", "a.yaml", {"ESX": entry})
    assert get_registry().spec("ESX").name == "first"
    path.write_text(yaml.safe_dump({"markets": {"ESX": {**entry, "name": "second!"}}}))
    assert get_registry().spec("ESX").name == "second!"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"sector": "crypto"}, r"market BAD: field 'sector': Input should be 'equity_index'"),
        ({"settlement": "cashh"}, r"field 'settlement': Input should be 'cash' or 'physical'"),
        ({"months": "HMA"}, r"field 'months': String should match pattern"),
        ({"tick_value": 13}, r"market BAD: .*tick_value 13.0 != tick_size 0.25 x point_value 50"),
        ({"point_value": -50}, r"field 'point_value': Input should be greater than 0"),
        ({"calendar": "CME_Equityy"}, r"field 'calendar'.*did you mean CME_Equity"),
        ({"multiplier": 50}, r"field 'multiplier': Extra inputs are not permitted"),
        ({"currency": "usd"}, r"field 'currency': String should match pattern"),
    ],
)
def test_bad_entry_error_names_file_market_and_field(
    data_dir: Path, change: dict[str, object], expected: str
) -> None:
    path = _write_user_file(
        data_dir / "specs", "bad.yaml", {"BAD": {**_bundled_entry("ES"), **change}}
    )
    with pytest.raises(RegistryError, match=expected) as info:
        load_specs_file(path)
    assert str(path) in str(info.value)


def test_bad_rule_error_names_the_nested_field(data_dir: Path) -> None:
    rule = {"anchor": "nth_weekday", "nth": 3, "weekday": "funday"}
    entry = {**_bundled_entry("ES"), "last_trade": rule}
    path = _write_user_file(data_dir / "specs", "bad.yaml", {"BAD": entry})
    with pytest.raises(RegistryError, match=r"field 'last_trade.weekday'"):
        load_specs_file(path)


def test_cash_settled_market_with_first_notice_is_refused(data_dir: Path) -> None:
    entry = {**_bundled_entry("ES"), "first_notice": {"anchor": "last_business_day"}}
    path = _write_user_file(data_dir / "specs", "bad.yaml", {"BAD": entry})
    with pytest.raises(RegistryError, match="cash-settled market has no first notice"):
        load_specs_file(path)


def test_invalid_yaml_names_the_file(data_dir: Path) -> None:
    folder = data_dir / "specs"
    folder.mkdir(parents=True)
    (folder / "broken.yaml").write_text("markets: {ES: [unclosed\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"broken\.yaml: not valid YAML"):
        get_registry()


def test_file_without_markets_mapping_is_refused(data_dir: Path) -> None:
    folder = data_dir / "specs"
    folder.mkdir(parents=True)
    (folder / "empty.yaml").write_text("market: {}\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"empty\.yaml: expected a mapping with a 'markets:'"):
        get_registry()
