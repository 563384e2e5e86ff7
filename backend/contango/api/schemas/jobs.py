"""Request and response models of jobs: backtests, sweeps and walk-forward runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from contango.engine.backtest_config import BacktestConfig
from contango.research.config import ResearchConfig

T = TypeVar("T")


class Paged(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int = Field(description="Items matching the filters, over all pages.")
    limit: int
    offset: int


class BacktestSubmit(BaseModel):
    """A backtest to run: the same settings as a `contango backtest run` YAML file."""

    model_config = ConfigDict(extra="forbid")

    config: BacktestConfig
    name: str | None = Field(
        default=None, max_length=200, description="Display name; default: the config's name."
    )


class ResearchSubmit(BaseModel):
    """A sweep or walk-forward run: a backtest configuration with its research blocks."""

    model_config = ConfigDict(extra="forbid")

    config: ResearchConfig
    name: str | None = Field(default=None, max_length=200)


class JobOut(BaseModel):
    """A job and where it is in its life."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str = Field(description="backtest, sweep or walkforward")
    name: str
    status: str = Field(description="queued, running, succeeded, failed or cancelled")
    progress: float = Field(description="0 to 1")
    message: str = Field(description="What the job is doing, or why it ended")
    error: str | None = Field(description="Why it failed, with the traceback and bar if any")
    summary: dict[str, Any] | None = Field(description="Headline figures once it succeeded")
    config_hash: str
    owner_id: uuid.UUID
    team_id: uuid.UUID | None
    cancel_requested: bool
    attempt: int
    submitted_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobDetail(JobOut):
    """A job with the configuration it runs."""

    config: dict[str, Any]


class TableRows(BaseModel):
    """A page of a results table; each row maps column name to value."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class EquityCurveOut(BaseModel):
    """Per-bar account series (columns of equal length; time in epoch milliseconds)."""

    ts: list[int]
    equity: list[float]
    drawdown: list[float] = Field(description="Equity over its running peak, minus one")
    margin_usage: list[float | None]
    exposure: list[float]


class MonthlyReturn(BaseModel):
    """The account's return over one calendar month."""

    year: int
    month: int
    return_: float | None = Field(alias="return")

    model_config = ConfigDict(populate_by_name=True)
