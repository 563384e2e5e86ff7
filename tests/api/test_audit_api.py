"""Audit endpoints: permissions, paging and filters, verification, and the signed export."""

from __future__ import annotations

import json
import uuid

from fastapi.testclient import TestClient

from app_support import Login, context_of, run_in_app
from contango.audit import record_event
from contango.audit.canonical import payload_hash
from contango.audit.checkpoints import Checkpoint, signing_key
from contango.services.context import ServiceContext


async def _events(context: ServiceContext, count: int) -> None:
    for index in range(count):
        async with context.database.transaction() as session:
            await record_event(
                session,
                action="dataset.upload" if index % 2 else "auth.login",
                actor_id=uuid.uuid4(),
                actor=f"user-{index}@desk-a.example.com",
                target=None,
                details={"index": index},
            )


def test_only_audit_roles_reach_the_endpoints(client: TestClient, login: Login) -> None:
    viewer = login("viewer")
    for path in ("/api/v1/audit/entries", "/api/v1/audit/verify", "/api/v1/audit/export"):
        assert client.get(path, headers=viewer).status_code == 403
        assert client.get(path).status_code == 401


def test_entries_are_paged_newest_first_and_filtered(client: TestClient, login: Login) -> None:
    run_in_app(client, _events, context_of(client), 5)
    officer = login("compliance_officer")
    page = client.get("/api/v1/audit/entries?limit=2&offset=1", headers=officer).json()
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [item["seq"] for item in page["items"]] == [4, 3]
    logins = client.get("/api/v1/audit/entries?action=auth.login", headers=officer).json()
    assert [item["seq"] for item in logins["items"]] == [5, 3, 1]
    naive = client.get("/api/v1/audit/entries?since=2026-01-01T00:00:00", headers=officer)
    assert naive.status_code == 422


def test_verify_and_export_with_a_checkpoint_signed_at_export(
    client: TestClient, login: Login
) -> None:
    run_in_app(client, _events, context_of(client), 3)
    officer = login("compliance_officer")
    response = client.get("/api/v1/audit/export", headers=officer)
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    *entries, trailer = lines
    # three events, then the export's own audit entry; the checkpoint signs the last one
    assert [entry["seq"] for entry in entries] == [1, 2, 3, 4]
    assert entries[-1]["action"] == "audit.export"
    previous = "0" * 64
    for entry in entries:
        body = {key: value for key, value in entry.items() if key != "hash"}
        assert entry["prev_hash"] == previous
        assert payload_hash(body) == entry["hash"]
        previous = entry["hash"]
    checkpoint = Checkpoint.from_json(trailer["checkpoint"])
    assert (checkpoint.seq, checkpoint.hash, trailer["entries"]) == (4, previous, 4)
    assert checkpoint.signed_by(signing_key(context_of(client).settings).public_key())
    report = client.get("/api/v1/audit/verify", headers=officer).json()
    assert report["ok"] is True
    assert (report["entries"], report["checkpoints"], report["problems"]) == (4, 1, [])
