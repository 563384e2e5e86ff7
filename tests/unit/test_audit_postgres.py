"""PostgreSQL only: open and locked intake rows, and an app role that cannot rewrite the log."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from contango.audit import record_event, seal_batch, seal_pending
from contango.db.models.audit import AuditEntry, AuditIntake
from contango.db.session import Database
from pg_databases import PostgresDatabases

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url(postgres_databases: PostgresDatabases) -> Iterator[str]:
    url = postgres_databases.create()
    yield url
    postgres_databases.drop(url)


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _record(database: Database, actor: str) -> int:
    async with database.transaction() as session:
        pending = await record_event(session, action="backtest.submit", actor_id=None, actor=actor)
    return pending.intake_id


def test_an_open_transaction_neither_blocks_nor_joins_the_chain_and_its_rollback_leaves_nothing(
    pg_url: str,
) -> None:
    async def main() -> None:
        writer, sealer = Database(pg_url), Database(pg_url)
        try:
            async with writer.sessions() as session, session.begin():
                await record_event(session, action="x.open", actor_id=None, actor="open")
                await _record(sealer, "committed")
                # The open transaction's row is invisible to the sealer: sealed at once.
                assert await asyncio.wait_for(seal_pending(sealer), timeout=10) == 1
                await session.rollback()
            assert await seal_pending(sealer) == 0
            async with sealer.transaction() as session:
                actors = (await session.execute(select(AuditEntry.actor))).scalars().all()
                left = (await session.execute(select(AuditIntake.id))).scalars().all()
            assert (list(actors), list(left)) == (["committed"], [])
        finally:
            await writer.dispose()
            await sealer.dispose()

    asyncio.run(main())


def test_a_sealer_behind_a_held_lock_gives_up_and_seals_everything_in_order_later(
    pg_url: str,
) -> None:
    async def main() -> tuple[list[str], list[str]]:
        database = Database(pg_url)
        holder = await asyncpg.connect(_plain(pg_url))
        try:
            held = await _record(database, "held")
            await _record(database, "after")
            transaction = holder.transaction()
            await transaction.start()
            await holder.execute("SELECT 1 FROM audit_intake WHERE id = $1 FOR UPDATE", held)
            with pytest.raises(DBAPIError, match="lock timeout"):
                await asyncio.wait_for(
                    seal_batch(database, lock_timeout=timedelta(milliseconds=200)), timeout=10
                )
            async with database.transaction() as session:
                during = (await session.execute(select(AuditEntry.actor))).scalars().all()
            await transaction.rollback()
            assert await seal_pending(database) == 2
            async with database.transaction() as session:
                after = (
                    await session.execute(select(AuditEntry.actor).order_by(AuditEntry.seq))
                ).scalars()
                return list(during), list(after)
        finally:
            await holder.close()
            await database.dispose()

    assert asyncio.run(main()) == ([], ["held", "after"])


def _as_role(url: str, role: str, password: str) -> str:
    if "//postgres@" not in url:
        raise ValueError(f"expected the test server's postgres user in {url}")
    return url.replace("//postgres@", f"//{role}:{password}@", 1)


def test_an_app_role_records_and_seals_but_cannot_rewrite_or_drop_events(
    pg_url: str,
) -> None:
    role = f"contango_app_{uuid.uuid4().hex[:10]}"  # roles are cluster-wide: a unique name
    password = uuid.uuid4().hex
    admin_url = _plain(pg_url)

    async def main() -> None:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
            await admin.execute(f"GRANT SELECT, INSERT ON audit_log TO {role}")
            await admin.execute(f"GRANT SELECT, INSERT, DELETE ON audit_intake TO {role}")
            await admin.execute(f"GRANT SELECT, UPDATE ON audit_head TO {role}")
            database = Database(_as_role(pg_url, role, password))
            try:
                await _record(database, "x")
                unsealed = await _record(database, "y")
                assert await seal_pending(database) == 2
                unsealed = await _record(database, "z")
            finally:
                await database.dispose()
            app = await asyncpg.connect(_as_role(admin_url, role, password))
            try:
                for statement in (
                    "UPDATE audit_log SET actor = 'mallory'",
                    "DELETE FROM audit_log",
                    "TRUNCATE audit_log",
                    "UPDATE audit_intake SET actor = 'mallory'",
                    "TRUNCATE audit_intake",
                ):
                    with pytest.raises(
                        asyncpg.InsufficientPrivilegeError, match="permission denied for table"
                    ):
                        await app.execute(statement)
                # DELETE is granted (the sealer needs it), but only for rows the log holds.
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="unsealed intake"):
                    await app.execute("DELETE FROM audit_intake WHERE id = $1", unsealed)
            finally:
                await app.close()
            # Even the owner (here a superuser) is stopped by the triggers.
            for statement in ("DELETE FROM audit_log", "UPDATE audit_intake SET actor = 'm'"):
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                    await admin.execute(statement)
            assert await admin.fetchval("SELECT count(*) FROM audit_log") == 2
            assert await admin.fetchval("SELECT count(*) FROM audit_intake") == 1
        finally:
            await admin.execute(f"DROP OWNED BY {role}")
            await admin.execute(f"DROP ROLE IF EXISTS {role}")
            await admin.close()

    asyncio.run(main())
