"""Contract endpoints: the registry's markets, one market's specification, its contract chain.

Read-only and the same for every team; the role needs ``contracts.read``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from contango.api.deps import Paging
from contango.api.schemas.data import (
    ROOT,
    ContractChainPage,
    ContractDates,
    MarketPage,
    MarketSpec,
    MarketSummary,
)
from contango.api.security import require
from contango.auth.rbac import Permission
from contango.services import contracts as service

router = APIRouter(
    prefix="/contracts", tags=["contracts"], dependencies=[require(Permission.CONTRACTS_READ)]
)

RootPath = Annotated[str, Path(pattern=ROOT, description="Market root or alias, e.g. ES.")]
RollDays = Annotated[
    int,
    Query(ge=0, le=60, description="Business days before the reference date for the roll date."),
]


def _dates(item: service.ContractDates) -> ContractDates:
    return ContractDates(
        contract=item.contract.long_symbol,
        year=item.contract.year,
        month=item.contract.month.letter,
        last_trade=item.last_trade,
        first_notice=item.first_notice,
        roll=item.roll,
    )


@router.get("", summary="List the markets of the contract registry")
def list_markets(
    paging: Paging,
    exchange: Annotated[str | None, Query(max_length=32, examples=["CME"])] = None,
    sector: Annotated[str | None, Query(max_length=32, examples=["energy"])] = None,
    currency: Annotated[str | None, Query(max_length=3, examples=["USD"])] = None,
    search: Annotated[
        str | None, Query(max_length=100, description="In root, aliases, name, description.")
    ] = None,
) -> MarketPage:
    """Markets with point value, tick, months and margins, filtered and paged."""
    specs = service.list_markets(
        service.MarketFilter(exchange=exchange, sector=sector, currency=currency, search=search)
    )
    page = specs[paging.offset : paging.offset + paging.limit]
    return MarketPage(
        items=[MarketSummary.from_spec(s) for s in page],
        total=len(specs),
        limit=paging.limit,
        offset=paging.offset,
    )


@router.get("/{root}", summary="One market's full specification")
def get_market(root: RootPath, roll_days: RollDays = 5) -> MarketSpec:
    """Point value, tick size and value, currency, margins, expiry rules and default roll."""
    return MarketSpec.from_spec_and_roll(service.market(root), roll_days)


@router.get("/{root}/chain", summary="A market's contracts between two dates, with their dates")
def get_chain(
    *,
    root: RootPath,
    paging: Paging,
    start: Annotated[date | None, Query(description="Default: today (UTC).")] = None,
    end: Annotated[date | None, Query(description="Default: a year after start.")] = None,
    roll_days: RollDays = 5,
    reference: Annotated[
        Literal["auto", "last_trade", "first_notice"],
        Query(description="Date the roll counts back from; auto = first notice if any."),
    ] = "auto",
) -> ContractChainPage:
    """Contracts expiring in [start, end] and the next one: last trade, first notice, roll."""
    first = start or datetime.now(UTC).date()
    last = end or first + timedelta(days=365)
    chain = service.chain_dates(
        root, start=first, end=last, roll_days=roll_days, reference=reference
    )
    page = chain[paging.offset : paging.offset + paging.limit]
    return ContractChainPage(
        root=service.market(root).root,
        items=[_dates(item) for item in page],
        total=len(chain),
        limit=paging.limit,
        offset=paging.offset,
    )


@router.get("/{root}/contracts/{symbol}", summary="One contract's dates")
def get_contract(
    root: RootPath,
    symbol: Annotated[str, Path(pattern=r"^[A-Za-z0-9]{2,16}$", examples=["ESZ24"])],
    roll_days: RollDays = 5,
) -> ContractDates:
    """Last trade, first notice and default roll date of one contract (ESZ24 or ESZ2024)."""
    return _dates(service.one_contract(root, symbol, roll_days=roll_days))
