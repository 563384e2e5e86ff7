"""What a submitted job is: its kind, its validated configuration and a name.

The configuration is checked completely at submission (including the strategy template's
parameters and the sweep's parameter sets), so a typo is a 422 at once, not a failed job later.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from contango.engine.backtest_config import BacktestConfig
from contango.errors import InvalidInputError
from contango.research.config import ResearchConfig
from contango.services.backtests import plan_of
from contango.services.research import ResearchError, param_sets

CUSTOM_PREFIX = "custom:"  # strategy.name "custom:<strategy id>" runs stored custom code


class JobKind(StrEnum):
    """The kinds of work a job does."""

    BACKTEST = "backtest"
    SWEEP = "sweep"
    WALKFORWARD = "walkforward"


def config_hash(config: dict[str, Any]) -> str:
    """SHA-256 of the configuration's canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _errors(error: ValidationError) -> list[dict[str, str]]:
    return [
        {"location": ".".join(str(p) for p in item["loc"]), "message": item["msg"]}
        for item in error.errors()
    ]


def parse_job_config(kind: JobKind, config: dict[str, Any]) -> BaseModel:
    """The validated configuration model of a job of ``kind``; InvalidInputError says where."""
    model: type[BaseModel] = BacktestConfig if kind is JobKind.BACKTEST else ResearchConfig
    try:
        return model.model_validate(config)
    except ValidationError as error:
        problems = _errors(error)
        where = ", ".join(p["location"] for p in problems[:5])
        raise InvalidInputError(
            f"the {kind.value} configuration is invalid at: {where}", extra={"errors": problems}
        ) from None


def custom_strategy_id(model: BaseModel) -> uuid.UUID | None:
    """The stored custom strategy a configuration names (``custom:<id>``), or None."""
    strategy = model.backtest.strategy if isinstance(model, ResearchConfig) else None
    if isinstance(model, BacktestConfig):
        strategy = model.strategy
    if strategy is None or not strategy.name.startswith(CUSTOM_PREFIX):
        return None
    if isinstance(model, ResearchConfig):
        raise InvalidInputError("custom strategies run as backtests only, not in sweeps")
    try:
        return uuid.UUID(strategy.name.removeprefix(CUSTOM_PREFIX))
    except ValueError:
        raise InvalidInputError(
            f"strategy.name {strategy.name!r} must be custom:<strategy id>"
        ) from None


def check_job_config(kind: JobKind, model: BaseModel) -> None:
    """Resolve the strategy and its parameters now, as the run will (custom code is checked
    when it runs, in its sandbox)."""
    if custom_strategy_id(model) is not None:
        return
    try:
        if isinstance(model, BacktestConfig):
            plan_of(model, None, "config")
            return
        assert isinstance(model, ResearchConfig)
        if kind is JobKind.WALKFORWARD and model.walkforward is None:
            raise ResearchError("a walk-forward job needs a walkforward block")
        param_sets(model)
    except (ResearchError, ValueError) as error:
        raise InvalidInputError(f"the {kind.value} configuration is invalid: {error}") from None


def job_name(model: BaseModel) -> str:
    """The name the configuration gives its run."""
    if isinstance(model, ResearchConfig):
        return model.backtest.name
    assert isinstance(model, BacktestConfig)
    return model.name
