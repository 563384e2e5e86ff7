"""Helpers of the identity tests: users with passwords made through the admin API, logins."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from app_support import context_of, run_in_app
from contango.audit import seal_pending

PASSWORD = "correct horse battery staple"
Headers = dict[str, str]


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
