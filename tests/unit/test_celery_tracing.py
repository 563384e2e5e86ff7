"""Celery tasks are traced when an exporter is configured: one span per task run."""

from __future__ import annotations

from pathlib import Path

from celery import Celery
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from contango.observability.tracing import setup_celery_tracing
from contango.settings import Settings


def test_a_task_run_produces_a_span_named_after_the_task(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = setup_celery_tracing(Settings(data_dir=tmp_path), exporter=exporter)
    assert provider is not None
    app = Celery("traced", broker="memory://")
    app.conf.task_always_eager = True

    @app.task(name="contango.test.add")
    def add(x: int, y: int) -> int:
        return x + y

    try:
        assert add.delay(2, 3).get() == 5
        names = [span.name for span in exporter.get_finished_spans()]
        assert any("contango.test.add" in name for name in names), names
    finally:
        CeleryInstrumentor().uninstrument()
        provider.shutdown()


def test_tracing_is_off_by_default(tmp_path: Path) -> None:
    assert setup_celery_tracing(Settings(data_dir=tmp_path)) is None
