"""Users and teams: the administration side of identity (create, list, change, reset MFA).

Only admins reach these functions (the routers require ``users.read`` / ``users.manage``, which
only the admin role holds, and admins are firm-wide), so there is no per-object team rule here.
Every change is audited in the caller's transaction. The last active admin cannot be demoted or
disabled: a firm locked out of its own user administration has no way back in but the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contango.audit import record_event
from contango.auth import enrolment, passwords, sessions
from contango.auth.rbac import Principal, Role
from contango.db.models import Team, User
from contango.errors import ConflictError, InvalidInputError, NotFoundError


@dataclass(frozen=True, slots=True)
class UserView:
    """A user with the name of their team, as the API shows it."""

    user: User
    team_name: str | None


@dataclass(frozen=True, slots=True)
class UserFilter:
    """Optional filters of the user list."""

    role: Role | None = None
    team_id: uuid.UUID | None = None
    is_active: bool | None = None
    email_contains: str | None = None


def _views(rows: Any) -> list[UserView]:
    return [UserView(user=user, team_name=name) for user, name in rows]


def _base() -> Select[User, str]:
    return select(User, Team.name).outerjoin(Team, Team.id == User.team_id)


async def list_users(
    session: AsyncSession, wanted: UserFilter, *, limit: int, offset: int
) -> tuple[list[UserView], int]:
    """One page of users (by email) and the number matching the filter."""
    query = _base()
    if wanted.role is not None:
        query = query.where(User.role == wanted.role.value)
    if wanted.team_id is not None:
        query = query.where(User.team_id == wanted.team_id)
    if wanted.is_active is not None:
        query = query.where(User.is_active.is_(wanted.is_active))
    if wanted.email_contains:
        query = query.where(User.email.contains(wanted.email_contains.lower(), autoescape=True))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(query.order_by(User.email).limit(limit).offset(offset))
    return _views(rows.all()), int(total or 0)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> UserView:
    """One user; :class:`NotFoundError` if there is none with that id."""
    row = (await session.execute(_base().where(User.id == user_id))).one_or_none()
    if row is None:
        raise NotFoundError(f"no user with id {user_id}")
    return UserView(user=row[0], team_name=row[1])


async def _team(session: AsyncSession, team_id: uuid.UUID | None) -> Team | None:
    if team_id is None:
        return None
    team = await session.get(Team, team_id)
    if team is None:
        raise InvalidInputError(f"no team with id {team_id}")
    return team


def _validated_email(email: str) -> str:
    address = email.strip().lower()
    local, at, domain = address.partition("@")
    if not at or not local or not domain or "@" in domain or any(c.isspace() for c in address):
        raise InvalidInputError(f"{email!r} is not an email address")
    return address


async def create_user(
    session: AsyncSession,
    caller: Principal,
    actor: str,
    *,
    email: str,
    display_name: str,
    role: Role,
    team_id: uuid.UUID | None,
    password: str | None,
) -> UserView:
    """A new user; without a password they can sign in only through single sign-on."""
    address = _validated_email(email)
    if password is not None:
        try:
            passwords.check_policy(password, address)
        except passwords.PasswordPolicyError as error:
            raise InvalidInputError(str(error)) from error
    team = await _team(session, team_id)
    exists = await session.scalar(select(func.count()).where(User.email == address))
    if exists:
        raise ConflictError(f"a user with email {address} already exists")
    now = datetime.now(UTC)
    user = User(
        email=address,
        display_name=display_name or address,
        role=role.value,
        team_id=team.id if team else None,
        password_hash=passwords.hash_password(password) if password is not None else None,
        password_changed_at=now if password is not None else None,
    )
    session.add(user)
    await session.flush()
    await record_event(
        session,
        action="user.create",
        actor_id=caller.user_id,
        actor=actor,
        target=f"user:{user.id}",
        details={"email": address, "role": role.value, "team": team.name if team else None},
    )
    return UserView(user=user, team_name=team.name if team else None)


async def _active_admins(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
    )
    return int(count or 0)


async def update_user(
    session: AsyncSession,
    caller: Principal,
    actor: str,
    user_id: uuid.UUID,
    changes: dict[str, Any],
) -> UserView:
    """Apply ``changes`` (any of role, team_id, is_active, display_name) to one user.

    Disabling a user ends their sessions at once; a role change applies to their next request.
    """
    view = await get_user(session, user_id)
    user, team_name = view.user, view.team_name
    was_admin = user.role == Role.ADMIN.value and user.is_active
    if "team_id" in changes:
        team = await _team(session, changes["team_id"])
        user.team_id, team_name = (team.id, team.name) if team else (None, None)
    if changes.get("role") is not None:
        user.role = Role(changes["role"]).value
    if changes.get("is_active") is not None:
        user.is_active = bool(changes["is_active"])
    if changes.get("display_name") is not None:
        user.display_name = str(changes["display_name"])
    still_admin = user.role == Role.ADMIN.value and user.is_active
    if was_admin and not still_admin:
        await session.flush()
        if await _active_admins(session) == 0:
            raise ConflictError("this is the last active admin; make another admin first")
    if not user.is_active:
        await sessions.revoke_user_sessions(session, user.id, datetime.now(UTC))
    recorded = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in changes.items()}
    await record_event(
        session,
        action="user.update",
        actor_id=caller.user_id,
        actor=actor,
        target=f"user:{user.id}",
        details=recorded,
    )
    return UserView(user=user, team_name=team_name)


async def reset_mfa(
    session: AsyncSession, caller: Principal, actor: str, user_id: uuid.UUID
) -> UserView:
    """Remove a user's TOTP and recovery codes (lost device) and end their sessions."""
    view = await get_user(session, user_id)
    user = view.user
    await enrolment.clear_mfa(session, user)
    await sessions.revoke_user_sessions(session, user.id, datetime.now(UTC))
    await record_event(
        session,
        action="user.reset_mfa",
        actor_id=caller.user_id,
        actor=actor,
        target=f"user:{user.id}",
    )
    return view


async def list_teams(session: AsyncSession) -> list[tuple[Team, int]]:
    """Every team (by name) with its number of members."""
    rows = await session.execute(
        select(Team, func.count(User.id))
        .outerjoin(User, User.team_id == Team.id)
        .group_by(Team.id)
        .order_by(Team.name)
    )
    return [(team, int(members)) for team, members in rows.all()]


async def create_team(session: AsyncSession, caller: Principal, actor: str, name: str) -> Team:
    """A new team; names are unique."""
    cleaned = name.strip()
    if not cleaned:
        raise InvalidInputError("a team needs a name")
    if await session.scalar(select(func.count()).where(Team.name == cleaned)):
        raise ConflictError(f"a team named {cleaned!r} already exists")
    team = Team(name=cleaned)
    session.add(team)
    try:
        await session.flush()
    except IntegrityError as error:  # created concurrently by another request
        raise ConflictError(f"a team named {cleaned!r} already exists") from error
    await record_event(
        session,
        action="team.create",
        actor_id=caller.user_id,
        actor=actor,
        target=f"team:{team.id}",
        details={"name": cleaned},
    )
    return team
