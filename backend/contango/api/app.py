"""The FastAPI application: ``create_app()`` builds it, ``contango serve`` runs it.

On start the app migrates the metadata database, loads its keys (see
:func:`contango.services.context.open_context`) and starts the embedded job runner; every route
below ``/api/v1`` is a thin call into a service. The OpenAPI schema is published at
``/api/openapi.json`` and browsable at ``/api/docs``; Prometheus metrics are at ``/metrics``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from contango import __version__
from contango.api.errors import install_error_handlers
from contango.api.middleware import RequestContextMiddleware
from contango.api.routers import ROUTERS, health, ws
from contango.api.web import mount_web_app
from contango.audit import run_checkpoints, run_sealer
from contango.observability.metrics import Metrics
from contango.observability.tracing import setup_tracing
from contango.services.context import ServiceContext, open_context
from contango.settings import Settings, get_settings
from contango.workers.local_pool import LocalWorkerPool
from contango.workers.progress import JobBackend

API_PREFIX = "/api/v1"


def job_backend(context: ServiceContext, slots: int | None, metrics: Metrics) -> JobBackend:
    """What runs jobs: the local worker pool, or Celery workers on Redis (``job_backend``)."""
    if context.settings.job_backend == "celery":
        from contango.workers.celery_backend import CeleryBackend

        return CeleryBackend(context)
    return LocalWorkerPool(context, slots=slots, metrics=metrics)


def create_app(settings: Settings | None = None, *, job_slots: int | None = None) -> FastAPI:
    """A Contango API application on ``settings`` (default: the process settings);
    ``job_slots`` overrides ``settings.worker_slots`` (worker processes of the local pool)."""
    chosen = settings or get_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = await open_context(chosen)
        runner = job_backend(context, job_slots, metrics)
        app.state.context = context
        app.state.runner = runner
        metrics.watch_queue(runner.depth)
        await runner.start()
        # The sealer chains recorded audit events within ~50 ms; checkpoints sign the head.
        audit_tasks = [
            asyncio.create_task(run_sealer(context, every=timedelta(milliseconds=50))),
            asyncio.create_task(
                run_checkpoints(context, every=timedelta(minutes=chosen.audit_checkpoint_minutes))
            ),
        ]
        try:
            yield
        finally:
            for task in audit_tasks:
                task.cancel()
            await asyncio.gather(*audit_tasks, return_exceptions=True)
            await runner.stop()
            await context.close()

    app = FastAPI(
        title="Contango API",
        version=__version__,
        description=(
            "Futures research and backtesting: contract specifications, versioned market data, "
            "continuous contracts, backtests, sweeps and walk-forward analysis. Authenticate "
            "with `POST /api/v1/auth/login` and send the access token as a bearer token. Every "
            "error is an RFC 9457 problem-details document."
        ),
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = chosen
    app.state.metrics = metrics
    install_error_handlers(app)
    app.include_router(health.router)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(ws.router, prefix=API_PREFIX)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    mount_web_app(app, chosen.web_dir)  # last: its catch-all must not shadow the API
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    setup_tracing(app, chosen)
    return app
