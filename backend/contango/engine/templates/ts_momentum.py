"""Time-series momentum with volatility targeting.

The idea (Moskowitz, Ooi & Pedersen, 2012): a futures market that has risen over the last
``lookback`` bars tends to keep rising over the next weeks, and one that has fallen tends to
keep falling. Hold a long after a rise and a short after a fall, each sized so that its P&L
volatility is ``target_vol`` of capital (or the portfolio's, with ``average_correlation``):
quiet markets get more contracts, wild ones fewer, so each contributes comparable risk.

The sign of the move is taken on the price change ``close[t] - close[t - lookback]``, which has
the sign of the return but stays meaningful on back-adjusted prices that cross zero. A move
smaller than ``min_move_atr`` ATRs counts as no trend (flat).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import BaseModel, Field

from contango.engine.bars import Bars
from contango.engine.indicators import atr, price_change
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


class TSMomentumParams(VolTargetParams):
    """Parameters of time-series momentum."""

    lookback: int = Field(
        252, ge=2, le=5000, description="Bars over which the past move is measured (252: 1 year)."
    )
    min_move_atr: float = Field(
        0.0,
        ge=0.0,
        le=100.0,
        description="Moves smaller than this many ATRs (20-bar Wilder) are no signal: flat.",
    )
    allow_short: bool = Field(True, description="Go short after a fall; if false, stay flat.")


class TSMomentum:
    """Long after a rise over the lookback, short after a fall, vol-targeted."""

    name: ClassVar[str] = "ts_momentum"
    title: ClassVar[str] = "Time-series momentum"
    description: ClassVar[str] = (
        "Trend following: long when the price rose over the lookback, short when it fell, "
        "every position sized to a volatility target."
    )
    Params: ClassVar[type[BaseModel]] = TSMomentumParams

    def targets(self, bars: Bars, params: BaseModel, sizing: SizingContext) -> F64:
        """Signed target contracts per bar and market (NaN during warm-up)."""
        p = expect_params(params, TSMomentumParams, self.name)
        check_panel(bars, sizing)
        move = price_change(bars.close, p.lookback)
        direction = np.sign(move)
        if p.min_move_atr > 0:
            threshold = p.min_move_atr * atr(bars.high, bars.low, bars.close, 20)
            with np.errstate(invalid="ignore"):
                small = np.abs(move) < threshold
            direction = np.where(small, 0.0, direction)
            direction = np.where(np.isnan(threshold), np.nan, direction)
        if not p.allow_short:
            direction = np.where(direction < 0, 0.0, direction)
        return buffered(to_targets(direction, vol_target_size(bars.close, p, sizing)), p)
