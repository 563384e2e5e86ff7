"""Mean reversion on an RSI threshold or a Bollinger band.

The idea: after an unusually large move away from its recent average a market tends to give
some of it back. Two ways to call "unusually large":

* ``indicator="rsi"``: buy when Wilder's RSI falls below ``rsi_lower`` (oversold), sell short
  when it rises above ``rsi_upper`` (overbought); close the long once the RSI is back at or
  above ``rsi_exit``, the short once it is at or below ``rsi_exit``.
* ``indicator="bollinger"``: buy a close below the lower band, short a close above the upper
  band; close once the close is back at the middle band (the moving average).

Whether a bar exits depends on the side held, so the position is tracked by a small numba state
machine over the bars; each decision uses the close of the bar it is made on (filled on the next
bar). Sizing: fixed contracts or a volatility target.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self

import numpy as np
from pydantic import BaseModel, Field, model_validator

from contango.engine.bars import Bars
from contango.engine.indicators import bollinger, rsi
from contango.engine.kernels.templates_nb import hold_direction_nb
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


class MeanReversionParams(SizedParams):
    """Parameters of RSI / Bollinger mean reversion."""

    indicator: Literal["rsi", "bollinger"] = Field(
        "rsi", description="Which stretch measure triggers trades: 'rsi' or 'bollinger'."
    )
    rsi_window: int = Field(14, ge=2, le=500, description="Bars in Wilder's RSI.")
    rsi_lower: float = Field(30.0, gt=0.0, lt=100.0, description="Buy below this RSI.")
    rsi_upper: float = Field(70.0, gt=0.0, lt=100.0, description="Sell short above this RSI.")
    rsi_exit: float = Field(
        50.0, gt=0.0, lt=100.0, description="Close longs at/above, shorts at/below this RSI."
    )
    bb_window: int = Field(20, ge=2, le=1000, description="Bars in the Bollinger average.")
    bb_width: float = Field(
        2.0, gt=0.0, le=10.0, description="Band half-width in (population) standard deviations."
    )
    allow_short: bool = Field(True, description="Fade rallies with shorts too.")

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> Self:
        if not self.rsi_lower < self.rsi_exit < self.rsi_upper:
            raise ValueError(
                "RSI thresholds must satisfy rsi_lower < rsi_exit < rsi_upper, got "
                f"{self.rsi_lower} / {self.rsi_exit} / {self.rsi_upper}"
            )
        return self


class MeanReversion:
    """Fade stretched moves: buy oversold, short overbought, exit back at the middle."""

    name: ClassVar[str] = "mean_reversion"
    title: ClassVar[str] = "RSI / Bollinger mean reversion"
    description: ClassVar[str] = (
        "Counter-trend: buy when the RSI is oversold or the close is below the lower Bollinger "
        "band, short the mirror image, exit when the indicator is back at its middle."
    )
    Params: ClassVar[type[BaseModel]] = MeanReversionParams

    def targets(self, bars: Bars, params: BaseModel, sizing: SizingContext) -> F64:
        """Signed target contracts per bar and market (NaN during warm-up)."""
        p = expect_params(params, MeanReversionParams, self.name)
        check_panel(bars, sizing)
        close = bars.close
        with np.errstate(invalid="ignore"):
            if p.indicator == "rsi":
                level = rsi(close, p.rsi_window)
                valid = np.isfinite(level)
                signals = (
                    level < p.rsi_lower,
                    level > p.rsi_upper,
                    level >= p.rsi_exit,
                    level <= p.rsi_exit,
                )
            else:
                bands = bollinger(close, p.bb_window, p.bb_width)
                valid = np.isfinite(bands.middle) & np.isfinite(close)
                signals = (
                    close < bands.lower,
                    close > bands.upper,
                    close >= bands.middle,
                    close <= bands.middle,
                )
        entry_long, entry_short, exit_long, exit_short = signals
        if not p.allow_short:
            entry_short = np.zeros_like(entry_short)
        direction = hold_direction_nb(entry_long, entry_short, exit_long, exit_short, valid)
        return buffered(to_targets(direction, position_size(close, p, sizing)), p)
