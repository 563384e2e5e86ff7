"""Strategies: the ready-made templates, and users' custom strategy code.

Custom code is stored here and runs only in a sandboxed worker process; writing it takes the
`strategies.code` permission (quant developers), reading it the team's membership.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from contango.audit import record_event
from contango.auth.rbac import FIRM_WIDE, Principal, can_reach
from contango.db.models import Strategy
from contango.engine.templates import TemplateInfo, list_templates
from contango.errors import InvalidInputError, NotFoundError

MAX_CODE_BYTES = 256 * 1024


@dataclass(frozen=True)
class StrategyPage:
    """One page of custom strategies."""

    items: list[Strategy]
    total: int


def templates() -> tuple[TemplateInfo, ...]:
    """Every template with the JSON schema of its parameters."""
    return list_templates()


def template(name: str) -> TemplateInfo:
    """One template by name."""
    for info in list_templates():
        if info.name == name:
            return info
    known = ", ".join(info.name for info in list_templates())
    raise NotFoundError(f"no strategy template {name!r}; templates: {known}")


def _check_code(code: str) -> str:
    """The code's hash, once it is known to be Python that compiles (it is not run here)."""
    if len(code.encode()) > MAX_CODE_BYTES:
        raise InvalidInputError(f"strategy code is over {MAX_CODE_BYTES // 1024} KiB")
    try:
        compile(code, "<strategy>", "exec", dont_inherit=True)
    except SyntaxError as error:
        where = f"line {error.lineno}, column {error.offset}"
        raise InvalidInputError(f"strategy code does not compile at {where}: {error.msg}") from None
    return hashlib.sha256(code.encode()).hexdigest()


async def create_strategy(
    session: AsyncSession, caller: Principal, *, name: str, description: str, code: str
) -> Strategy:
    """Store new custom strategy code for the caller and their team."""
    strategy = Strategy(
        name=name,
        description=description,
        code=code,
        code_hash=_check_code(code),
        owner_id=caller.user_id,
        team_id=caller.team_id,
    )
    session.add(strategy)
    await session.flush()
    await record_event(
        session,
        action="strategy.create",
        actor_id=caller.user_id,
        actor=str(caller.user_id),
        target=f"strategy:{strategy.id}",
        details={"name": name, "code_hash": strategy.code_hash},
    )
    return strategy


async def list_strategies(
    session: AsyncSession, caller: Principal, *, limit: int, offset: int
) -> StrategyPage:
    """The caller's and their team's custom strategies, newest first."""
    where = []
    if caller.role not in FIRM_WIDE:
        where.append((Strategy.owner_id == caller.user_id) | (Strategy.team_id == caller.team_id))
    total = await session.scalar(select(func.count()).select_from(Strategy).where(*where))
    rows = await session.scalars(
        select(Strategy)
        .where(*where)
        .order_by(Strategy.updated_at.desc(), Strategy.id)
        .limit(limit)
        .offset(offset)
    )
    return StrategyPage(items=list(rows), total=int(total or 0))


async def get_strategy(
    session: AsyncSession, caller: Principal, strategy_id: uuid.UUID, *, write: bool = False
) -> Strategy:
    """A custom strategy the caller may see (or change, with ``write``)."""
    strategy = await session.get(Strategy, strategy_id)
    if strategy is None or not can_reach(caller, strategy.owner_id, strategy.team_id, write=write):
        raise NotFoundError(f"no strategy {strategy_id}")
    return strategy


async def update_strategy(
    session: AsyncSession,
    caller: Principal,
    strategy_id: uuid.UUID,
    *,
    name: str | None,
    description: str | None,
    code: str | None,
) -> Strategy:
    """Change a custom strategy's name, description or code."""
    strategy = await get_strategy(session, caller, strategy_id, write=True)
    if code is not None:
        strategy.code_hash = _check_code(code)
        strategy.code = code
    if name is not None:
        strategy.name = name
    if description is not None:
        strategy.description = description
    strategy.updated_at = datetime.now(UTC)
    await record_event(
        session,
        action="strategy.update",
        actor_id=caller.user_id,
        actor=str(caller.user_id),
        target=f"strategy:{strategy.id}",
        details={"name": strategy.name, "code_hash": strategy.code_hash},
    )
    return strategy


async def delete_strategy(session: AsyncSession, caller: Principal, strategy_id: uuid.UUID) -> None:
    """Remove a custom strategy (jobs that ran it keep their copy of the configuration)."""
    strategy = await get_strategy(session, caller, strategy_id, write=True)
    await session.delete(strategy)
    await record_event(
        session,
        action="strategy.delete",
        actor_id=caller.user_id,
        actor=str(caller.user_id),
        target=f"strategy:{strategy_id}",
        details={"name": strategy.name},
    )
