"""PostgreSQL only: concurrent appenders never fork the chain, and an app role cannot rewrite it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import select

from contango.audit import record_event, verify_audit_log
from contango.db.models.audit import AuditEntry
from contango.db.session import Database
from contango.settings import Settings
from pg_databases import PostgresDatabases

pytestmark = pytest.mark.postgres

WRITERS = 8
PER_WRITER = 40


@pytest.fixture
def pg_url(postgres_databases: PostgresDatabases) -> Iterator[str]:
    url = postgres_databases.create()
    yield url
    postgres_databases.drop(url)


def test_concurrent_appenders_on_separate_connections_neither_fork_nor_lose_entries(
    pg_url: str, data_dir: Path
) -> None:
    async def writer(number: int) -> None:
        database = Database(pg_url)  # an engine (and so connections) of its own
        try:
            for index in range(PER_WRITER):
                async with database.transaction() as session:
                    await record_event(
                        session,
                        action="backtest.submit",
                        actor_id=None,
                        actor=f"writer-{number}",
                        details={"index": index},
                    )
        finally:
            await database.dispose()

    async def main() -> tuple[list[AuditEntry], bool]:
        await asyncio.gather(*(writer(number) for number in range(WRITERS)))
        database = Database(pg_url)
        try:
            report = await verify_audit_log(database, Settings(data_dir=data_dir))
            async with database.transaction() as session:
                rows = (await session.execute(select(AuditEntry).order_by("seq"))).scalars()
                return list(rows), report.ok
        finally:
            await database.dispose()

    rows, ok = asyncio.run(main())
    total = WRITERS * PER_WRITER
    assert [row.seq for row in rows] == list(range(1, total + 1))  # no gap, none lost
    assert len({row.prev_hash for row in rows}) == total  # no two share a predecessor: no fork
    for number in range(WRITERS):
        mine = [row.details["index"] for row in rows if row.actor == f"writer-{number}"]
        assert mine == list(range(PER_WRITER))  # each writer's entries in its own order
    assert ok


def _as_role(url: str, role: str, password: str) -> str:
    if "//postgres@" not in url:
        raise ValueError(f"expected the test server's postgres user in {url}")
    return url.replace("//postgres@", f"//{role}:{password}@", 1)


def test_an_app_role_with_select_and_insert_only_appends_but_cannot_rewrite(
    pg_url: str,
) -> None:
    role = f"contango_app_{uuid.uuid4().hex[:10]}"  # roles are cluster-wide: a unique name
    password = uuid.uuid4().hex
    admin_url = pg_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    async def main() -> None:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
            await admin.execute(f"GRANT SELECT, INSERT ON audit_log TO {role}")
            await admin.execute(f"GRANT SELECT, UPDATE ON audit_head TO {role}")
            database = Database(_as_role(pg_url, role, password))
            try:
                async with database.transaction() as session:
                    entry = await record_event(
                        session, action="auth.login", actor_id=None, actor="x"
                    )
                assert entry.seq == 1
            finally:
                await database.dispose()
            app = await asyncpg.connect(_as_role(admin_url, role, password))
            try:
                for statement in (
                    "UPDATE audit_log SET actor = 'mallory'",
                    "DELETE FROM audit_log",
                    "TRUNCATE audit_log",
                ):
                    with pytest.raises(
                        asyncpg.InsufficientPrivilegeError, match="permission denied for table"
                    ):
                        await app.execute(statement)
            finally:
                await app.close()
            # Even the owner (here a superuser) is stopped by the triggers.
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await admin.execute("DELETE FROM audit_log")
            assert await admin.fetchval("SELECT count(*) FROM audit_log") == 1
        finally:
            await admin.execute(f"DROP OWNED BY {role}")
            await admin.execute(f"DROP ROLE IF EXISTS {role}")
            await admin.close()

    asyncio.run(main())
