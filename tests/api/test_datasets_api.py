"""Dataset endpoints: upload (validated, versioned, audited), lineage, bars, and who reaches what.

Files are written by the tests (see ``market_data``); what the API returns is compared with
those files, parsed independently with the ``csv`` module, never with the importer's output.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from market_data import DATASETS, csv_bytes, es_chain_rows, es_rows, problem, upload
from sqlalchemy import select

from app_support import context_of, run_in_app
from contango.audit import EntryFilter, list_entries
from contango.auth.rbac import Principal, Role
from contango.data.ingest import import_table
from contango.data.registry import get_registry
from contango.data.samples import generate_chain
from contango.db.models import Dataset, User
from contango.services.dataset_uploads import FileOptions, StagedUpload
from contango.services.dataset_uploads import upload as upload_file
from contango.services.datasets import market_store
from contango.settings import Settings

LIMIT = 64 * 1024


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    """A small upload limit, so that the 413 test sends little."""
    return Settings(data_dir=data_dir, database_url=database_url, upload_max_bytes=LIMIT)


def _csv_columns(content: bytes) -> dict[str, list[str]]:
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    return {name: [row[name] for row in rows] for name in rows[0]}


async def _entries(client: TestClient, action: str) -> list[Any]:
    async with context_of(client).database.transaction() as session:
        entries, _ = await list_entries(session, EntryFilter(action=action), limit=50, offset=0)
        return entries


async def _row(client: TestClient, name: str) -> Dataset | None:
    async with context_of(client).database.transaction() as session:
        found = await session.execute(select(Dataset).where(Dataset.name == name))
        return found.scalar_one_or_none()


def _shared_cl() -> None:
    """A shared dataset (no owner row): a short CL chain from the sample generator."""
    spec = get_registry().spec("CL")
    bars = generate_chain(spec, start=date(2024, 1, 2), end=date(2024, 1, 31), seed=7)
    import_table(bars, dataset="CL.1d", spec=spec)


def test_upload_creates_a_version_whose_bars_equal_the_file(client: TestClient, login) -> None:
    headers = login("analyst")
    content = csv_bytes(es_chain_rows())
    response = upload(client, headers, content, dataset="ES.desk")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["created"], body["dataset_created"], body["report"]["ok"]) == (True, True, True)
    version = body["version"]
    assert version["source"] == {
        "name": "es.csv",
        "hash": "sha256:" + hashlib.sha256(content).hexdigest(),
        "size": len(content),
    }
    assert (version["rows"], version["parent"]) == (20, None)
    assert version["contracts"] == ["ESH2024", "ESM2024"]
    assert version["author"].startswith("analyst-")

    bars = client.get(f"{DATASETS}/ES.desk/bars", headers=headers).json()
    assert (bars["total"], bars["version"]) == (20, version["id"])
    expected = _csv_columns(content)
    # The store sorts by (contract, ts); the file interleaves the two contracts by day.
    order = sorted(range(20), key=lambda i: (expected["symbol"][i], expected["date"][i]))
    for column in ("open", "high", "low", "close"):
        assert bars["columns"][column] == [float(expected[column][i]) for i in order]
    assert bars["columns"]["volume"] == [int(expected["volume"][i]) for i in order]
    assert bars["columns"]["ts"][0] == "2024-03-04T00:00:00.000000000Z"
    assert bars["columns"]["contract"][:1] == ["ESH2024"]


def test_upload_records_owner_team_and_audit_entry(client: TestClient, login) -> None:
    upload(client, login("analyst"), csv_bytes(es_rows()), dataset="ES.audited")
    row = run_in_app(client, _row, client, "ES.audited")
    assert row is not None
    assert (row.kind, row.owner_id is not None, row.team_id is not None) == ("bars", True, True)
    entries = run_in_app(client, _entries, client, "dataset.upload")
    assert [e.target for e in entries] == ["dataset:ES.audited"]
    assert entries[0].actor == str(row.owner_id)
    assert entries[0].details["dataset_created"] is True


def test_second_upload_makes_a_child_version_and_pinned_reads_keep_the_first(
    client: TestClient, login
) -> None:
    headers = login("analyst")
    first = csv_bytes(es_rows())
    v1 = upload(client, headers, first, dataset="ES.lin").json()["version"]
    changed = es_rows()
    changed[9] = (*changed[9][:5], 5111.50, *changed[9][6:])  # a corrected close on 03-15
    second = csv_bytes(changed + es_rows("ESM24", 5160.50, 100))
    response = upload(client, headers, second, dataset="ES.lin", filename="es-fix.csv")
    assert response.status_code == 201
    v2 = response.json()["version"]
    assert (v2["parent"], v2["rows"], v2["rows_replaced"]) == (v1["id"], 20, 10)

    detail = client.get(f"{DATASETS}/ES.lin", headers=headers).json()
    assert [v["id"] for v in detail["versions"]] == [v2["id"], v1["id"]]
    manifest = client.get(f"{DATASETS}/ES.lin/versions/{v1['id'][:6]}", headers=headers).json()
    assert manifest["source"]["hash"] == "sha256:" + hashlib.sha256(first).hexdigest()
    assert manifest["content_hash"] != v2["content_hash"]

    pinned = client.get(
        f"{DATASETS}/ES.lin/bars", params={"version": v1["id"]}, headers=headers
    ).json()
    assert pinned["columns"]["close"] == [float(c) for c in _csv_columns(first)["close"]]
    latest = client.get(
        f"{DATASETS}/ES.lin/bars",
        params={"contract": "ESH24", "start": "2024-03-15", "end": "2024-03-16"},
        headers=headers,
    ).json()
    assert latest["columns"]["close"] == [5111.50]


def test_same_file_twice_makes_no_new_version(client: TestClient, login) -> None:
    headers = login("analyst")
    content = csv_bytes(es_rows())
    first = upload(client, headers, content, dataset="ES.same").json()
    again = upload(client, headers, content, dataset="ES.same")
    assert again.status_code == 200
    assert again.json()["version"]["id"] == first["version"]["id"]
    assert again.json()["created"] is False


def test_file_with_errors_answers_422_with_the_report_and_imports_nothing(
    client: TestClient, login
) -> None:
    headers = login("analyst")
    rows = es_rows()
    rows[2] = (*rows[2][:3], 5090.0, *rows[2][4:])  # row 3: high 5090 below low 5101.5
    body = problem(upload(client, headers, csv_bytes(rows), dataset="ES.bad"), 422)
    findings = body["report"]["findings"]
    assert body["report"]["ok"] is False
    assert {"code": "high_below_low", "row": 3, "column": "high", "value": "5090.0"}.items() <= (
        next(f for f in findings if f["code"] == "high_below_low").items()
    )
    problem(client.get(f"{DATASETS}/ES.bad", headers=headers), 404)
    assert run_in_app(client, _row, client, "ES.bad") is None


def test_validate_reports_findings_and_stores_nothing(client: TestClient, login) -> None:
    headers = login("analyst")
    rows = es_rows()
    rows[4] = (*rows[4][:6], -5, rows[4][7])  # row 5: negative volume
    response = upload(
        client, headers, csv_bytes(rows), path=f"{DATASETS}/validate", timezone="America/Chicago"
    )
    assert response.status_code == 200
    report = response.json()
    assert (report["ok"], report["rows"], report["counts"]) == (False, 10, {"quantity_negative": 1})
    assert (report["findings"][0]["row"], report["findings"][0]["column"]) == (5, "volume")
    assert client.get(DATASETS, headers=headers).json()["total"] == 0


def test_parquet_and_gzipped_csv_uploads_import_the_same_rows(client: TestClient, login) -> None:
    headers = login("analyst")
    content = csv_bytes(es_rows())
    zipped = upload(client, headers, gzip.compress(content), filename="es.csv.gz", dataset="A")
    assert zipped.status_code == 201, zipped.text
    columns = _csv_columns(content)
    table = pa.table(
        {
            "ts": pa.array([date.fromisoformat(d) for d in columns["date"]], pa.date32()),
            "contract": columns["symbol"],
            **{c: [float(v) for v in columns[c]] for c in ("open", "high", "low", "close")},
            "volume": [int(v) for v in columns["volume"]],
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    parquet = upload(client, headers, sink.getvalue(), filename="es.parquet", dataset="B")
    assert parquet.status_code == 201, parquet.text
    a = client.get(f"{DATASETS}/A/bars", headers=headers).json()["columns"]
    b = client.get(f"{DATASETS}/B/bars", headers=headers).json()["columns"]
    assert a["close"] == b["close"] == [float(c) for c in columns["close"]]
    assert a["ts"] == b["ts"]


def test_upload_over_the_limit_is_413_and_leaves_no_file(
    client: TestClient, login, settings: Settings
) -> None:
    headers = login("analyst")
    rows = es_rows() * 200  # about 100 KB, over the 64 KiB limit
    body = problem(upload(client, headers, csv_bytes(rows), dataset="ES.big"), 413)
    assert body["limit"] == LIMIT
    assert list(settings.uploads_dir.rglob("*")) == []
    problem(client.get(f"{DATASETS}/ES.big", headers=headers), 404)


@pytest.mark.parametrize(
    ("content", "filename", "fields", "says"),
    [
        (b"", "es.csv", {"dataset": "E"}, "empty"),
        (b"date,symbol,open\n2024-03-04,ESH24,1\n", "es.csv", {"dataset": "E"}, "no column"),
        (csv_bytes(es_rows()), "es.parquet", {"dataset": "E"}, "cannot be read"),
        (csv_bytes(es_rows()), "es.csv", {"dataset": "E", "timezone": "Mars/Base"}, "timezone"),
        (csv_bytes(es_rows()), "es.csv", {"dataset": "E", "map": ["close"]}, "SOURCE=CANONICAL"),
        (csv_bytes(es_rows()), "es.csv", {"dataset": "E", "root": "CL"}, "CL"),
    ],
)
def test_bad_files_and_options_are_422_saying_what(
    client: TestClient, login, content: bytes, filename: str, fields: dict[str, Any], says: str
) -> None:
    body = problem(upload(client, login("analyst"), content, filename=filename, **fields), 422)
    assert says in body["detail"]
    assert run_in_app(client, _row, client, "E") is None


def test_malformed_upload_requests_are_4xx(client: TestClient, login) -> None:
    headers = login("analyst")
    content = csv_bytes(es_rows())
    no_name = problem(upload(client, headers, content), 422)
    assert no_name["errors"][0]["location"] == "body.dataset"
    bad_name = problem(upload(client, headers, content, dataset="../etc"), 422)
    assert bad_name["errors"][0]["location"] == "body.dataset"
    unknown = problem(upload(client, headers, content, dataset="X", colour="red"), 422)
    assert unknown["errors"][0]["location"] == "body.colour"
    no_file = client.post(DATASETS, headers=headers, data={"dataset": "X"}, files={"x": ("", b"")})
    assert "file" in problem(no_file, 422)["detail"]
    problem(client.post(DATASETS, headers=headers, json={"dataset": "X"}), 415)
    truncated = client.post(
        DATASETS,
        headers={**headers, "content-type": "multipart/form-data; boundary=b"},
        content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nts',
    )
    problem(truncated, 422)


def test_viewer_cannot_upload_or_validate(client: TestClient, login) -> None:
    headers = login("viewer")
    problem(upload(client, headers, csv_bytes(es_rows()), dataset="ES.v"), 403)
    problem(upload(client, headers, csv_bytes(es_rows()), path=f"{DATASETS}/validate"), 403)


def test_another_teams_dataset_is_not_found(client: TestClient, login) -> None:
    upload(client, login("analyst"), csv_bytes(es_rows()), dataset="ES.mine")
    other = login("analyst", team="desk-b")
    assert client.get(DATASETS, headers=other).json()["total"] == 0
    for path in ("", "/bars", "/versions/0"):
        problem(client.get(f"{DATASETS}/ES.mine{path}", headers=other), 404)
    problem(upload(client, other, csv_bytes(es_rows()), dataset="ES.mine"), 404)
    teammate = login("viewer")
    assert client.get(f"{DATASETS}/ES.mine", headers=teammate).status_code == 200
    admin = login("admin", team="ops")
    assert client.get(f"{DATASETS}/ES.mine", headers=admin).status_code == 200


def test_shared_dataset_is_read_by_all_and_written_by_admins_only(
    client: TestClient, login
) -> None:
    _shared_cl()
    analyst, outsider = login("analyst"), login("viewer", team="desk-b")
    for headers in (analyst, outsider):
        listed = client.get(DATASETS, params={"shared": True}, headers=headers).json()
        assert [(d["name"], d["shared"]) for d in listed["items"]] == [("CL.1d", True)]
    cl = client.get(f"{DATASETS}/CL.1d/bars", params={"limit": 3}, headers=outsider).json()
    assert (len(cl["columns"]["close"]), cl["limit"]) == (3, 3)
    assert cl["total"] > 3
    rows = [("2024-02-01", "CLH24", 75.0, 76.0, 74.0, 75.5, 1000, 100)]
    problem(upload(client, analyst, csv_bytes(rows), dataset="CL.1d"), 403)
    admin = upload(client, login("admin"), csv_bytes(rows), dataset="CL.1d")
    assert admin.status_code == 201, admin.text
    assert admin.json()["dataset_created"] is False
    assert run_in_app(client, _row, client, "CL.1d") is None  # still shared


def test_list_filters_and_paging(client: TestClient, login) -> None:
    _shared_cl()
    headers = login("analyst")
    for name in ("ES.a", "ES.b", "ES.c"):
        upload(client, headers, csv_bytes(es_rows()), dataset=name)

    def names(**params: Any) -> list[str]:
        items = client.get(DATASETS, params=params, headers=headers).json()["items"]
        return [d["name"] for d in items]

    assert names() == ["CL.1d", "ES.a", "ES.b", "ES.c"]
    assert names(root="es") == ["ES.a", "ES.b", "ES.c"]
    assert names(shared=False, limit=1, offset=1) == ["ES.b"]
    assert names(search=".C") == ["ES.c"]
    assert names(kind="ticks") == []


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"version": "abcdef"}, 404),
        ({"contract": "ESZ99"}, 404),
        ({"contract": "ESX24"}, 422),
        ({"start": "2024-03-10", "end": "2024-03-05"}, 422),
        ({"start": "yesterday"}, 422),
        ({"limit": 0}, 422),
        ({"limit": 100_001}, 422),
    ],
)
def test_bad_bar_queries_are_4xx(
    client: TestClient, login, params: dict[str, Any], status: int
) -> None:
    headers = login("analyst")
    upload(client, headers, csv_bytes(es_rows()), dataset="ES.q")
    problem(client.get(f"{DATASETS}/ES.q/bars", params=params, headers=headers), status)


def test_unknown_dataset_and_version_are_404(client: TestClient, login) -> None:
    headers = login("viewer")
    problem(client.get(f"{DATASETS}/NO.such", headers=headers), 404)
    problem(client.get(f"{DATASETS}/NO.such/bars", headers=headers), 404)
    problem(client.get(f"{DATASETS}/.hidden", headers=headers), 422)


def test_a_new_dataset_stays_its_uploaders_when_the_request_fails_after_the_import(
    client: TestClient, login, settings: Settings, tmp_path: Path
) -> None:
    """The store publishes the version before the request's transaction commits; the
    ownership row was committed before that, so a request that then fails (its transaction
    rolls back) cannot leave the new data looking shared with everyone."""
    mine = login("analyst", team="desk-a", email="owner@desk-a.example.com")
    theirs = login("analyst", team="desk-b")
    staged = StagedUpload(tmp_path, "es.csv", LIMIT)
    content = csv_bytes(es_chain_rows())

    async def fail_after_the_import() -> None:
        database = context_of(client).database
        async with database.transaction() as session:
            owner = select(User).where(User.email == "owner@desk-a.example.com")
            user = (await session.execute(owner)).scalar_one()
            caller = Principal(user_id=user.id, team_id=user.team_id, role=Role.ANALYST)
        await staged.write(content)
        staged.close()
        async with database.transaction() as session:
            await upload_file(session, database, caller, market_store(settings), staged,
                              dataset="ES.mine", options=FileOptions())  # fmt: skip
            raise RuntimeError("the request fails after the import")

    with pytest.raises(RuntimeError, match="fails after the import"):
        run_in_app(client, fail_after_the_import)
    staged.remove()
    assert client.get(f"{DATASETS}/ES.mine", headers=mine).status_code == 200
    problem(client.get(f"{DATASETS}/ES.mine", headers=theirs), 404)
    listed = client.get(DATASETS, headers=theirs).json()["items"]
    assert "ES.mine" not in {d["name"] for d in listed}
