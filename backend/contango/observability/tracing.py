"""OpenTelemetry tracing of the API, off unless ``CONTANGO_OTEL_EXPORTER`` says otherwise.

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


def setup_tracing(
    app: FastAPI, settings: Settings, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Instrument ``app`` when an exporter is configured (or given); returns the provider."""
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
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="healthz,readyz,metrics"
    )
    return provider
