"""Who and what the current unit of work is about, for logs and the audit log.

Set by the API's request middleware (and by workers per job); read by the JSON log formatter and
by the audit log, so neither needs the request passed down through every service call.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("contango_request_id", default=None)
client_ip: ContextVar[str | None] = ContextVar("contango_client_ip", default=None)
