"""Metadata databases for tests: a SQLite file, or a fresh PostgreSQL database per test.

PostgreSQL tests get a database of their own, cloned from a migrated template that each test
process builds once: a clone takes tens of milliseconds, every test starts from the migrated
schema with no rows, and parallel test processes never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from contango.db.migrate import upgrade


def asyncpg_url(url: str) -> str:
    """``postgresql://...`` as the SQLAlchemy async URL of the same server."""
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def _admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


class PostgresDatabases:
    """Creates and drops per-test databases on one server."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.template = f"contango_tpl_{worker}_{uuid.uuid4().hex[:8]}"
        self._ready = False

    def _ensure_template(self) -> None:
        if self._ready:
            return
        asyncio.run(_admin(self.server_url, f'CREATE DATABASE "{self.template}"'))
        upgrade(asyncpg_url(with_database(self.server_url, self.template)))
        self._ready = True

    def create(self) -> str:
        """A new migrated database; returns its SQLAlchemy async URL."""
        self._ensure_template()
        name = f"contango_t_{uuid.uuid4().hex[:12]}"
        asyncio.run(_admin(self.server_url, f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return asyncpg_url(with_database(self.server_url, name))

    def drop(self, url: str) -> None:
        """Drop a database made by :meth:`create`, closing any connection still open to it."""
        name = urlsplit(url).path.lstrip("/")
        asyncio.run(_admin(self.server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        """Drop the template."""
        if self._ready:
            asyncio.run(
                _admin(self.server_url, f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
            )
