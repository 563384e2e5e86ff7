"""What a backtest is configured with: markets, costs, fills, margin and the account.

The models are frozen and refuse unknown fields, so a typo in a YAML file is an error, not a
silently ignored setting. :class:`SimulationConfig` is everything the simulator needs beyond
prices; :class:`BacktestConfig` (in ``backtest_config``) adds data sets and the strategy.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MarketSpec(_Frozen):
    """A traded market as the simulator needs it; money in the market's ``currency``."""

    name: str = Field(description="Market name, e.g. ES; matches the Bars panel's markets.")
    point_value: float = Field(gt=0, description="Currency per point per contract (ES: 50).")
    tick_size: float = Field(gt=0, description="Minimum price increment (ES: 0.25).")
    currency: str = Field(
        default="USD",
        min_length=3,
        max_length=3,
        description="ISO code of the currency P&L is paid in.",
    )
    initial_margin: float = Field(
        default=0.0, ge=0, description="Per contract, to open or increase a position."
    )
    maintenance_margin: float = Field(
        default=0.0, ge=0, description="Per contract, to keep holding it."
    )
    commission: float = Field(
        default=0.0, ge=0, description="Broker commission per contract per side."
    )
    exchange_fee: float = Field(
        default=0.0, ge=0, description="Exchange and clearing fees per contract per side."
    )
    max_contracts: float | None = Field(
        default=None, gt=0, description="Largest absolute position; none = no cap."
    )

    @model_validator(mode="after")
    def _margins_ordered(self) -> MarketSpec:
        if self.maintenance_margin > self.initial_margin:
            raise ValueError(
                f"maintenance_margin {self.maintenance_margin} exceeds initial_margin "
                f"{self.initial_margin}; exchanges set initial >= maintenance"
            )
        return self


class MarginCallConfig(_Frozen):
    """What happens when equity falls below the maintenance requirement at a bar's close."""

    action: Literal["liquidate_all", "restore_initial"] = Field(
        default="liquidate_all",
        description="liquidate_all flattens every position; restore_initial scales positions "
        "down (floored) until the initial requirement is covered by equity.",
    )
    at: Literal["next_open", "close"] = Field(
        default="next_open",
        description="Liquidate at the next bar's open (default, the call is known after the "
        "close) or at the same bar's close.",
    )


class SimulationConfig(_Frozen):
    """Account, fills, costs and risk limits of one simulation."""

    capital: float = Field(default=1_000_000.0, gt=0, description="Starting equity.")
    account_currency: str = Field(default="USD", min_length=3, max_length=3)
    fill_delay: int = Field(
        default=1,
        ge=0,
        le=10,
        description="Bars between a signal and its fill: 1 fills at the next bar's open; 0 "
        "fills at the signal bar's close (explicit opt-in to same-bar execution).",
    )
    slippage_ticks: float = Field(
        default=0.0, ge=0, description="Adverse ticks on market and stop fills."
    )
    slippage_atr: float = Field(
        default=0.0, ge=0, description="Adverse fraction of the previous bar's ATR."
    )
    atr_window: int = Field(default=14, ge=1, description="ATR window when not given.")
    participation: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Fill at most this share of the bar's volume (NaN volume fills nothing).",
    )
    remainder: Literal["carry", "cancel"] = Field(
        default="carry",
        description="What happens to the part the participation cap left unfilled.",
    )
    order_limits: Literal["reduce", "reject"] = Field(
        default="reduce",
        description="An order breaching max contracts, leverage or initial margin is trimmed "
        "(reduce) or refused whole (reject); either way a rejection is recorded.",
    )
    max_leverage: float | None = Field(
        default=None, gt=0, description="Gross notional / equity cap."
    )
    margin_cap: float = Field(
        default=1.0, gt=0, le=1, description="Share of equity initial margin may use."
    )
    interest_rate: float = Field(
        default=0.0, ge=-0.1, le=1, description="Annual rate on positive cash, ACT/365."
    )
    margin_call: MarginCallConfig = Field(default_factory=MarginCallConfig)
    contract_mode: Literal["continuous", "contracts"] = Field(
        default="continuous",
        description="continuous: trade a back-adjusted series; contracts: trade the actual "
        "contracts with rolls and expiries.",
    )
    order_size: Literal["target", "delta"] = Field(
        default="target",
        description="The vectorized order array holds target positions or contracts to trade.",
    )


def canonical_json(config: BaseModel | dict[str, Any]) -> str:
    """Sorted-key, compact JSON of a config: the text whose hash identifies a run."""
    payload = config.model_dump(mode="json") if isinstance(config, BaseModel) else config
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), allow_nan=False, default=_json_default
    )


def _json_default(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    raise TypeError(f"cannot put {type(value).__name__} in a config hash")


def config_hash(config: BaseModel | dict[str, Any]) -> str:
    """sha256 of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()
