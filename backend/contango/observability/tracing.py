"""OpenTelemetry tracing of the API and the Celery workers, off unless ``CONTANGO_OTEL_EXPORTER``
says otherwise.

``otlp`` sends spans to the collector named by the standard ``OTEL_EXPORTER_OTLP_*`` variables;
``console`` prints them (for a quick look). Each app gets its own tracer provider, so tracing
one app in a test process does not touch another.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

from contango import __version__
from contango.settings import Settings


def _exporter(settings: Settings) -> SpanExporter | None:
    if settings.otel_exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if settings.otel_exporter == "console":
        return ConsoleSpanExporter()
    return None


def tracer_provider(
    settings: Settings, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """A tracer provider exporting to the configured (or given) exporter; None when off."""
    chosen = exporter or _exporter(settings)
    if chosen is None:
        return None
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": settings.otel_service_name, "service.version": __version__}
        )
    )
    # A given exporter (tests) gets spans at once; a network exporter gets them in batches.
    processor = SimpleSpanProcessor(chosen) if exporter else BatchSpanProcessor(chosen)
    provider.add_span_processor(processor)
    return provider


def setup_celery_tracing(
    settings: Settings, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Trace task publishing and execution (one span per task run, linked to the sender's)."""
    provider = tracer_provider(settings, exporter)
    if provider is None:
        return None
    from opentelemetry.instrumentation.celery import CeleryInstrumentor

    instrumentor = CeleryInstrumentor()  # type: ignore[no-untyped-call]  # unannotated package
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    instrumentor.instrument(tracer_provider=provider)
    return provider


def setup_tracing(
    app: FastAPI, settings: Settings, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Instrument ``app`` when an exporter is configured (or given); returns the provider."""
    provider = tracer_provider(settings, exporter)
    if provider is None:
        return None
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="healthz,readyz,metrics"
    )
    return provider
