"""Backtests: submit, follow, cancel, and read results (metrics, equity, trades, CSV)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import Query
from fastapi.responses import Response

from contango.api.deps import Paging, Session
from contango.api.jobs_common import job_routes
from contango.api.schemas.jobs import BacktestSubmit, EquityCurveOut, MonthlyReturn, TableRows
from contango.api.security import require
from contango.auth.rbac import Permission, Principal
from contango.services import jobs, results
from contango.services.job_specs import JobKind

router = job_routes(
    JobKind.BACKTEST,
    BacktestSubmit,
    prefix="/backtests",
    tag="backtests",
    run=Permission.BACKTESTS_RUN,
    read=Permission.BACKTESTS_READ,
    label="backtest",
)
Reader = Annotated[Principal, require(Permission.BACKTESTS_READ)]
KIND = JobKind.BACKTEST
TableName = Literal["trades", "fills", "rolls", "positions", "margin_calls", "rejections"]


@router.get("/{job_id}/metrics", summary="Metrics, confidence intervals and provenance")
async def backtest_metrics(job_id: uuid.UUID, caller: Reader, session: Session) -> dict[str, Any]:
    """Every performance figure (with 95% bootstrap intervals for Sharpe and max drawdown), the
    per-market breakdown, and what produced them: data versions, config hash, engine version."""
    folder = results.result_folder(await jobs.get_job(session, caller, job_id, KIND))
    return results.read_json(folder, "result.json")


@router.get("/{job_id}/equity", response_model=EquityCurveOut, summary="Equity and drawdown")
async def backtest_equity(
    job_id: uuid.UUID,
    caller: Reader,
    session: Session,
    max_points: Annotated[
        int, Query(ge=0, le=10_000_000, description="Thin to at most this many points; 0: all")
    ] = 0,
) -> Any:
    """The account per bar: equity, drawdown, margin usage and gross exposure."""
    folder = results.result_folder(await jobs.get_job(session, caller, job_id, KIND))
    return results.equity_curve(folder, max_points)


@router.get(
    "/{job_id}/monthly-returns", response_model=list[MonthlyReturn], summary="Monthly returns"
)
async def backtest_monthly_returns(job_id: uuid.UUID, caller: Reader, session: Session) -> Any:
    """The return of each calendar month, for a heatmap."""
    folder = results.result_folder(await jobs.get_job(session, caller, job_id, KIND))
    return results.monthly_returns(folder)


@router.get(
    "/{job_id}/tables/{table}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="A results table as CSV",
)
async def backtest_table_csv(
    job_id: uuid.UUID, table: TableName, caller: Reader, session: Session
) -> Response:
    """The whole table as a CSV download."""
    folder = results.result_folder(await jobs.get_job(session, caller, job_id, KIND))
    return Response(
        results.table_csv(folder, table),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{job_id}-{table}.csv"'},
    )


@router.get("/{job_id}/tables/{table}", response_model=TableRows, summary="A results table")
async def backtest_table(
    job_id: uuid.UUID,
    table: TableName,
    caller: Reader,
    session: Session,
    paging: Paging,
    market: Annotated[str | None, Query(max_length=50, description="Only this market")] = None,
    sort_by: Annotated[str | None, Query(max_length=50, description="Column to sort on")] = None,
    descending: bool = False,
) -> Any:
    """Trades, fills, rolls, positions, margin calls or rejected orders, a page at a time."""
    folder = results.result_folder(await jobs.get_job(session, caller, job_id, KIND))
    page = results.table_page(
        folder,
        table,
        equals={"market": market} if market is not None else None,
        sort_by=sort_by,
        descending=descending,
        limit=paging.limit,
        offset=paging.offset,
    )
    return {"items": page.rows, "total": page.total, "limit": paging.limit, "offset": paging.offset}
