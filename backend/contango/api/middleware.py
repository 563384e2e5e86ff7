"""Per-request bookkeeping: the request id, one access log line and the latency metric."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contango.observability import context
from contango.observability.metrics import Metrics

log = logging.getLogger("contango.access")
REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def route_template(scope: Scope) -> str:
    """The matched route's full template (``/api/v1/contracts/{root}``), or ``unmatched``.

    Metrics are labelled by template, never by raw path, so ids in URLs cannot explode the
    label space. The route object of an included router knows only its own part of the path,
    so the mounted prefix is recovered from the concrete path.
    """
    route = scope.get("route")
    path_format = getattr(route, "path_format", None)
    if path_format is None:
        return "unmatched"
    try:
        concrete = path_format.format(**scope.get("path_params", {}))
    except (KeyError, IndexError, ValueError):
        return str(path_format)
    path: str = scope.get("path", "")
    prefix = path[: -len(concrete)] if concrete and path.endswith(concrete) else ""
    return prefix + str(path_format)


class RequestContextMiddleware:
    """Gives each request an id (or keeps a well-formed one from the caller), sets it for the
    logs and the audit log, answers it in ``X-Request-ID``, and times the request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = (
            dict(scope["headers"]).get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1")
        )
        request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        client = scope.get("client")
        id_token = context.request_id.set(request_id)
        ip_token = context.client_ip.set(client[0] if client else None)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append(
                    (REQUEST_ID_HEADER.encode(), request_id.encode())
                )
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            template = route_template(scope)
            self.metrics.request_seconds.labels(scope["method"], template, str(status)).observe(
                elapsed
            )
            principal = scope.get("state", {}).get("principal")
            log.info(
                "%s %s %s %.1fms",
                scope["method"],
                template,
                status,
                elapsed * 1000,
                extra={
                    "method": scope["method"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "user_id": str(principal.user_id) if principal else None,
                },
            )
            context.request_id.reset(id_token)
            context.client_ip.reset(ip_token)
