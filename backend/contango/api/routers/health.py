"""Liveness and readiness probes (outside ``/api/v1``: they are for the orchestrator)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    """The process is up; says nothing about its dependencies (restart only if this fails)."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database answers and is migrated")
async def readyz(request: Request) -> JSONResponse:
    """Ready to take traffic: the metadata database answers a query."""
    context = request.app.state.context
    try:
        await context.database.ping()
    except Exception as error:
        body = {"status": "unavailable", "database": type(error).__name__}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
