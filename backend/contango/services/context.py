"""What every service call needs, built once per process: settings, database, keys.

The API keeps one on its app state, a worker builds its own; nothing is global, so two apps in
one test process (SQLite and PostgreSQL) never share state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from contango.auth.tokens import TokenService
from contango.db.migrate import upgrade_async
from contango.db.session import Database
from contango.keys import ed25519_key, server_secret
from contango.settings import Settings


@dataclass(frozen=True)
class ServiceContext:
    """Settings, the metadata database and the token service of one process."""

    settings: Settings
    database: Database
    tokens: TokenService
    secret: bytes

    async def close(self) -> None:
        """Release the database connections."""
        await self.database.dispose()


async def open_context(settings: Settings, *, migrate: bool = True) -> ServiceContext:
    """Connect to the metadata database (migrating it first) and load the keys."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if migrate:
        await upgrade_async(settings.metadata_url)
    tokens = TokenService(
        ed25519_key(settings.token_signing_key_file, settings, "token-signing"),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        access_ttl=timedelta(minutes=settings.access_token_minutes),
    )
    return ServiceContext(
        settings=settings,
        database=Database(settings.metadata_url),
        tokens=tokens,
        secret=server_secret(settings),
    )
