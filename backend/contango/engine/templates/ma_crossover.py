"""Moving-average crossover: trend following with two averages of the close.

The idea: when the fast average of the close is above the slow one, prices have been rising
lately relative to the longer past, so hold a long; below, hold a short (or stay flat when
``allow_short`` is off). The crossover lags turning points by design: it gives up the start and
the end of a trend to stay out of noise.

Parameters: ``fast_window`` < ``slow_window`` (bars), ``ma_kind`` (``sma`` or ``ema``), and the
sizing of :class:`~contango.engine.templates.base.SizedParams` (fixed contracts or a volatility
target). Until the slow average has ``slow_window`` bars the target is NaN (no trade).
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self

import numpy as np
from pydantic import BaseModel, Field, model_validator

from contango.engine.bars import Bars
from contango.engine.indicators import ema, sma
from contango.engine.strategy import SizingContext
from contango.engine.templates.base import (
    F64,
    SizedParams,
    buffered,
    check_panel,
    expect_params,
    position_size,
    to_targets,
)


class MACrossoverParams(SizedParams):
    """Parameters of the moving-average crossover."""

    fast_window: int = Field(20, ge=1, le=2000, description="Bars in the fast moving average.")
    slow_window: int = Field(100, ge=2, le=5000, description="Bars in the slow moving average.")
    ma_kind: Literal["sma", "ema"] = Field(
        "sma", description="'sma': simple moving averages; 'ema': exponential (SMA-seeded)."
    )
    allow_short: bool = Field(
        True, description="Go short when fast < slow; if false, stay flat instead."
    )

    @model_validator(mode="after")
    def _fast_below_slow(self) -> Self:
        if self.fast_window >= self.slow_window:
            raise ValueError(
                f"fast_window ({self.fast_window}) must be smaller than "
                f"slow_window ({self.slow_window})"
            )
        return self


class MACrossover:
    """Long when the fast average is above the slow one, short (or flat) below."""

    name: ClassVar[str] = "ma_crossover"
    title: ClassVar[str] = "Moving-average crossover"
    description: ClassVar[str] = (
        "Trend following: long while the fast moving average of the close is above the slow "
        "one, short (or flat) while it is below."
    )
    Params: ClassVar[type[BaseModel]] = MACrossoverParams

    def targets(self, bars: Bars, params: BaseModel, sizing: SizingContext) -> F64:
        """Signed target contracts per bar and market (NaN during warm-up)."""
        p = expect_params(params, MACrossoverParams, self.name)
        check_panel(bars, sizing)
        average = ema if p.ma_kind == "ema" else sma
        gap = average(bars.close, p.fast_window) - average(bars.close, p.slow_window)
        direction = np.sign(gap)
        if not p.allow_short:
            direction = np.where(direction < 0, 0.0, direction)
        return buffered(to_targets(direction, position_size(bars.close, p, sizing)), p)
