"""Dependencies shared by the routers: the service context, a database transaction, paging.

Authentication and permission dependencies live in :mod:`contango.api.security`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from contango.services.context import ServiceContext

MAX_PAGE_SIZE = 500


def get_context(request: Request) -> ServiceContext:
    """The process's service context, built when the app started."""
    context: ServiceContext = request.app.state.context
    return context


Context = Annotated[ServiceContext, Depends(get_context)]


async def db_session(context: Context) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back if it raises.

    State changes and their audit entries are written in this one transaction, so either both
    land or neither does.
    """
    async with context.database.sessions() as session, session.begin():
        yield session


Session = Annotated[AsyncSession, Depends(db_session)]


class Page(BaseModel):
    """Which slice of a list to return."""

    limit: int
    offset: int


def page(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")] = 0,
) -> Page:
    """Paging parameters of list endpoints."""
    return Page(limit=limit, offset=offset)


Paging = Annotated[Page, Depends(page)]
