"""What every strategy template shares: parameter base models, input checks, and the step from a
direction (+1 / -1 / 0) to signed target contracts.

Parameter models are frozen pydantic models that refuse unknown fields, so a typo in a YAML
config (``fast_windw: 10``) is an error, not a silently ignored default; every field carries a
description and bounds, which ``Params.model_json_schema()`` hands to the UI.
"""

from __future__ import annotations

from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from contango.engine.bars import Bars
from contango.engine.indicators import realized_volatility
from contango.engine.kernels.templates_nb import buffer_targets_nb
from contango.engine.sizing import (
    fixed_contracts,
    portfolio_vol_target_contracts,
    vol_target_contracts,
)
from contango.engine.strategy import SizingContext

F64 = npt.NDArray[np.float64]
P = TypeVar("P", bound=BaseModel)


class TemplateParams(BaseModel):
    """Base of every template's parameters: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class VolTargetParams(TemplateParams):
    """Volatility targeting: each position sized so its yearly P&L std is a share of capital."""

    target_vol: float = Field(
        0.10,
        gt=0.0,
        le=1.0,
        description="Annualised volatility each position (or the portfolio, when "
        "average_correlation is set) aims for, as a fraction of capital (0.10 = 10%).",
    )
    vol_window: int = Field(
        25, ge=2, le=1000, description="Bars of log returns in the realized-volatility estimate."
    )
    bars_per_year: float = Field(
        252.0, gt=0.0, le=200_000.0, description="Bars per year, to annualise volatility."
    )
    max_contracts: int = Field(
        100, ge=1, le=100_000, description="Cap on the contracts held in any one market."
    )
    rebalance_buffer: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Keep the held size while the new vol-targeted size is within this fraction "
        "of it (0.1 = 10%), to avoid trading every small change in the estimate; 0 = always "
        "trade to the exact target.",
    )
    average_correlation: float | None = Field(
        None,
        ge=-1.0,
        le=1.0,
        description="If set, size the portfolio as a whole: each market gets an equal share of "
        "the risk budget, scaled up by the diversification multiplier for this average "
        "correlation between markets. If unset, every market targets target_vol on its own.",
    )


class SizedParams(VolTargetParams):
    """A choice between a fixed number of contracts and volatility targeting."""

    sizing: Literal["fixed", "vol_target"] = Field(
        "vol_target", description="'fixed': always `contracts`; 'vol_target': see target_vol."
    )
    contracts: int = Field(
        1, ge=1, le=100_000, description="Contracts per position when sizing is 'fixed'."
    )


def expect_params(params: BaseModel, cls: type[P], template: str) -> P:
    """The template's own parameter model, or a TypeError naming what was passed instead."""
    if not isinstance(params, cls):
        raise TypeError(
            f"template {template!r} takes {cls.__name__}, got {type(params).__name__}; "
            f"build it with {cls.__name__}(**values) or {cls.__name__}.model_validate(values)"
        )
    return params


def check_panel(bars: Bars, sizing: SizingContext) -> None:
    """Refuse a panel whose arrays disagree with its market list or the sizing context."""
    n, m = bars.n_bars, bars.n_markets
    for field in ("open", "high", "low", "close", "volume"):
        shape = getattr(bars, field).shape
        if shape != (n, m):
            raise ValueError(f"Bars.{field} has shape {shape}, expected ({n}, {m})")
    if bars.next_close is not None and bars.next_close.shape != (n, m):
        raise ValueError(f"Bars.next_close has shape {bars.next_close.shape}, expected ({n}, {m})")
    for field in ("point_value", "tick_size", "initial_margin"):
        shape = np.shape(getattr(sizing, field))
        if shape != (m,):
            raise ValueError(f"SizingContext.{field} has shape {shape}, expected ({m},)")


def vol_target_size(close: F64, params: VolTargetParams, sizing: SizingContext) -> F64:
    """Unsigned contracts per bar and market from the volatility target (NaN in warm-up)."""
    vol = realized_volatility(close, params.vol_window, params.bars_per_year)
    if params.average_correlation is None:
        return vol_target_contracts(
            close,
            vol,
            point_value=sizing.point_value,
            capital=sizing.capital,
            target_vol=params.target_vol,
            max_contracts=params.max_contracts,
        )
    return portfolio_vol_target_contracts(
        close,
        vol,
        point_value=sizing.point_value,
        capital=sizing.capital,
        target_vol=params.target_vol,
        average_correlation=params.average_correlation,
        max_contracts=params.max_contracts,
    )


def buffered(targets: F64, params: VolTargetParams) -> F64:
    """Apply the rebalance buffer (a no-op at 0)."""
    if params.rebalance_buffer == 0.0:
        return targets
    return buffer_targets_nb(np.ascontiguousarray(targets), params.rebalance_buffer)


def position_size(close: F64, params: SizedParams, sizing: SizingContext) -> F64:
    """Unsigned contracts per bar and market for the chosen sizing mode."""
    if params.sizing == "fixed":
        return fixed_contracts(close.shape, params.contracts)
    return vol_target_size(close, params, sizing)


def to_targets(direction: F64, size: F64) -> F64:
    """Signed target contracts: flat needs no size; NaN direction or size means "keep".

    A direction with no size yet (volatility still warming up) is NaN, so the engine keeps the
    current position rather than reading the missing size as "go flat".
    """
    with np.errstate(invalid="ignore"):
        return np.where(direction == 0.0, 0.0, direction * size)
