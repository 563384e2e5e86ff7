"""Helpers of the identity tests: users with passwords made through the admin API, logins."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from sqlalchemy import text

from contango.audit import seal_pending
from contango.services.context import ServiceContext

T = TypeVar("T")

PASSWORD = "correct horse battery staple"
Headers = dict[str, str]


def context_of(client: TestClient) -> ServiceContext:
    """The service context of the app behind ``client``."""
    context: ServiceContext = client.app.state.context  # type: ignore[attr-defined]
    return context


def run_in_app(client: TestClient, function: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Await ``function(*args)`` on the app's event loop (where its database pool lives)."""
    assert client.portal is not None
    return client.portal.call(function, *args)


def make_user(
    client: TestClient,
    admin: Headers,
    email: str,
    *,
    role: str = "analyst",
    password: str | None = PASSWORD,
    team_id: str | None = None,
) -> dict[str, Any]:
    """A user made by an admin through ``POST /users``."""
    body = {"email": email, "role": role, "password": password, "team_id": team_id}
    response = client.post("/api/v1/users", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return dict(response.json())


def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """A successful bearer login's body."""
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(tokens: dict[str, Any]) -> Headers:
    """Authorization headers of a token response."""
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def audit_actions(client: TestClient, action: str) -> list[tuple[str, str]]:
    """(outcome, actor) of every audit entry of ``action``, oldest first."""

    async def read() -> list[tuple[str, str]]:
        await seal_pending(context_of(client).database)  # entries reach the chain when sealed
        async with context_of(client).database.transaction() as session:
            rows = await session.execute(
                text("SELECT outcome, actor FROM audit_log WHERE action = :a ORDER BY seq"),
                {"a": action},
            )
            return [(str(o), str(a)) for o, a in rows.all()]

    return run_in_app(client, read)
