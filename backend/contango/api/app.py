"""The FastAPI application: ``create_app()`` builds it, ``contango serve`` runs it.

On start the app migrates the metadata database and loads its keys (see
:func:`contango.services.context.open_context`); every route below ``/api/v1`` is a thin call
into a service. The OpenAPI schema is published at ``/api/openapi.json`` and browsable at
``/api/docs``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from contango import __version__
from contango.api.errors import install_error_handlers
from contango.api.routers import ROUTERS, health
from contango.services.context import open_context
from contango.settings import Settings, get_settings

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    """A Contango API application on ``settings`` (default: the process settings)."""
    chosen = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.context = await open_context(chosen)
        try:
            yield
        finally:
            await app.state.context.close()

    app = FastAPI(
        title="Contango API",
        version=__version__,
        description=(
            "Futures research and backtesting: contract specifications, versioned market data, "
            "continuous contracts, backtests, sweeps and walk-forward analysis."
        ),
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = chosen
    install_error_handlers(app)
    app.include_router(health.router)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    return app
