"""Probes and the error shape of the API."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_healthz_and_readyz_answer_ok_on_a_migrated_database(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok"}


def test_unknown_path_answers_problem_details(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["instance"] == "/api/v1/no-such-thing"
