"""The migrations build exactly the schema the models declare (SQLite and PostgreSQL): a column
added to a model without its migration, or the other way round, fails here rather than on a
user's database."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

import contango.db.models  # noqa: F401 - registers every table on the metadata
from contango.db.base import Base
from contango.db.migrate import upgrade


def _compare(connection: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _differences(url: str) -> list[Any]:
    async def main() -> list[Any]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(_compare)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def test_the_migrated_schema_is_the_models_schema(database_url: str) -> None:
    upgrade(database_url)  # SQLite starts empty; the PostgreSQL copy is migrated already
    assert _differences(database_url) == []
