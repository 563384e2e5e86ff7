"""One error shape for every failure: RFC 9457 problem details (``application/problem+json``).

Every error answer carries ``type``, ``title``, ``status``, ``detail``, ``instance`` (the path)
and the request id, so a user can quote it and an operator can find the log line. Validation
errors list each field that is wrong (``errors``: location, message). Anything unexpected is
logged with its traceback and answered with a 500 that reveals nothing internal.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from contango.errors import ServiceError, ThrottledError

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://contango.dev/problems/"
log = logging.getLogger("contango.api")


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem-details response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("not-authenticated", "Not authenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Content too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-input", "Invalid input"),
    429: ("throttled", "Too many requests"),
}


async def _service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, ThrottledError) else None
    if error.status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="contango"'}
    return problem(
        request,
        error.status,
        error.title,
        error.detail,
        slug=error.slug,
        headers=headers,
        **error.extra,
    )


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    web = getattr(request.app.state, "web", None)
    if error.status_code == 404 and web is not None and web.serves(request):
        page: Response = web.page()  # a route of the web app, reloaded in the browser
        return page
    slug, title = _HTTP_SLUGS.get(error.status_code, ("http-error", "HTTP error"))
    detail = error.detail if isinstance(error.detail, str) else title
    return problem(
        request, error.status_code, title, detail, slug=slug, headers=dict(error.headers or {})
    )


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"location": _location(tuple(item.get("loc", ()))), "message": str(item.get("msg", ""))}
        for item in error.errors()
    ]
    where = ", ".join(item["location"] for item in errors[:5])
    return problem(
        request,
        422,
        "Invalid input",
        f"the request does not match the schema at: {where}" if where else "invalid request",
        slug="invalid-input",
        errors=errors,
    )


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(
        request,
        500,
        "Internal error",
        "an unexpected error occurred; quote the request id when reporting it",
        slug="internal",
    )


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error with problem details."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
