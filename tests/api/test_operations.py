"""What operators rely on: request ids, problem details, metrics, traces, logs, settings."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import ValidationError

from app_support import Login
from contango.api.app import create_app
from contango.observability.logs import configure_logging
from contango.observability.tracing import setup_tracing
from contango.settings import Settings


def test_request_id_is_kept_when_well_formed_and_made_otherwise(client: TestClient) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "trace-42.a"})
    assert kept.headers["X-Request-ID"] == "trace-42.a"
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert replaced.headers["X-Request-ID"] != "bad id\nwith newline"
    assert len(replaced.headers["X-Request-ID"]) == 32
    missing = client.get("/api/v1/auth/me")
    assert missing.json()["request_id"] == missing.headers["X-Request-ID"]


def test_metrics_count_requests_by_route_template(client: TestClient, login: Login) -> None:
    headers = login("viewer")
    for _ in range(3):
        assert client.get("/api/v1/contracts/ES", headers=headers).status_code == 200
    text = client.get("/metrics").text
    line = (
        'contango_http_request_duration_seconds_count{method="GET",'
        'route="/api/v1/contracts/{root}",status="200"} 3.0'
    )
    assert line in text
    assert "contango_job_queue_depth" in text
    assert "/api/v1/contracts/ES" not in text  # raw paths would explode the label space


def test_spans_are_recorded_per_request_when_tracing_is_on(settings: Settings) -> None:
    app = create_app(settings)
    exporter = InMemorySpanExporter()
    provider = setup_tracing(app, settings, exporter=exporter)
    assert provider is not None
    with TestClient(app) as client:
        client.get("/api/v1/contracts")
    names = [span.name for span in exporter.get_finished_spans()]
    assert any("/api/v1/contracts" in name for name in names)
    provider.shutdown()


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Logging configured as `contango serve` does, into a buffer; restored afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging("INFO", "json", stream=buffer)
    yield buffer
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def test_each_request_logs_one_json_line_with_its_id(
    client: TestClient, json_logs: io.StringIO
) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "req-1"})
    assert response.status_code == 200
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line]
    access = [line for line in lines if line["logger"] == "contango.access"]
    assert access[-1]["request_id"] == "req-1"
    assert access[-1]["route"] == "/healthz"
    assert access[-1]["status"] == 200
    assert all(line["level"] in {"INFO", "WARNING", "ERROR"} for line in lines)


def test_production_refuses_default_secrets(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CONTANGO_SECRET_KEY"):
        Settings(environment="production", data_dir=tmp_path, database_url="sqlite://")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(
            environment="production",
            data_dir=tmp_path,
            database_url="postgresql+asyncpg://db/contango",
            secret_key="short",
            token_signing_key_file=tmp_path / "t.pem",
            audit_signing_key_file=tmp_path / "a.pem",
        )


def test_access_tokens_cannot_be_configured_to_live_over_15_minutes() -> None:
    with pytest.raises(ValidationError, match="access_token_minutes"):
        Settings(access_token_minutes=16)
