"""The markets both PyBroker test modules trade: real ES and CL specifications with per-contract
fees ($2.50 and $3.10 a side), so the cross-check compares fees, not just prices."""

from __future__ import annotations

from contango.engine.config import MarketSpec

ES = MarketSpec(
    name="ES",
    point_value=50.0,
    tick_size=0.25,
    initial_margin=15_000.0,
    maintenance_margin=13_500.0,
    commission=2.0,
    exchange_fee=0.5,
)
CL = MarketSpec(
    name="CL",
    point_value=1_000.0,
    tick_size=0.01,
    initial_margin=6_000.0,
    maintenance_margin=5_500.0,
    commission=2.5,
    exchange_fee=0.6,
)
