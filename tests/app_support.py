"""What API and integration tests share: awaiting on the app's loop, and users made directly."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from sqlalchemy import func, literal, select, union_all

from contango.auth.rbac import Role
from contango.db.models import AuthSession, Team, User
from contango.db.models.audit import AuditEntry, AuditIntake
from contango.services.context import ServiceContext

T = TypeVar("T")
Headers = dict[str, str]
Login = Callable[..., Headers]  # the `login(role, team=..., email=None)` fixture


def run_in_app(client: TestClient, function: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Await ``function(*args)`` on the app's event loop (where its database pool lives)."""
    portal = client.portal
    assert portal is not None, "use the client inside its context manager"
    return portal.call(function, *args)


def context_of(client: TestClient) -> ServiceContext:
    """The service context of the app behind ``client``."""
    context: ServiceContext = client.app.state.context  # type: ignore[attr-defined]
    return context


async def make_user_token(context: ServiceContext, role: Role, team: str, email: str) -> str:
    """A user of ``role`` in ``team`` (made if new) with a live session; their access token."""
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


async def count_audited(context: ServiceContext, target: str, action: str) -> int:
    """Audit entries of ``action`` (a LIKE pattern) on ``target``, sealed or still in the
    intake, counted in one statement: the sealer moves entries from the intake to the log,
    and two separate counts (two snapshots under READ COMMITTED) could see one entry twice."""
    parts = [
        select(literal(1).label("one"))
        .select_from(table)
        .where(table.target == target, table.action.like(action))
        for table in (AuditIntake, AuditEntry)
    ]
    async with context.database.transaction() as session:
        found = await session.scalar(select(func.count()).select_from(union_all(*parts).subquery()))
    return int(found or 0)
