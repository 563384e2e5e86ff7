"""API test fixtures: an app on a fresh metadata database (SQLite, then PostgreSQL) and users.

``login(role)`` makes a user of that role directly in the database, opens a session for them
and returns bearer headers, so that endpoint tests do not depend on the login flow (which has
tests of its own).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from contango.api.app import create_app
from contango.auth.rbac import Role
from contango.db.models import AuthSession, Team, User
from contango.services.context import ServiceContext
from contango.settings import Settings

Headers = dict[str, str]
Login = Callable[..., Headers]
T = TypeVar("T")


@pytest.fixture
def settings(data_dir: Path, database_url: str) -> Settings:
    """Settings of a test app: its own data folder and database."""
    return Settings(data_dir=data_dir, database_url=database_url, web_dir=None)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client of a started app (migrations applied, keys made)."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def run_in_app(client: TestClient, function: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Await ``function(*args)`` on the app's event loop (where its database pool lives)."""
    portal = client.portal
    assert portal is not None, "use the client inside its context manager"
    return portal.call(function, *args)


def context_of(client: TestClient) -> ServiceContext:
    """The service context of the app behind ``client``."""
    context: ServiceContext = client.app.state.context  # type: ignore[attr-defined]
    return context


async def _make_user(context: ServiceContext, role: Role, team: str, email: str) -> str:
    now = datetime.now(UTC)
    async with context.database.transaction() as session:
        found = (await session.execute(select(Team).where(Team.name == team))).scalar_one_or_none()
        if found is None:
            found = Team(name=team)
            session.add(found)
            await session.flush()
        user = User(email=email, display_name=email, role=role.value, team_id=found.id)
        session.add(user)
        await session.flush()
        live = AuthSession(user_id=user.id, expires_at=now + timedelta(hours=1), mfa_verified=True)
        session.add(live)
        await session.flush()
        return context.tokens.issue_access(user_id=user.id, session_id=live.id, role=role.value)


@pytest.fixture
def login(client: TestClient) -> Login:
    """``login(role, team="desk-a", email=None)`` -> bearer headers of a new user."""
    counter = iter(range(1_000_000))

    def make(role: Role | str, team: str = "desk-a", email: str | None = None) -> Headers:
        chosen = Role(role)
        address = email or f"{chosen.value}-{next(counter)}@{team}.example.com"
        token = run_in_app(client, _make_user, context_of(client), chosen, team, address)
        return {"Authorization": f"Bearer {token}"}

    return make
