"""Continuous series built on request and kept for later reads: the use case behind the API's
continuous endpoints, the same build as ``contango data continuous``.

A series is built by :func:`contango.data.continuous_store.load_continuous` from a dataset the
caller may read, and stored in ``<data_dir>/continuous/<id>/``: ``series.parquet`` (per bar:
adjusted prices, the contract it came from, its unadjusted close), ``rolls.parquet`` (the roll
schedule) and ``meta.json`` (the request, the dataset version it was built from, owner and
team). Series belong to their owner's team like every other object.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Literal

import anyio.to_thread
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.ext.asyncio import AsyncSession

from contango import audit
from contango.auth.rbac import Principal, can_reach
from contango.data.continuous import ContinuousError
from contango.data.continuous_store import (
    ContinuousRequestError,
    default_dataset,
    load_continuous,
)
from contango.data.store import LocalParquetStore
from contango.domain.rolls import (
    Adjustment,
    CalendarRoll,
    OpenInterestCrossover,
    RollReference,
    RollRule,
    VolumeCrossover,
)
from contango.errors import InvalidInputError, NotFoundError
from contango.services.contracts import market
from contango.services.datasets import get_dataset, pick_version
from contango.settings import Settings

RollChoice = Literal["calendar", "volume", "oi"]


def series_dir(settings: Settings) -> Path:
    """Where stored continuous series live."""
    return settings.data_dir / "continuous"


@dataclass(frozen=True, kw_only=True)
class SeriesRequest:
    """What to build: the options of ``contango data continuous`` (``end`` inclusive)."""

    root: str
    name: str = ""
    dataset: str | None = None
    version: str | None = None
    roll: RollChoice = "calendar"
    days: int = 5
    reference: RollReference = "auto"
    confirm: int = 1
    adjust: str = "none"
    nearby: int = 1
    start: date | None = None
    end: date | None = None

    def rule(self) -> RollRule:
        """The roll rule: a calendar deadline, alone or bounding a crossover."""
        deadline = CalendarRoll(business_days_before=self.days, reference=self.reference)
        if self.roll == "volume":
            return VolumeCrossover(confirm_bars=self.confirm, deadline=deadline)
        if self.roll == "oi":
            return OpenInterestCrossover(confirm_bars=self.confirm, deadline=deadline)
        return deadline

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO text)."""
        data = asdict(self)
        for key in ("start", "end"):
            data[key] = None if data[key] is None else data[key].isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeriesRequest:
        """Inverse of :meth:`to_json`."""
        dates = {
            k: None if data[k] is None else date.fromisoformat(data[k]) for k in ("start", "end")
        }
        return cls(**{**data, **dates})


@dataclass(frozen=True, kw_only=True)
class StoredSeries:
    """A stored series' metadata: how it was built, from which data, for whom."""

    id: uuid.UUID
    request: SeriesRequest
    dataset: str
    version: str
    bars: int
    rolls: int
    first: datetime | None
    last: datetime | None
    created_at: datetime
    owner_id: uuid.UUID
    team_id: uuid.UUID | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        """The ``meta.json`` form."""
        return {
            "id": str(self.id),
            "request": self.request.to_json(),
            "dataset": self.dataset,
            "version": self.version,
            "bars": self.bars,
            "rolls": self.rolls,
            "first": None if self.first is None else self.first.isoformat(),
            "last": None if self.last is None else self.last.isoformat(),
            "created_at": self.created_at.isoformat(),
            "owner_id": str(self.owner_id),
            "team_id": None if self.team_id is None else str(self.team_id),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredSeries:
        """Inverse of :meth:`to_json`."""

        def when(text: str | None) -> datetime | None:
            return None if text is None else datetime.fromisoformat(text)

        created = when(data["created_at"])
        assert created is not None
        return cls(
            id=uuid.UUID(data["id"]),
            request=SeriesRequest.from_json(data["request"]),
            dataset=data["dataset"],
            version=data["version"],
            bars=data["bars"],
            rolls=data["rolls"],
            first=when(data["first"]),
            last=when(data["last"]),
            created_at=created,
            owner_id=uuid.UUID(data["owner_id"]),
            team_id=None if data["team_id"] is None else uuid.UUID(data["team_id"]),
        )


@dataclass(frozen=True, kw_only=True)
class SeriesPage:
    """A stored series, its roll schedule and one page of its bars."""

    meta: StoredSeries
    rolls: pa.Table
    bars: pa.Table
    total: int


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th..."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


async def build(
    session: AsyncSession,
    caller: Principal,
    store: LocalParquetStore,
    folder: Path,
    request: SeriesRequest,
) -> StoredSeries:
    """Build a continuous series from a dataset the caller may read, store it, audit it."""
    if request.start and request.end and request.end < request.start:
        raise InvalidInputError(
            f"end {request.end} is before start {request.start}", extra={"field": "end"}
        )
    spec = market(request.root)
    name = request.dataset or default_dataset(spec.root)
    view = await get_dataset(session, caller, store, name)
    version = pick_version(view, request.version).id  # pinned now: a later import changes nothing
    load = partial(
        load_continuous,
        spec.root,
        rule=request.rule(),
        adjustment=Adjustment(request.adjust),
        nearby=request.nearby,
        dataset=name,
        version=version,
        start=request.start,
        end=None if request.end is None else request.end + timedelta(days=1),
        store=store,
    )
    try:
        built = await anyio.to_thread.run_sync(load)
    except ContinuousRequestError as exc:
        raise InvalidInputError(str(exc)) from None
    except ContinuousError as exc:  # the chain cannot be joined as asked
        raise InvalidInputError(f"cannot build the series: {exc}") from None
    table = built.series.table
    if table.num_rows == 0:
        raise InvalidInputError(
            f"the series has no bars: {name} holds no {ordinal(request.nearby)} nearby contract "
            "in the dates asked",
            extra={"field": "nearby"},
        )
    ts = table.column("ts")
    meta = StoredSeries(
        id=uuid.uuid4(),
        request=request,
        dataset=built.dataset,
        version=built.version,
        bars=table.num_rows,
        rolls=len(built.series.rolls),
        first=ts[0].as_py() if table.num_rows else None,
        last=ts[-1].as_py() if table.num_rows else None,
        created_at=datetime.now(UTC),
        owner_id=caller.user_id,
        team_id=caller.team_id,
    )
    await audit.record_event(
        session,
        action="continuous.build",
        actor_id=caller.user_id,
        actor=str(caller.user_id),
        target=f"continuous:{meta.id}",
        outcome="success",
        details={"request": request.to_json(), "dataset": meta.dataset, "version": meta.version},
    )
    write = partial(_write, folder, meta, table, built.series.rolls_table())
    await anyio.to_thread.run_sync(write)
    return meta


def _write(folder: Path, meta: StoredSeries, series: pa.Table, rolls: pa.Table) -> None:
    """Write the three files to a temporary folder and rename it into place (all or nothing)."""
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".{meta.id}.tmp"
    staging.mkdir()
    try:
        pq.write_table(series, staging / "series.parquet")
        pq.write_table(rolls, staging / "rolls.parquet")
        (staging / "meta.json").write_text(json.dumps(meta.to_json(), indent=1))
        staging.rename(folder / str(meta.id))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _all_meta(folder: Path) -> list[StoredSeries]:
    if not folder.is_dir():
        return []
    found = [
        StoredSeries.from_json(json.loads(path.read_text()))
        for path in folder.glob("*/meta.json")
        if not path.parent.name.startswith(".")
    ]
    return sorted(found, key=lambda m: m.created_at, reverse=True)


async def list_series(
    caller: Principal, folder: Path, *, root: str | None = None, dataset: str | None = None
) -> list[StoredSeries]:
    """Stored series the caller may read (their own and their team's), newest first."""
    found = await anyio.to_thread.run_sync(_all_meta, folder)
    return [
        meta
        for meta in found
        if can_reach(caller, meta.owner_id, meta.team_id)
        and (root is None or meta.request.root.upper() == root.upper())
        and (dataset is None or meta.dataset == dataset)
    ]


async def read_series(
    caller: Principal, folder: Path, series_id: uuid.UUID, *, limit: int, offset: int
) -> SeriesPage:
    """One stored series with its roll schedule and a page of bars; 404 if not reachable."""
    path = folder / str(series_id)
    try:
        meta = StoredSeries.from_json(json.loads((path / "meta.json").read_text()))
    except FileNotFoundError:
        raise NotFoundError(f"no continuous series {series_id}") from None
    if not can_reach(caller, meta.owner_id, meta.team_id):
        raise NotFoundError(f"no continuous series {series_id}")

    def read() -> tuple[pa.Table, pa.Table]:
        return pq.read_table(path / "series.parquet"), pq.read_table(path / "rolls.parquet")

    bars, rolls = await anyio.to_thread.run_sync(read)
    return SeriesPage(meta=meta, rolls=rolls, bars=bars.slice(offset, limit), total=bars.num_rows)


def roll_markers(rolls: pa.Table) -> list[dict[str, Any]]:
    """The roll schedule as one dict per roll (timestamps as datetimes)."""
    records: list[dict[str, Any]] = rolls.to_pylist()
    return records


__all__ = [
    "SeriesPage",
    "SeriesRequest",
    "StoredSeries",
    "build",
    "list_series",
    "read_series",
    "roll_markers",
    "series_dir",
]
