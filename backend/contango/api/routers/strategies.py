"""Strategies: templates with their parameter schemas, and custom strategy code."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter

from contango.api.deps import Paging, Session
from contango.api.schemas.jobs import Paged
from contango.api.schemas.strategies import (
    StrategyCreate,
    StrategyDetail,
    StrategyOut,
    StrategyUpdate,
    TemplateOut,
)
from contango.api.security import require
from contango.auth.rbac import Permission, Principal
from contango.services import strategies

router = APIRouter(prefix="/strategies", tags=["strategies"])
Reader = Annotated[Principal, require(Permission.STRATEGIES_READ)]
Coder = Annotated[Principal, require(Permission.STRATEGIES_CODE)]


@router.get("/templates", response_model=list[TemplateOut], summary="Strategy templates")
async def list_templates(caller: Reader) -> Any:  # noqa: ARG001  (the dependency authorizes)
    """Every ready-made strategy with the JSON schema of its parameters (for forms)."""
    return strategies.templates()


@router.get("/templates/{name}", response_model=TemplateOut, summary="One strategy template")
async def get_template(name: str, caller: Reader) -> Any:  # noqa: ARG001
    """One template, by name (as used in a backtest configuration's `strategy.name`)."""
    return strategies.template(name)


@router.get("/custom", response_model=Paged[StrategyOut], summary="Custom strategies")
async def list_custom(caller: Reader, session: Session, paging: Paging) -> Any:
    """Your and your team's custom strategies, most recently changed first."""
    page = await strategies.list_strategies(
        session, caller, limit=paging.limit, offset=paging.offset
    )
    return {
        "items": page.items,
        "total": page.total,
        "limit": paging.limit,
        "offset": paging.offset,
    }


@router.post(
    "/custom", status_code=201, response_model=StrategyDetail, summary="Save custom strategy code"
)
async def create_custom(body: StrategyCreate, caller: Coder, session: Session) -> Any:
    """Store strategy code (checked to compile; it runs only in a sandboxed worker)."""
    return await strategies.create_strategy(
        session, caller, name=body.name, description=body.description, code=body.code
    )


@router.get("/custom/{strategy_id}", response_model=StrategyDetail, summary="A custom strategy")
async def get_custom(strategy_id: uuid.UUID, caller: Reader, session: Session) -> Any:
    """One custom strategy with its code."""
    return await strategies.get_strategy(session, caller, strategy_id)


@router.patch("/custom/{strategy_id}", response_model=StrategyDetail, summary="Change a strategy")
async def update_custom(
    strategy_id: uuid.UUID, body: StrategyUpdate, caller: Coder, session: Session
) -> Any:
    """Change the name, description or code of a custom strategy."""
    return await strategies.update_strategy(
        session,
        caller,
        strategy_id,
        name=body.name,
        description=body.description,
        code=body.code,
    )


@router.delete("/custom/{strategy_id}", status_code=204, summary="Delete a custom strategy")
async def delete_custom(strategy_id: uuid.UUID, caller: Coder, session: Session) -> None:
    """Remove a custom strategy."""
    await strategies.delete_strategy(session, caller, strategy_id)
