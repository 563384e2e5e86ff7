"""Shared fixtures: every test gets its own data folder and fresh settings.

Tests marked ``postgres`` or ``redis`` talk to the real servers (never mocks). Where a server is
not reachable they are skipped with a message saying which address was tried, except under CI
(``CI=true``), where a skip would hide a failure and so becomes an error.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from contango.settings import get_settings
from pg_databases import PostgresDatabases

SERVICES = {
    "postgres": ("CONTANGO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test", 5432),
    "redis": ("CONTANGO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15", 6379),
}


def service_url(name: str) -> str:
    """The URL of a test service, from its environment variable or the local default."""
    env, default, _ = SERVICES[name]
    return os.environ.get(env, default)


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name, (env, _, port) in SERVICES.items():
        if item.get_closest_marker(name) is None:
            continue
        url = service_url(name)
        if _reachable(url, port):
            continue
        message = f"{name} is not reachable at {url} (set {env} to point the tests at a server)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI must run these tests, not skip them", pytrace=False)
        pytest.skip(message)


@pytest.fixture(autouse=True)
def data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Point CONTANGO_DATA_DIR at a fresh folder so no test sees another's data."""
    folder = tmp_path_factory.mktemp("contango-data")
    monkeypatch.setenv("CONTANGO_DATA_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    """Per-test PostgreSQL databases on the test server (see ``tests/pg_databases.py``)."""
    databases = PostgresDatabases(service_url("postgres"))
    yield databases
    databases.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, data_dir: Path, postgres_databases: PostgresDatabases
) -> Iterator[str]:
    """The URL of an empty, migrated metadata database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{data_dir / 'contango.db'}"
        return
    url = postgres_databases.create()
    yield url
    postgres_databases.drop(url)
