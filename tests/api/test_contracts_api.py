"""Contract endpoints: markets of the registry, one market's spec, its chain and one contract.

Expected figures are the exchanges' published specifications and dates, not the code's output:
ES $50 per point, tick 0.25 = $12.50, cash-settled, last trade on the third Friday of the
contract month (2024: Mar 15, Jun 21, Sep 20, Dec 20; 2025: Mar 21); CL 1,000 barrels, tick
0.01 = $10; ZN has a first notice day (last business day of the month before delivery).
"""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from market_data import problem

CONTRACTS = "/api/v1/contracts"


@pytest.fixture
def headers(login) -> dict[str, str]:  # type: ignore[no-untyped-def]
    # Every role may read contracts; the least privileged one proves it.
    return login("viewer")


def test_energy_sector_lists_the_four_energy_markets_with_their_specs(
    client: TestClient, headers: dict[str, str]
) -> None:
    body = client.get(CONTRACTS, params={"sector": "energy"}, headers=headers).json()
    assert {m["root"] for m in body["items"]} == {"CL", "NG", "RB", "HO"}
    assert body["total"] == 4
    cl = next(m for m in body["items"] if m["root"] == "CL")
    assert (cl["point_value"], cl["tick_size"], cl["tick_value"]) == (1000, 0.01, 10)
    assert (cl["currency"], cl["exchange"], cl["settlement"]) == ("USD", "NYMEX", "physical")


def test_filters_combine_and_paging_slices_the_same_list(
    client: TestClient, headers: dict[str, str]
) -> None:
    eur = client.get(CONTRACTS, params={"currency": "eur"}, headers=headers).json()
    assert {"FESX", "FDAX", "FGBL"} <= {m["root"] for m in eur["items"]}
    assert all(m["currency"] == "EUR" for m in eur["items"])
    search = client.get(CONTRACTS, params={"search": "crude"}, headers=headers).json()
    assert "CL" in {m["root"] for m in search["items"]}
    whole = client.get(CONTRACTS, params={"limit": 500}, headers=headers).json()
    assert whole["total"] == 32  # the README's registry: 32 markets
    page = client.get(CONTRACTS, params={"limit": 5, "offset": 5}, headers=headers).json()
    assert page["items"] == whole["items"][5:10]
    assert (page["total"], page["limit"], page["offset"]) == (32, 5, 5)


def test_unknown_sector_is_a_422_naming_the_field(
    client: TestClient, headers: dict[str, str]
) -> None:
    body = problem(client.get(CONTRACTS, params={"sector": "equity"}, headers=headers), 422)
    assert body["field"] == "sector"
    assert "equity_index" in body["detail"]


def test_es_spec_has_the_exchange_figures_and_its_roll_rule(
    client: TestClient, headers: dict[str, str]
) -> None:
    es = client.get(f"{CONTRACTS}/ES", headers=headers).json()
    assert (es["point_value"], es["tick_size"], es["tick_value"]) == (50, 0.25, 12.5)
    assert (es["currency"], es["settlement"], es["months"]) == ("USD", "cash", "HMUZ")
    assert es["first_notice_rule"] is None
    assert es["last_trade_rule"]["anchor"] == "nth_weekday"
    assert es["default_roll"] == {"business_days_before": 5, "reference": "last_trade"}
    assert es["initial_margin"] >= es["maintenance_margin"] > 0
    zn = client.get(f"{CONTRACTS}/ZN", params={"roll_days": 3}, headers=headers).json()
    assert zn["default_roll"] == {"business_days_before": 3, "reference": "first_notice"}
    assert zn["tick_value"] == 15.625  # 1/64 point x $1,000


def test_unknown_market_is_a_404_listing_the_known_roots(
    client: TestClient, headers: dict[str, str]
) -> None:
    body = problem(client.get(f"{CONTRACTS}/XX", headers=headers), 404)
    assert "XX" in body["detail"]
    assert "ES" in body["detail"]


def test_es_chain_of_2024_has_the_third_friday_expiries_and_roll_dates(
    client: TestClient, headers: dict[str, str]
) -> None:
    params = {"start": "2024-01-01", "end": "2024-12-31"}
    body = client.get(f"{CONTRACTS}/ES/chain", params=params, headers=headers).json()
    rows = {i["contract"]: (i["last_trade"], i["roll"]) for i in body["items"]}
    assert list(rows) == ["ESH2024", "ESM2024", "ESU2024", "ESZ2024", "ESH2025"]
    assert [v[0] for v in rows.values()] == [
        "2024-03-15", "2024-06-21", "2024-09-20", "2024-12-20", "2025-03-21",
    ]  # fmt: skip
    # Five CME business days before Friday 2024-03-15 is Friday 2024-03-08.
    assert rows["ESH2024"][1] == "2024-03-08"
    # Juneteenth (Wed 2024-06-19) is no settlement day: Jun 21 - 5 business days = Jun 13.
    assert rows["ESM2024"][1] == "2024-06-13"
    assert all(i["first_notice"] is None for i in body["items"])


def test_zn_chain_rolls_before_first_notice(client: TestClient, headers: dict[str, str]) -> None:
    params = {"start": "2024-01-01", "end": "2024-03-31", "roll_days": 0}
    body = client.get(f"{CONTRACTS}/ZN/chain", params=params, headers=headers).json()
    znh = body["items"][0]
    # First notice: last business day of February 2024 (Thursday the 29th).
    assert (znh["contract"], znh["first_notice"], znh["roll"]) == (
        "ZNH2024", "2024-02-29", "2024-02-29",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2024-06-01", "end": "2024-01-01"}, "end"),
        ({"start": "1900-01-01", "end": "1901-01-01"}, "start"),
        ({"start": "2024-01-01", "end": "2070-01-01"}, "end"),
        ({"start": "2024-01-01", "reference": "first_notice"}, "reference"),
    ],
)
def test_bad_chain_requests_are_422_naming_the_field(
    client: TestClient, headers: dict[str, str], params: dict[str, str], field: str
) -> None:
    body = problem(client.get(f"{CONTRACTS}/ES/chain", params=params, headers=headers), 422)
    assert body["field"] == field


def test_malformed_dates_and_roots_are_422(client: TestClient, headers: dict[str, str]) -> None:
    bad_date = client.get(f"{CONTRACTS}/ES/chain", params={"start": "2024-13-01"}, headers=headers)
    assert "query.start" in problem(bad_date, 422)["detail"]
    problem(client.get(f"{CONTRACTS}/E$", headers=headers), 422)


def test_one_contract_by_short_symbol(client: TestClient, headers: dict[str, str]) -> None:
    body = client.get(f"{CONTRACTS}/ES/contracts/ESZ24", headers=headers).json()
    assert body["contract"] == "ESZ2024"
    assert (body["year"], body["month"]) == (2024, "Z")
    assert date.fromisoformat(body["last_trade"]) == date(2024, 12, 20)


@pytest.mark.parametrize("symbol", ["ESX24", "CLZ24", "ZZZ"])
def test_unknown_or_foreign_contract_is_404(
    client: TestClient, headers: dict[str, str], symbol: str
) -> None:
    body = problem(client.get(f"{CONTRACTS}/ES/contracts/{symbol}", headers=headers), 404)
    assert symbol in body["detail"]


def test_contracts_need_a_login(client: TestClient) -> None:
    problem(client.get(CONTRACTS), 401)
