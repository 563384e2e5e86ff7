"""Term-structure carry: long backwardated markets, short markets in contango.

The idea: when the front contract trades above the next one (backwardation), a long position
rolls up the curve: as time passes the cheaper deferred contract converges towards the spot
price, and the holder earns that roll yield even if spot does not move. In contango the short
side earns it. The signal is the annualised roll yield between the front and the next contract,

    roll_yield = ln(front / next) * 12 / months_between

(positive in backwardation), averaged over ``smoothing_window`` bars because the curve is noisy
around rolls. Long when it is above ``min_annual_yield``, short when below
``-min_annual_yield``, flat in between; every position vol-targeted.

Needs the next contract's close (``Bars.next_close``); ``months_between`` is the distance
between the two contracts in months (1 for monthly CL, 3 for quarterly ES).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import BaseModel, Field

from contango.engine.bars import Bars
from contango.engine.indicators import sma
from contango.engine.strategy import SizingContext
from contango.engine.templates.base import (
    F64,
    VolTargetParams,
    buffered,
    check_panel,
    expect_params,
    to_targets,
    vol_target_size,
)


class CarryParams(VolTargetParams):
    """Parameters of term-structure carry."""

    months_between: int = Field(
        1, ge=1, le=24, description="Months between the front and the next contract."
    )
    smoothing_window: int = Field(
        20, ge=1, le=1000, description="Bars in the moving average of the roll yield."
    )
    min_annual_yield: float = Field(
        0.0,
        ge=0.0,
        le=5.0,
        description="Dead band: |annualised roll yield| below this is no signal (0.02 = 2%).",
    )
    allow_short: bool = Field(True, description="Short markets in contango.")


def annual_roll_yield(front: F64, next_: F64, months_between: int) -> F64:
    """``ln(front / next) * 12 / months_between``; NaN where a price is missing or <= 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (front > 0) & (next_ > 0)
        return np.where(ok, np.log(front / next_) * 12.0 / months_between, np.nan)


class Carry:
    """Long backwardation, short contango, by the annualised roll yield."""

    name: ClassVar[str] = "carry"
    title: ClassVar[str] = "Term-structure carry"
    description: ClassVar[str] = (
        "Long markets whose front contract trades above the next (backwardation), short those "
        "below (contango), by the annualised roll yield; vol-targeted."
    )
    Params: ClassVar[type[BaseModel]] = CarryParams

    def targets(self, bars: Bars, params: BaseModel, sizing: SizingContext) -> F64:
        """Signed target contracts per bar and market (NaN during warm-up)."""
        p = expect_params(params, CarryParams, self.name)
        check_panel(bars, sizing)
        if bars.next_close is None:
            raise ValueError(
                "the carry template needs the next contract's close (Bars.next_close); "
                "load the data with the second contract of each chain"
            )
        raw = annual_roll_yield(bars.close, bars.next_close, p.months_between)
        smooth = sma(raw, p.smoothing_window)
        direction = np.sign(smooth)
        with np.errstate(invalid="ignore"):
            direction = np.where(np.abs(smooth) <= p.min_annual_yield, 0.0, direction)
        direction = np.where(np.isnan(smooth), np.nan, direction)
        if not p.allow_short:
            direction = np.where(direction < 0, 0.0, direction)
        return buffered(to_targets(direction, vol_target_size(bars.close, p, sizing)), p)
