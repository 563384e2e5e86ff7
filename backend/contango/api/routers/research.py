"""Sweeps and walk-forward runs: submit, follow, cancel, and read the ranked table, the
overfitting diagnostics and the walk-forward windows."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from contango.api.deps import Paging, Session
from contango.api.jobs_common import job_routes
from contango.api.schemas.jobs import ResearchSubmit, TableRows
from contango.api.security import require
from contango.auth.rbac import Permission, Principal
from contango.services import jobs, results
from contango.services.job_specs import JobKind

router = APIRouter()
Reader = Annotated[Principal, require(Permission.BACKTESTS_READ)]

sweeps = job_routes(
    JobKind.SWEEP,
    ResearchSubmit,
    prefix="/sweeps",
    tag="sweeps",
    run=Permission.RESEARCH_RUN,
    read=Permission.BACKTESTS_READ,
    label="sweep",
)


@sweeps.get("/{job_id}/ranked.csv", response_class=Response, summary="The ranked table as CSV")
async def sweep_ranked_csv(job_id: uuid.UUID, caller: Reader, session: Session) -> Response:
    """Every trial with its parameters and metrics, best first, as a CSV download."""
    folder = results.result_folder(await jobs.get_job(session, caller, job_id, JobKind.SWEEP))
    return Response(
        results.table_csv(folder, "ranked"),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{job_id}-ranked.csv"'},
    )


@sweeps.get("/{job_id}/ranked", response_model=TableRows, summary="Trials ranked")
async def sweep_ranked(
    job_id: uuid.UUID,
    caller: Reader,
    session: Session,
    paging: Paging,
    sort_by: Annotated[
        str | None, Query(max_length=50, description="Metric to rank by; default: the objective")
    ] = None,
    descending: Annotated[bool, Query(description="Sort order when sort_by is given")] = True,
) -> Any:
    """Each trial's parameters and metrics, best first by the sweep's objective (`rank`)."""
    folder = results.result_folder(await jobs.get_job(session, caller, job_id, JobKind.SWEEP))
    page = results.table_page(
        folder,
        "ranked",
        sort_by=sort_by,
        descending=descending,
        limit=paging.limit,
        offset=paging.offset,
    )
    return {"items": page.rows, "total": page.total, "limit": paging.limit, "offset": paging.offset}


@sweeps.get("/{job_id}/diagnostics", summary="Overfitting and look-ahead diagnostics")
async def sweep_diagnostics(job_id: uuid.UUID, caller: Reader, session: Session) -> dict[str, Any]:
    """Deflated Sharpe Ratio over every trial recorded for this strategy and data, Probability
    of Backtest Overfitting by CSCV, the look-ahead check of the best trial, and provenance."""
    folder = results.result_folder(await jobs.get_job(session, caller, job_id, JobKind.SWEEP))
    return results.read_json(folder, "diagnostics.json")


walkforward = job_routes(
    JobKind.WALKFORWARD,
    ResearchSubmit,
    prefix="/walkforward",
    tag="walk-forward",
    run=Permission.RESEARCH_RUN,
    read=Permission.BACKTESTS_READ,
    label="walk-forward run",
)


@walkforward.get("/{job_id}/summary", summary="Out-of-sample figures and parameter stability")
async def walkforward_summary(
    job_id: uuid.UUID, caller: Reader, session: Session
) -> dict[str, Any]:
    """The stitched out-of-sample Sharpe, return and drawdown, and how stable the chosen
    parameters were from window to window."""
    job = await jobs.get_job(session, caller, job_id, JobKind.WALKFORWARD)
    return results.read_json(results.result_folder(job), "walkforward.json")


@walkforward.get("/{job_id}/windows", response_model=TableRows, summary="Windows")
async def walkforward_windows(
    job_id: uuid.UUID, caller: Reader, session: Session, paging: Paging
) -> Any:
    """Per window: in-sample and out-of-sample spans, the chosen parameters and their results."""
    job = await jobs.get_job(session, caller, job_id, JobKind.WALKFORWARD)
    page = results.csv_page(results.result_folder(job), "windows", paging.limit, paging.offset)
    return {"items": page.rows, "total": page.total, "limit": paging.limit, "offset": paging.offset}


@walkforward.get("/{job_id}/oos-equity", summary="Stitched out-of-sample equity")
async def walkforward_equity(
    job_id: uuid.UUID, caller: Reader, session: Session
) -> dict[str, list[Any]]:
    """The out-of-sample account, window after window (time in epoch milliseconds)."""
    job = await jobs.get_job(session, caller, job_id, JobKind.WALKFORWARD)
    return results.columns(results.result_folder(job), "oos_equity")


router.include_router(sweeps)
router.include_router(walkforward)
