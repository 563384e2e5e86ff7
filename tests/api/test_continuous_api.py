"""Continuous series endpoints: built through the API as ``contango data continuous`` builds them,
stored, read back with per-bar contracts, unadjusted closes and the roll schedule.

The hand-worked case is the ES chain of ``market_data``: ESH2024 closes 5100.00 + 1.25 i, ESM2024
5160.50 + 1.25 i; the 5-day calendar roll is on 2024-03-08 (i = 4) and the gap, measured on
03-07, is 5164.25 - 5103.75 = 60.50. Difference (back) adjustment adds 60.50 to ESH2024's bars.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from market_data import csv_bytes, es_chain_rows, problem, upload

from app_support import context_of, run_in_app
from contango.audit import EntryFilter, list_entries
from contango.data.continuous import build_continuous
from contango.data.continuous_store import chain_symbols, contract_roll_dates
from contango.data.ingest import import_table
from contango.data.registry import get_registry
from contango.data.samples import generate_chain
from contango.data.store import open_store
from contango.domain.rolls import Adjustment, CalendarRoll, VolumeCrossover
from contango.services.datasets import json_columns

CONTINUOUS = "/api/v1/continuous"


def _build(client: TestClient, headers: dict[str, str], **request: Any) -> dict[str, Any]:
    response = client.post(CONTINUOUS, json=request, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _es_dataset(client: TestClient, headers: dict[str, str]) -> None:
    response = upload(client, headers, csv_bytes(es_chain_rows()), dataset="ES.1d")
    assert response.status_code == 201, response.text


async def _entries(client: TestClient) -> list[Any]:
    async with context_of(client).database.transaction() as session:
        found, _ = await list_entries(
            session, EntryFilter(action="continuous.build"), limit=10, offset=0
        )
        return found


def test_difference_adjusted_es_series_matches_the_hand_calculation(
    client: TestClient, login
) -> None:
    headers = login("analyst")
    _es_dataset(client, headers)
    built = _build(client, headers, root="ES", adjust="difference", name="es back-adjusted")
    assert (built["bars"], built["rolls"], built["dataset"]) == (10, 1, "ES.1d")
    detail = client.get(f"{CONTINUOUS}/{built['id']}", headers=headers).json()
    columns = detail["series"]["columns"]
    esh = [5100.00 + 1.25 * i for i in range(10)]
    esm = [5160.50 + 1.25 * i for i in range(10)]
    assert columns["contract"] == ["ESH2024"] * 4 + ["ESM2024"] * 6
    assert columns["unadjusted_close"] == esh[:4] + esm[4:]
    assert columns["close"] == pytest.approx([c + 60.50 for c in esh[:4]] + esm[4:], abs=1e-9)
    assert columns["ts"][4] == "2024-03-08T00:00:00.000000000Z"
    [roll] = detail["roll_schedule"]
    assert (roll["from_contract"], roll["to_contract"], roll["reason"]) == (
        "ESH2024", "ESM2024", "calendar",
    )  # fmt: skip
    assert (roll["ts"], roll["gap_ts"]) == ("2024-03-08T00:00:00Z", "2024-03-07T00:00:00Z")
    assert roll["gap"] == pytest.approx(60.50, abs=1e-9)
    assert detail["request"]["name"] == "es back-adjusted"
    page = client.get(
        f"{CONTINUOUS}/{built['id']}", params={"limit": 3, "offset": 2}, headers=headers
    ).json()["series"]
    assert page["columns"]["close"] == columns["close"][2:5]
    assert (page["total"], page["limit"], page["offset"]) == (10, 3, 2)


def test_series_built_through_the_api_equals_build_continuous_called_directly(
    client: TestClient, login
) -> None:
    spec = get_registry().spec("CL")
    chain = generate_chain(spec, start=date(2024, 1, 2), end=date(2024, 4, 30), seed=11)
    version = import_table(chain, dataset="CL.1d", spec=spec).version  # shared sample data
    headers = login("analyst", team="desk-b")
    request = {"root": "CL", "roll": "volume", "confirm": 2, "days": 3, "adjust": "ratio"}
    built = _build(client, headers, **request)
    detail = client.get(f"{CONTINUOUS}/{built['id']}", headers=headers).json()

    bars = open_store().read("CL.1d")
    rule = VolumeCrossover(confirm_bars=2, deadline=CalendarRoll(business_days_before=3))
    direct = build_continuous(
        bars,
        contract_roll_dates(spec, chain_symbols(spec, bars), rule),
        rule=rule,
        adjustment=Adjustment.RATIO,
    )
    assert built["version"] == version.id
    assert detail["series"]["columns"] == json_columns(direct.table)
    assert len(detail["roll_schedule"]) == len(direct.rolls) >= 2
    for marker, event in zip(detail["roll_schedule"], direct.rolls, strict=True):
        assert (marker["from_contract"], marker["to_contract"]) == (
            event.from_contract,
            event.to_contract,
        )
        assert (marker["adjustment"], marker["cumulative"]) == (event.adjustment, event.cumulative)


def test_build_is_audited_and_series_belong_to_the_team(client: TestClient, login) -> None:
    analyst = login("analyst")
    _es_dataset(client, analyst)
    built = _build(client, analyst, root="ES")
    [entry] = run_in_app(client, _entries, client)
    assert entry.target == f"continuous:{built['id']}"
    assert entry.details["version"] == built["version"]

    teammate = login("viewer")
    assert client.get(f"{CONTINUOUS}/{built['id']}", headers=teammate).status_code == 200
    listed = client.get(CONTINUOUS, params={"root": "es"}, headers=teammate).json()
    assert [s["id"] for s in listed["items"]] == [built["id"]]
    problem(client.post(CONTINUOUS, json={"root": "ES"}, headers=teammate), 403)

    outsider = login("quant_developer", team="desk-b")
    problem(client.get(f"{CONTINUOUS}/{built['id']}", headers=outsider), 404)
    assert client.get(CONTINUOUS, headers=outsider).json()["total"] == 0
    # The dataset is desk-a's too: desk-b cannot build from it.
    problem(client.post(CONTINUOUS, json={"root": "ES"}, headers=outsider), 404)


@pytest.mark.parametrize(
    ("request_body", "status"),
    [
        ({"root": "XX"}, 404),
        ({"root": "ES", "dataset": "ES.none"}, 404),
        ({"root": "ES", "version": "abc"}, 404),
        ({"root": "ES", "start": "2024-03-10", "end": "2024-03-05"}, 422),
        ({"root": "ES", "reference": "first_notice"}, 422),
        ({"root": "ES", "adjust": "log"}, 422),
        ({"root": "ES", "nearby": 0}, 422),
        ({"root": "ES", "nearby": 3}, 422),  # the test chain holds two contracts
        ({"root": "ES", "colour": "red"}, 422),
        ({"root": "ES", "start": "March"}, 422),
        ({"root": "CL", "dataset": "ES.1d"}, 422),
    ],
)
def test_bad_build_requests_are_4xx(
    client: TestClient, login, request_body: dict[str, Any], status: int
) -> None:
    headers = login("analyst")
    _es_dataset(client, headers)
    body = problem(client.post(CONTINUOUS, json=request_body, headers=headers), status)
    assert body["detail"]


def test_unknown_or_malformed_series_ids(client: TestClient, login) -> None:
    headers = login("viewer")
    problem(client.get(f"{CONTINUOUS}/{uuid.uuid4()}", headers=headers), 404)
    problem(client.get(f"{CONTINUOUS}/not-an-id", headers=headers), 422)
