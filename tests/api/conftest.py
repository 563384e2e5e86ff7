"""API test fixtures: an app on a fresh metadata database (SQLite, then PostgreSQL) and users.

``login(role)`` makes a user of that role directly in the database, opens a session for them
and returns bearer headers, so that endpoint tests do not depend on the login flow (which has
tests of its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app_support import Headers, Login, context_of, make_user_token, run_in_app
from contango.api.app import create_app
from contango.auth.rbac import Role
from contango.settings import Settings


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    """Settings of a test app: its own data folder and database."""
    return Settings(data_dir=data_dir, database_url=database_url, web_dir=None)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client of a started app (migrations applied, keys made)."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def login(client: TestClient) -> Login:
    """``login(role, team="desk-a", email=None)`` -> bearer headers of a new user."""
    counter = iter(range(1_000_000))

    def make(role: Role | str, team: str = "desk-a", email: str | None = None) -> Headers:
        chosen = Role(role)
        address = email or f"{chosen.value}-{next(counter)}@{team}.example.com"
        token = run_in_app(client, make_user_token, context_of(client), chosen, team, address)
        return {"Authorization": f"Bearer {token}"}

    return make
