"""Fixtures of the integration tests: the real Redis, real Celery workers, an API on Celery.

Every test that uses Redis takes database 15 alone: an exclusive lock serializes such tests
across parallel test processes, and the database is flushed before and after, so no worker of
one test ever takes a task of another (whose job it would not find in its own database).
"""

from __future__ import annotations

import fcntl
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery_support import CeleryWorkers
from fastapi.testclient import TestClient

from contango.api.app import create_app
from contango.settings import Settings
from jobs_support import install_es_samples

LOCK = Path(tempfile.gettempdir()) / "contango-test-redis-db.lock"


def service_url(config: pytest.Config, name: str) -> str:
    """``service_url`` of the suite's root conftest (a module also named ``conftest``, so it is
    reached through the plugin manager that loaded it rather than imported)."""
    root = Path(__file__).parents[1] / "conftest.py"
    for plugin in config.pluginmanager.get_plugins():
        if getattr(plugin, "__file__", None) == str(root):
            url: str = plugin.service_url(name)
            return url
    raise RuntimeError(f"the suite's root conftest {root} is not loaded")


@pytest.fixture
def redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test Redis database, owned by this test alone while it runs."""
    url = service_url(request.config, "redis")
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        client = redis.Redis.from_url(url)
        try:
            client.flushdb()
            yield url
            client.flushdb()
        finally:
            client.close()
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def es_samples(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Three years of the ES daily sample chain in the test's store (generated once)."""
    install_es_samples(data_dir, tmp_path_factory.getbasetemp())


@pytest.fixture
def settings(data_dir: Path, database_url: str, redis_url: str) -> Settings:
    """Celery on the test Redis; short leases so a killed worker's job returns in seconds, and
    two attempts (below the job row's default of 3: the setting caps it)."""
    return Settings(data_dir=data_dir, database_url=database_url, redis_url=redis_url,
                    job_backend="celery", lease_seconds=6.0, heartbeat_seconds=2.0,
                    max_attempts=2, sandbox_cpu_seconds=20, log_format="text")  # fmt: skip


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """An API on Celery (migrations applied, keys made before any worker starts)."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def workers(client: TestClient, settings: Settings, tmp_path: Path) -> Iterator[CeleryWorkers]:
    """Celery workers of this test (started by the test), killed when it ends."""
    started = CeleryWorkers(settings=settings, folder=tmp_path)
    try:
        yield started
    finally:
        started.stop()
