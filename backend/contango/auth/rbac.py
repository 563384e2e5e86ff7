"""Roles, permissions and the one matrix that joins them.

Two questions are asked of every request, in this order: may this role do this kind of thing at
all (the matrix below), and may this user touch this object (:func:`can_reach`). Routers never
test roles themselves; they declare the permission they need and load objects through services
that apply the object rule, so the matrix here is the whole policy and a test can walk it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a user is to the firm; each maps to a fixed set of permissions."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    QUANT_DEVELOPER = "quant_developer"
    RISK_MANAGER = "risk_manager"
    COMPLIANCE_OFFICER = "compliance_officer"
    ADMIN = "admin"


class Permission(StrEnum):
    """One kind of action on one kind of object."""

    CONTRACTS_READ = "contracts.read"
    DATASETS_READ = "datasets.read"
    DATASETS_UPLOAD = "datasets.upload"
    CONTINUOUS_READ = "continuous.read"
    CONTINUOUS_BUILD = "continuous.build"
    STRATEGIES_READ = "strategies.read"
    STRATEGIES_CODE = "strategies.code"  # write and run custom strategy code
    BACKTESTS_READ = "backtests.read"
    BACKTESTS_RUN = "backtests.run"
    BACKTESTS_CANCEL = "backtests.cancel"
    RESEARCH_RUN = "research.run"  # sweeps and walk-forward
    AUDIT_READ = "audit.read"
    AUDIT_EXPORT = "audit.export"
    AUDIT_VERIFY = "audit.verify"
    USERS_READ = "users.read"
    USERS_MANAGE = "users.manage"


_READ = frozenset(
    {
        Permission.CONTRACTS_READ,
        Permission.DATASETS_READ,
        Permission.CONTINUOUS_READ,
        Permission.STRATEGIES_READ,
        Permission.BACKTESTS_READ,
    }
)
_RESEARCH = _READ | {
    Permission.DATASETS_UPLOAD,
    Permission.CONTINUOUS_BUILD,
    Permission.BACKTESTS_RUN,
    Permission.BACKTESTS_CANCEL,
    Permission.RESEARCH_RUN,
}

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _READ,
    Role.ANALYST: frozenset(_RESEARCH),
    Role.QUANT_DEVELOPER: frozenset(_RESEARCH | {Permission.STRATEGIES_CODE}),
    # Risk managers run and stop the team's backtests (stress runs) but load no data of their own.
    Role.RISK_MANAGER: frozenset(
        _READ | {Permission.BACKTESTS_RUN, Permission.BACKTESTS_CANCEL, Permission.RESEARCH_RUN}
    ),
    Role.COMPLIANCE_OFFICER: frozenset(
        _READ | {Permission.AUDIT_READ, Permission.AUDIT_EXPORT, Permission.AUDIT_VERIFY}
    ),
    Role.ADMIN: frozenset(Permission),
}

# Roles whose object scope is the whole firm rather than their own team.
FIRM_WIDE: frozenset[Role] = frozenset({Role.ADMIN})


def allows(role: Role, permission: Permission) -> bool:
    """Whether ``role`` may perform ``permission`` at all."""
    return permission in PERMISSIONS[role]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: what a verified token (and its live session) says about the caller."""

    user_id: uuid.UUID
    team_id: uuid.UUID | None
    role: Role
    session_id: uuid.UUID | None = None

    def can(self, permission: Permission) -> bool:
        """Whether this caller's role grants ``permission``."""
        return allows(self.role, permission)


def can_reach(
    principal: Principal,
    owner_id: uuid.UUID | None,
    team_id: uuid.UUID | None,
    *,
    write: bool = False,
) -> bool:
    """Whether ``principal`` may touch an object owned by ``owner_id`` within ``team_id``.

    Objects belong to a user and their team; team members share them. Objects of no team
    (the bundled sample data) are shared with everyone for reading and changed only by admins.
    """
    if principal.role in FIRM_WIDE:
        return True
    if team_id is None and owner_id is None:
        return not write
    return owner_id == principal.user_id or (team_id is not None and team_id == principal.team_id)
