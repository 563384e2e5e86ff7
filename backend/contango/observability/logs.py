"""Structured logs: one JSON object per line, with the request id of the work it belongs to.

``contango serve`` calls :func:`configure_logging` once; libraries' loggers go through the same
handler, so uvicorn's and SQLAlchemy's lines carry the request id too.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from contango.observability import context


class _RequestContext(logging.Filter):
    """Adds ``request_id`` to every record from the current context."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.request_id.get()
        return True


def configure_logging(level: str = "INFO", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Send every log line to ``stream`` (stderr), as JSON (default) or as plain text."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_RequestContext())
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # One access line per request comes from our middleware, with the route and the user.
    logging.getLogger("uvicorn.access").disabled = True
