"""Donchian channel breakout, turtle style, sized by risk per trade with an ATR stop.

The idea: a close above the highest high of the previous ``entry_window`` bars is a breakout
that starts a trend, so buy; a close below the lowest low of those bars, sell short. Exit a long
when the close falls below the lowest low of the previous ``exit_window`` bars (a shorter, faster
channel) or hits the stop ``stop_atr_multiple`` ATRs under the entry close; shorts mirror it.

Sizing: each trade risks ``risk_fraction`` of capital to its stop, so
``contracts = floor(risk_fraction * capital / (stop_atr_multiple * ATR * point_value))``, fixed
for the life of the trade. Breakouts and stops are judged on the close (the order fills on the
next bar), and the channels exclude the current bar, so nothing is known before it happens.
"""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import BaseModel, Field, model_validator

from contango.engine.bars import Bars
from contango.engine.indicators import atr, donchian
from contango.engine.kernels.templates_nb import BreakoutInputs, channel_breakout_nb
from contango.engine.sizing import atr_risk_contracts
from contango.engine.strategy import SizingContext
from contango.engine.templates.base import F64, TemplateParams, check_panel, expect_params


class DonchianBreakoutParams(TemplateParams):
    """Parameters of the Donchian breakout."""

    entry_window: int = Field(
        55, ge=2, le=1000, description="Bars in the entry channel (turtle system 2: 55)."
    )
    exit_window: int = Field(
        20, ge=1, le=1000, description="Bars in the exit channel; shorter than entry_window."
    )
    atr_window: int = Field(20, ge=1, le=1000, description="Bars in Wilder's ATR.")
    risk_fraction: float = Field(
        0.01, gt=0.0, le=0.2, description="Share of capital lost if a trade hits its stop."
    )
    stop_atr_multiple: float = Field(
        2.0, gt=0.0, le=20.0, description="Stop distance from the entry close, in ATRs."
    )
    allow_short: bool = Field(True, description="Trade downside breakouts too.")
    max_contracts: int = Field(
        100, ge=1, le=100_000, description="Cap on the contracts of one trade."
    )

    @model_validator(mode="after")
    def _exit_faster_than_entry(self) -> Self:
        if self.exit_window >= self.entry_window:
            raise ValueError(
                f"exit_window ({self.exit_window}) must be smaller than "
                f"entry_window ({self.entry_window})"
            )
        return self


class DonchianBreakout:
    """Buy closes above the previous N-bar high, sell closes below the N-bar low."""

    name: ClassVar[str] = "donchian_breakout"
    title: ClassVar[str] = "Donchian breakout (turtle)"
    description: ClassVar[str] = (
        "Trend following: enter on a close beyond the previous N-bar high or low, exit on the "
        "shorter M-bar channel or an ATR stop; each trade risks a fixed share of capital."
    )
    Params: ClassVar[type[BaseModel]] = DonchianBreakoutParams

    def targets(self, bars: Bars, params: BaseModel, sizing: SizingContext) -> F64:
        """Signed target contracts per bar and market (0 while flat, NaN without a bar)."""
        p = expect_params(params, DonchianBreakoutParams, self.name)
        check_panel(bars, sizing)
        entry = donchian(bars.high, bars.low, p.entry_window)
        exit_ = donchian(bars.high, bars.low, p.exit_window)
        true_atr = atr(bars.high, bars.low, bars.close, p.atr_window)
        size = atr_risk_contracts(
            true_atr,
            point_value=sizing.point_value,
            capital=sizing.capital,
            risk_fraction=p.risk_fraction,
            atr_multiple=p.stop_atr_multiple,
            max_contracts=p.max_contracts,
        )
        inputs = BreakoutInputs(
            close=bars.close,
            entry_upper=entry.upper,
            entry_lower=entry.lower,
            exit_upper=exit_.upper,
            exit_lower=exit_.lower,
            atr=true_atr,
            size=size,
        )
        return channel_breakout_nb(inputs, p.stop_atr_multiple, p.allow_short)
