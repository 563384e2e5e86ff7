"""Errors the platform raises: the API answers each with problem details, the CLI with a line.

Services speak in these terms (not HTTP status codes) so that the CLI and the workers can call
them too; ``status`` is only the suggested HTTP mapping.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Something the caller asked for cannot be done; ``detail`` says what and why."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}


class NotAuthenticatedError(ServiceError):
    """No valid credentials were presented."""

    status = 401
    title = "Not authenticated"
    slug = "not-authenticated"


class PermissionDeniedError(ServiceError):
    """The caller is known but may not do this."""

    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFoundError(ServiceError):
    """The object does not exist, or the caller may not know that it exists."""

    status = 404
    title = "Not found"
    slug = "not-found"


class ConflictError(ServiceError):
    """The request clashes with the current state (a duplicate name, a finished job)."""

    status = 409
    title = "Conflict"
    slug = "conflict"


class InvalidInputError(ServiceError):
    """The request is well-formed but its content is wrong (a bad file, a bad configuration)."""

    status = 422
    title = "Invalid input"
    slug = "invalid-input"


class TooLargeError(ServiceError):
    """An upload over the configured size limit."""

    status = 413
    title = "Content too large"
    slug = "too-large"


class ThrottledError(ServiceError):
    """Too many attempts; ``retry_after`` seconds until the next one is accepted."""

    status = 429
    title = "Too many requests"
    slug = "throttled"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
        self.retry_after = retry_after


class UnavailableError(ServiceError):
    """A service Contango depends on (an identity provider, a broker) does not answer."""

    status = 503
    title = "Service unavailable"
    slug = "unavailable"
