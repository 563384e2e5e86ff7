"""Alembic environment: runs the migrations on the async engine of the configured database.

The URL comes from the Alembic config (set by ``contango.db.migrate``) or, when Alembic is run by
hand, from the Contango settings. SQLite gets batch mode, since it cannot alter most constraints
in place.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from contango.db import models  # noqa: F401  (registers every table on the metadata)
from contango.db.base import Base
from contango.db.session import create_engine, is_sqlite
from contango.settings import get_settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().metadata_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=is_sqlite(url),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    existing = config.attributes.get("connection")
    if existing is not None:
        _run(existing)
    else:
        asyncio.run(_run_online())
