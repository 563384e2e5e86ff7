"""Continuous series endpoints: build one (roll rule, adjustment, nth nearby) and read it back
with its per-bar contract, unadjusted close and roll schedule (the roll markers of a chart)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query

from contango.api.deps import Context, Paging, Session
from contango.api.routers.datasets import MAX_ROWS, Store
from contango.api.schemas.data import (
    DATASET_NAME,
    ROOT,
    ColumnsPage,
    ContinuousDetail,
    ContinuousPage,
    ContinuousRequest,
    ContinuousSummary,
    RollMarker,
)
from contango.api.security import require
from contango.auth.rbac import Permission, Principal
from contango.services import continuous_series as service
from contango.services.datasets import json_columns

router = APIRouter(prefix="/continuous", tags=["continuous"])

Reader = Annotated[Principal, require(Permission.CONTINUOUS_READ)]
Builder = Annotated[Principal, require(Permission.CONTINUOUS_BUILD)]


def _summary(meta: service.StoredSeries) -> dict[str, Any]:
    return {
        "id": meta.id,
        "request": ContinuousRequest(**meta.request.to_json()),
        "dataset": meta.dataset,
        "version": meta.version,
        "bars": meta.bars,
        "rolls": meta.rolls,
        "first": meta.first,
        "last": meta.last,
        "created_at": meta.created_at,
    }


@router.post("", status_code=201, summary="Build and store a continuous series")
async def build(
    body: ContinuousRequest, context: Context, session: Session, caller: Builder, store: Store
) -> ContinuousSummary:
    """Build from the dataset (default ROOT.1d, latest version unless pinned) and store it."""
    request = service.SeriesRequest(**body.model_dump())
    meta = await service.build(
        session, caller, store, service.series_dir(context.settings), request
    )
    return ContinuousSummary(**_summary(meta))


@router.get("", summary="Stored continuous series the caller may read")
async def list_series(
    context: Context,
    caller: Reader,
    paging: Paging,
    root: Annotated[str | None, Query(pattern=ROOT)] = None,
    dataset: Annotated[str | None, Query(pattern=DATASET_NAME)] = None,
) -> ContinuousPage:
    """The team's stored series, newest first."""
    found = await service.list_series(
        caller, service.series_dir(context.settings), root=root, dataset=dataset
    )
    page = found[paging.offset : paging.offset + paging.limit]
    return ContinuousPage(
        items=[ContinuousSummary(**_summary(m)) for m in page],
        total=len(found),
        limit=paging.limit,
        offset=paging.offset,
    )


@router.get("/{series_id}", summary="A stored series: bars, contracts, roll schedule")
async def get_series(
    series_id: uuid.UUID,
    context: Context,
    caller: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS, description="Bars at most.")] = 10_000,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> ContinuousDetail:
    """Per bar: adjusted OHLC, volume, open interest, contract and unadjusted close."""
    page = await service.read_series(
        caller, service.series_dir(context.settings), series_id, limit=limit, offset=offset
    )
    return ContinuousDetail(
        **_summary(page.meta),
        roll_schedule=[RollMarker(**row) for row in service.roll_markers(page.rolls)],
        series=ColumnsPage(
            columns=json_columns(page.bars),
            total=page.total,
            limit=limit,
            offset=offset,
        ),
    )
