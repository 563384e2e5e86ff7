"""User and team administration (admins: ``users.read`` to list, ``users.manage`` to change)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from contango.api.deps import Paging, Session
from contango.api.security import require
from contango.auth import directory
from contango.auth.directory import UserFilter, UserView
from contango.auth.rbac import Permission, Principal, Role

router = APIRouter(prefix="/users", tags=["users"])

CanRead = Annotated[Principal, require(Permission.USERS_READ)]
CanManage = Annotated[Principal, require(Permission.USERS_MANAGE)]


class UserOut(BaseModel):
    """A user as administrators see them (never a password hash or MFA secret)."""

    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    team_id: uuid.UUID | None
    team: str | None = Field(description="The team's name.")
    is_active: bool
    mfa_enabled: bool
    sso: bool = Field(description="Linked to the identity provider.")
    has_password: bool = Field(description="Can sign in with a local password.")
    created_at: datetime
    last_login_at: datetime | None


class UserPage(BaseModel):
    """One page of users."""

    items: list[UserOut]
    total: int
    limit: int
    offset: int


class UserCreate(BaseModel):
    """A new user; omit the password for an account that signs in only through SSO."""

    email: str = Field(max_length=320, description="Unique; stored lower-cased.")
    display_name: str = Field(default="", max_length=200, description="Name shown in the app.")
    role: Role = Field(description="What the user may do.")
    team_id: uuid.UUID | None = Field(default=None, description="The user's team.")
    password: str | None = Field(
        default=None, max_length=1024, description="Initial password (12+ characters)."
    )


class UserUpdate(BaseModel):
    """Fields to change; absent fields stay as they are (`team_id: null` removes the team)."""

    role: Role | None = Field(default=None, description="New role.")
    team_id: uuid.UUID | None = Field(default=None, description="New team, or null for none.")
    is_active: bool | None = Field(default=None, description="False ends the user's sessions.")
    display_name: str | None = Field(default=None, max_length=200, description="New name.")


class TeamOut(BaseModel):
    """A team and its size."""

    id: uuid.UUID
    name: str
    members: int
    created_at: datetime


class TeamCreate(BaseModel):
    """A new team."""

    name: str = Field(min_length=1, max_length=100, description="Unique team name.")


def _out(view: UserView) -> UserOut:
    user = view.user
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=Role(user.role),
        team_id=user.team_id,
        team=view.team_name,
        is_active=user.is_active,
        mfa_enabled=user.mfa_enabled,
        sso=user.oidc_subject is not None,
        has_password=user.password_hash is not None,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


async def _actor(session: Session, caller: Principal) -> str:
    return (await directory.get_user(session, caller.user_id)).user.email


# Team routes come first: "/users/teams" must not be read as a user id.
@router.get("/teams", summary="List teams")
async def list_teams(caller: CanRead, session: Session) -> list[TeamOut]:  # noqa: ARG001
    """Every team with its number of members."""
    return [
        TeamOut(id=team.id, name=team.name, members=members, created_at=team.created_at)
        for team, members in await directory.list_teams(session)
    ]


@router.post("/teams", status_code=201, summary="Create a team")
async def create_team(body: TeamCreate, caller: CanManage, session: Session) -> TeamOut:
    """Team members share datasets, strategies and results."""
    team = await directory.create_team(session, caller, await _actor(session, caller), body.name)
    return TeamOut(id=team.id, name=team.name, members=0, created_at=team.created_at)


@router.get("", summary="List users")
async def list_users(
    caller: CanRead,  # noqa: ARG001
    session: Session,
    paging: Paging,
    role: Annotated[Role | None, Query(description="Only this role.")] = None,
    team_id: Annotated[uuid.UUID | None, Query(description="Only this team.")] = None,
    is_active: Annotated[bool | None, Query(description="Only (in)active users.")] = None,
    email: Annotated[str | None, Query(max_length=320, description="Email contains.")] = None,
) -> UserPage:
    """Users ordered by email."""
    wanted = UserFilter(role=role, team_id=team_id, is_active=is_active, email_contains=email)
    views, total = await directory.list_users(
        session, wanted, limit=paging.limit, offset=paging.offset
    )
    return UserPage(
        items=[_out(v) for v in views], total=total, limit=paging.limit, offset=paging.offset
    )


@router.post("", status_code=201, summary="Create a user")
async def create_user(body: UserCreate, caller: CanManage, session: Session) -> UserOut:
    """A local account (with password) or an SSO-only account (without)."""
    view = await directory.create_user(
        session,
        caller,
        await _actor(session, caller),
        email=body.email,
        display_name=body.display_name,
        role=body.role,
        team_id=body.team_id,
        password=body.password,
    )
    return _out(view)


@router.get("/{user_id}", summary="Show a user")
async def get_user(user_id: uuid.UUID, caller: CanRead, session: Session) -> UserOut:  # noqa: ARG001
    """One user by id."""
    return _out(await directory.get_user(session, user_id))


@router.patch("/{user_id}", summary="Change a user")
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, caller: CanManage, session: Session
) -> UserOut:
    """Role, team, active flag, display name; the last active admin cannot be removed."""
    changes = body.model_dump(include=body.model_fields_set)
    view = await directory.update_user(
        session, caller, await _actor(session, caller), user_id, changes
    )
    return _out(view)


@router.post("/{user_id}/reset-mfa", summary="Reset a user's MFA (lost device)")
async def reset_mfa(user_id: uuid.UUID, caller: CanManage, session: Session) -> UserOut:
    """Removes TOTP and recovery codes and ends the user's sessions."""
    view = await directory.reset_mfa(session, caller, await _actor(session, caller), user_id)
    return _out(view)
