"""The routes every kind of job shares: submit, list, read, cancel.

Backtests, sweeps and walk-forward runs are all jobs; :func:`job_routes` builds their four
common routes for one kind, so the three routers differ only in how results are read.
"""

# No `from __future__ import annotations` here: FastAPI reads the route annotations at runtime,
# and the request body's model is a parameter of the builder.

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from pydantic import BaseModel

from contango.api.deps import Context, Paging, Session
from contango.api.schemas.jobs import JobDetail, JobOut, Paged
from contango.api.security import require
from contango.auth.rbac import Permission, Principal
from contango.db.models import Job, JobStatus
from contango.services import jobs
from contango.services.job_specs import JobKind
from contango.workers.progress import JobBackend


def get_runner(request: Request) -> JobBackend:
    """What runs the app's jobs (started with the app)."""
    runner: JobBackend = request.app.state.runner
    return runner


Runner = Annotated[JobBackend, Depends(get_runner)]


def job_routes(
    kind: JobKind,
    body_model: type[BaseModel],
    *,
    prefix: str,
    tag: str,
    run: Permission,
    read: Permission,
    label: str,
) -> APIRouter:
    """A router at ``prefix`` with the submit, list, read and cancel routes of ``kind``
    (``label``: how the API documentation names one such job)."""
    router = APIRouter(prefix=prefix, tags=[tag])
    reader = Annotated[Principal, require(read)]

    async def submit(
        body: body_model,  # type: ignore[valid-type]
        caller: Annotated[Principal, require(run)],
        session: Session,
        context: Context,
        runner: Runner,
        background: BackgroundTasks,
    ) -> Job:
        config = body.config.model_dump(mode="json")  # type: ignore[attr-defined]
        name = body.name  # type: ignore[attr-defined]
        job = await jobs.submit_job(
            session, caller, kind, config, name=name, max_attempts=context.settings.max_attempts
        )
        # after the response, so after the commit: a worker must find the job queued
        background.add_task(runner.submitted, str(job.id), kind.value)
        return job

    async def listing(
        caller: reader,
        session: Session,
        paging: Paging,
        status: Annotated[JobStatus | None, Query(description="Only jobs in this state")] = None,
    ) -> dict[str, Any]:
        page = await jobs.list_jobs(
            session, caller, kind=kind, status=status, limit=paging.limit, offset=paging.offset
        )
        items = [JobOut.model_validate(job) for job in page.items]
        return {"items": items, "total": page.total, "limit": paging.limit, "offset": paging.offset}

    async def detail(job_id: uuid.UUID, caller: reader, session: Session) -> Job:
        return await jobs.get_job(session, caller, job_id, kind)

    async def cancel(
        job_id: uuid.UUID,
        caller: Annotated[Principal, require(Permission.BACKTESTS_CANCEL)],
        session: Session,
    ) -> Job:
        return await jobs.cancel_job(session, caller, job_id, kind)

    router.add_api_route(
        "",
        submit,
        methods=["POST"],
        status_code=202,
        response_model=JobOut,
        summary=f"Submit a {label}",
        description=f"Validate the configuration and queue the {label}; follow it by its id.",
        operation_id=f"submit_{kind.value}",
    )
    router.add_api_route(
        "",
        listing,
        methods=["GET"],
        response_model=Paged[JobOut],
        summary=f"List {label}s",
        description=f"Your and your team's {label}s, newest first.",
        operation_id=f"list_{kind.value}s",
    )
    router.add_api_route(
        "/{job_id}",
        detail,
        methods=["GET"],
        response_model=JobDetail,
        summary=f"A {label}'s state and configuration",
        operation_id=f"get_{kind.value}",
    )
    router.add_api_route(
        "/{job_id}/cancel",
        cancel,
        methods=["POST"],
        response_model=JobOut,
        summary=f"Cancel a {label}",
        description="Stop a queued or running job (a running one stops at its next step).",
        operation_id=f"cancel_{kind.value}",
    )
    return router
