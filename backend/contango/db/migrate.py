"""Apply the Alembic migrations in ``migrations/`` (what the API does on start)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

import contango

MIGRATIONS_DIR = Path(contango.__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for ``url`` that needs no alembic.ini."""
    if not MIGRATIONS_DIR.is_dir():
        raise FileNotFoundError(f"migrations folder not found at {MIGRATIONS_DIR}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (every head)."""
    command.upgrade(alembic_config(url), "heads")


async def upgrade_async(url: str) -> None:
    """:func:`upgrade` from inside a running event loop (Alembic drives its own loop)."""
    await asyncio.to_thread(upgrade, url)
