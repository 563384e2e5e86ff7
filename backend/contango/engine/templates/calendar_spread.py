"""Calendar spread: mean reversion of the front-minus-second price spread of one root.

The idea: the spread between two delivery months of the same market (CL1 - CL2) is tied to
storage, financing and supply, so it tends to swing around a slowly moving level. Measure how
stretched it is as a z-score against its own recent history,

    z = (spread - mean(spread, z_window)) / std(spread, z_window)

and trade it back: when ``z > entry_z`` the front is rich, so sell the front and buy the second
(short the spread); when ``z < -entry_z`` buy the spread. Close when ``|z|`` is back under
``exit_z``. Both legs trade the same number of contracts, so the position is a pure spread;
markets of the panel other than the two legs are held flat.

The two legs are markets of the panel (``front_market``, ``back_market``), e.g. ``CL1`` and
``CL2``; a bar where either leg has no price is skipped (the position is kept).
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
from pydantic import BaseModel, Field, model_validator

from contango.engine.bars import Bars
from contango.engine.indicators import rolling_std, sma
from contango.engine.kernels.templates_nb import hold_direction_nb
from contango.engine.strategy import SizingContext
from contango.engine.templates.base import F64, TemplateParams, check_panel, expect_params


class CalendarSpreadParams(TemplateParams):
    """Parameters of the calendar spread."""

    front_market: str = Field(min_length=1, description="Panel market of the nearer contract.")
    back_market: str = Field(min_length=1, description="Panel market of the deferred contract.")
    z_window: int = Field(60, ge=3, le=5000, description="Bars in the spread's mean and std.")
    entry_z: float = Field(2.0, gt=0.0, le=10.0, description="Enter when |z| exceeds this.")
    exit_z: float = Field(
        0.5, ge=0.0, le=10.0, description="Exit when |z| is back below this (< entry_z)."
    )
    contracts: int = Field(1, ge=1, le=100_000, description="Contracts on each leg.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.front_market == self.back_market:
            raise ValueError(f"front_market and back_market are both {self.front_market!r}")
        if self.exit_z >= self.entry_z:
            raise ValueError(
                f"exit_z ({self.exit_z}) must be smaller than entry_z ({self.entry_z})"
            )
        return self


def spread_zscore(spread: F64, window: int) -> F64:
    """Z-score of the spread against its trailing ``window`` bars (sample std; NaN if flat)."""
    sd = rolling_std(spread, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, (spread - sma(spread, window)) / sd, np.nan)


class CalendarSpread:
    """Short the front / long the second when the spread is rich, the reverse when cheap."""

    name: ClassVar[str] = "calendar_spread"
    title: ClassVar[str] = "Calendar spread (z-score)"
    description: ClassVar[str] = (
        "Relative value: trades the front-minus-second spread of one root back to its recent "
        "mean when its z-score is stretched, equal contracts on both legs."
    )
    Params: ClassVar[type[BaseModel]] = CalendarSpreadParams

    def targets(self, bars: Bars, params: BaseModel, sizing: SizingContext) -> F64:
        """Signed target contracts: +/- contracts on the legs, 0 elsewhere, NaN in warm-up."""
        p = expect_params(params, CalendarSpreadParams, self.name)
        check_panel(bars, sizing)
        legs = []
        for market in (p.front_market, p.back_market):
            if market not in bars.markets:
                raise ValueError(
                    f"calendar spread leg {market!r} is not a market of the panel {bars.markets}"
                )
            legs.append(bars.markets.index(market))
        front, back = legs
        if sizing.point_value[front] != sizing.point_value[back]:
            raise ValueError(
                f"calendar spread legs {p.front_market!r} and {p.back_market!r} have different "
                f"point values ({sizing.point_value[front]} vs {sizing.point_value[back]}); "
                "both legs must be contracts of the same root"
            )
        spread = (bars.close[:, front] - bars.close[:, back])[:, None]
        z = spread_zscore(spread, p.z_window)
        valid = np.isfinite(z)
        with np.errstate(invalid="ignore"):
            # Long the spread when it is cheap (z < -entry), short it when rich.
            direction = hold_direction_nb(
                z < -p.entry_z, z > p.entry_z, z > -p.exit_z, z < p.exit_z, valid
            )[:, 0]
        out = np.zeros((bars.n_bars, bars.n_markets))
        out[:, front] = direction * p.contracts
        out[:, back] = -direction * p.contracts
        return out
