"""Live job progress over WebSocket: ``/api/v1/ws/jobs/{id}``.

Browsers cannot set headers on a WebSocket, so the access token comes from the session cookie
or a ``token`` query parameter; the object rule applies as for ``GET /backtests/{id}``. The
server sends the job's state at once, then ``progress`` and ``status`` messages as workers
publish them, and closes after the final status. Events are a convenience: the row is read
again every second, so a missed event delays a message but never loses the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from contango.api.security import ACCESS_COOKIE
from contango.db.models import Job, JobStatus
from contango.errors import NotAuthenticatedError, ServiceError
from contango.services import jobs
from contango.services.context import ServiceContext
from contango.workers.progress import JobBackend

router = APIRouter(tags=["jobs"])
RECHECK_SECONDS = 1.0
POLICY_VIOLATION = 1008  # RFC 6455 close codes
UNAUTHORIZED = 4401
FORBIDDEN = 4403
NOT_FOUND = 4404


def _state(job: Job) -> dict[str, Any]:
    return {
        "type": "status",
        "job_id": str(job.id),
        "kind": job.kind,
        "status": job.status,
        "attempt": job.attempt,
        "progress": job.progress,
        "message": job.message,
    }


async def _read(context: ServiceContext, job_id: uuid.UUID, token: str | None) -> Job:
    async with context.database.transaction() as session:
        return await jobs.job_for_listener(session, context.tokens, token, job_id)


async def _follow(socket: WebSocket, context: ServiceContext, job: Job, token: str | None) -> None:
    backend: JobBackend = socket.app.state.runner
    last = _state(job)
    await socket.send_json(last)
    with backend.hub.subscribe(str(job.id)) as events:
        while not JobStatus(last["status"]).is_final:
            with contextlib.suppress(TimeoutError):
                event = await asyncio.wait_for(events.get(), RECHECK_SECONDS)
                if event.get("status") == "running":
                    await socket.send_json({"type": "progress", **event})
                    continue
            current = _state(await _read(context, job.id, token))
            if current != last:
                await socket.send_json(current)
                last = current


def same_origin(socket: WebSocket, public_url: str) -> bool:
    """Whether a browser's handshake comes from Contango's own pages.

    Browsers send cookies with cross-site WebSocket handshakes too and there is no CSRF header
    to ask for, so a cookie alone would let any site follow a logged-in user's jobs: the
    handshake's Origin must be this host (or the configured public URL).
    """
    origin = socket.headers.get("origin")
    if origin is None:
        return False
    parts = urlsplit(origin)
    public = urlsplit(public_url)
    return parts.netloc == socket.headers.get("host") or (
        (parts.scheme, parts.netloc) == (public.scheme, public.netloc)
    )


@router.websocket("/ws/jobs/{job_id}")
async def job_events(socket: WebSocket, job_id: uuid.UUID, token: str | None = None) -> None:
    """Follow one job until it ends (close code 4401: not logged in, 4403: cross-site cookie
    handshake, 4404: no such job)."""
    context: ServiceContext = socket.app.state.context
    if token is None:
        token = socket.cookies.get(ACCESS_COOKIE)
        if token is not None and not same_origin(socket, context.settings.public_url):
            await socket.close(code=FORBIDDEN, reason="cross-site handshake with a cookie")
            return
    try:
        job = await _read(context, job_id, token)
    except NotAuthenticatedError as error:
        await socket.close(code=UNAUTHORIZED, reason=str(error)[:120])
        return
    except ServiceError as error:  # another team's job or none: not found, as over HTTP
        await socket.close(code=NOT_FOUND, reason=str(error)[:120])
        return
    await socket.accept()
    with contextlib.suppress(WebSocketDisconnect):
        await _follow(socket, context, job, token)
        await socket.close()
