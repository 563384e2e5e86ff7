"""Contract specifications and individual futures contracts.

A :class:`ContractSpec` describes a market (ES, CL, ...) as the exchange publishes it; a
:class:`FuturesContract` is one listed delivery month of that market (ESZ24). P&L everywhere in
Contango is ``price change x point_value x contracts`` in the spec's currency, so the point value
and the tick are the numbers that must never be wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from contango.domain.expiry_rules import ExpiryRule
from contango.domain.months import MonthCode

Sector = Literal["equity_index", "rates", "energy", "metals", "fx", "grains", "softs", "livestock"]
Settlement = Literal["cash", "physical"]
PriceQuote = Literal["decimal", "32nds", "half_32nds", "quarter_32nds", "eighth_32nds"]
PRICE_QUOTES: tuple[str, ...] = (
    "decimal",
    "32nds",
    "half_32nds",
    "quarter_32nds",
    "eighth_32nds",
)
SECTORS: tuple[str, ...] = (
    "equity_index",
    "rates",
    "energy",
    "metals",
    "fx",
    "grains",
    "softs",
    "livestock",
)

# Relative tolerance when checking that tick_value == tick_size x point_value. Exchange specs
# quote tick values rounded to the cent (ZN: 1/64 point x $1,000 = $15.625).
_TICK_VALUE_RTOL = 1e-9


@dataclass(frozen=True, kw_only=True)
class TradingHours:
    """The regular session in the exchange's local time, e.g. ``17:00``-``16:00`` for Globex.

    A session whose ``close`` is earlier than its ``open`` spans midnight: it opens on the
    evening before the trade date it belongs to.
    """

    open: str
    close: str
    timezone: str

    @property
    def spans_midnight(self) -> bool:
        """True when the session starts on the previous calendar day (Globex style)."""
        return self.close <= self.open


@dataclass(frozen=True, kw_only=True)
class ContractSpec:
    """One futures market as the exchange specifies it.

    ``point_value`` is the currency amount of a one-point move for one contract (ES: 50 USD);
    ``tick_value`` must equal ``tick_size x point_value``; a spec that disagrees is refused when
    it is built, because a wrong multiplier silently corrupts every P&L figure downstream.

    ``price_unit`` says what one point of the quoted price is (ZC: US cents per bushel, so
    ``point_value`` is the value of one cent); ``price_quote`` tells displays how to write a
    price tick-aware: ``"decimal"``, or Treasury style in 32nds of a point (``"32nds"`` for ZB,
    ``"half_32nds"`` for ZN, ``"quarter_32nds"`` for ZF, ``"eighth_32nds"`` for ZT).
    ``first_notice_rule`` is None for cash-settled markets and for physical ones whose notice
    period only starts after trading ends (CL, SB) or that have no single first notice day (LE).
    """

    root: str
    name: str
    exchange: str
    sector: Sector
    currency: str
    point_value: float
    tick_size: float
    tick_value: float
    listed_months: tuple[MonthCode, ...]
    trading_hours: TradingHours
    calendar: str
    settlement: Settlement
    last_trade_rule: ExpiryRule
    first_notice_rule: ExpiryRule | None = None
    initial_margin: float
    maintenance_margin: float
    price_quote: str = "decimal"
    price_unit: str = ""
    description: str = ""
    aliases: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not self.root or not self.root.isalnum() or not self.root.isupper():
            problems.append(f"root {self.root!r} must be upper-case letters or digits")
        if self.sector not in SECTORS:
            problems.append(f"sector {self.sector!r} is not one of {', '.join(SECTORS)}")
        if self.settlement not in ("cash", "physical"):
            problems.append(f"settlement {self.settlement!r} must be 'cash' or 'physical'")
        if len(self.currency) != 3 or not self.currency.isupper():
            problems.append(f"currency {self.currency!r} must be an ISO 4217 code such as USD")
        for name in ("point_value", "tick_size", "tick_value"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                problems.append(f"{name} must be a positive number, got {value!r}")
        if not problems and not math.isclose(
            self.tick_size * self.point_value,
            self.tick_value,
            rel_tol=_TICK_VALUE_RTOL,
            abs_tol=0.005,
        ):
            problems.append(
                f"tick_value {self.tick_value} != tick_size {self.tick_size} x point_value "
                f"{self.point_value} = {self.tick_size * self.point_value}"
            )
        if self.price_quote not in PRICE_QUOTES:
            problems.append(
                f"price_quote {self.price_quote!r} is not one of {', '.join(PRICE_QUOTES)}"
            )
        if not self.listed_months:
            problems.append("listed_months must name at least one month")
        if self.initial_margin < self.maintenance_margin or self.maintenance_margin < 0:
            problems.append(
                f"margins must satisfy initial ({self.initial_margin}) >= maintenance "
                f"({self.maintenance_margin}) >= 0"
            )
        if problems:
            raise ValueError(f"contract spec {self.root}: " + "; ".join(problems))

    def lists(self, month: MonthCode) -> bool:
        """Whether the exchange lists a contract for this delivery month."""
        return month in self.listed_months


@dataclass(frozen=True, order=True)
class FuturesContract:
    """One delivery month of a market: ``FuturesContract("ES", 2024, MonthCode.Z)`` is ESZ24.

    Contracts order by (root, year, month), which is their expiry order within a root.
    """

    root: str
    year: int
    month: MonthCode = field(compare=False)
    _month_number: int = field(init=False, repr=False, compare=True)

    def __post_init__(self) -> None:
        if not 1900 <= self.year <= 2199:
            raise ValueError(f"contract year {self.year} is outside 1900-2199")
        object.__setattr__(self, "_month_number", self.month.value)

    @property
    def symbol(self) -> str:
        """The conventional two-digit-year symbol, e.g. ``ESZ24``."""
        return f"{self.root}{self.month.letter}{self.year % 100:02d}"

    @property
    def long_symbol(self) -> str:
        """The unambiguous four-digit-year symbol, e.g. ``ESZ2024``."""
        return f"{self.root}{self.month.letter}{self.year}"

    def __str__(self) -> str:
        return self.symbol
