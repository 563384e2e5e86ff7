"""Ready-made strategies, each a :class:`~contango.engine.strategy.VectorStrategy` with a
documented, validated parameter model.

``list_templates()`` describes them all (name, title, description, JSON schema of the
parameters) for the UI and the CLI; ``get_template(name)`` returns one ready to run::

    strategy = get_template("ma_crossover")
    params = strategy.Params.model_validate({"fast_window": 10, "slow_window": 50})
    targets = strategy.targets(bars, params, sizing)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contango.engine.strategy import VectorStrategy
from contango.engine.templates.calendar_spread import CalendarSpread, CalendarSpreadParams
from contango.engine.templates.carry import Carry, CarryParams
from contango.engine.templates.donchian_breakout import DonchianBreakout, DonchianBreakoutParams
from contango.engine.templates.ma_crossover import MACrossover, MACrossoverParams
from contango.engine.templates.mean_reversion import MeanReversion, MeanReversionParams
from contango.engine.templates.ts_momentum import TSMomentum, TSMomentumParams

__all__ = [
    "CalendarSpread",
    "CalendarSpreadParams",
    "Carry",
    "CarryParams",
    "DonchianBreakout",
    "DonchianBreakoutParams",
    "MACrossover",
    "MACrossoverParams",
    "MeanReversion",
    "MeanReversionParams",
    "TSMomentum",
    "TSMomentumParams",
    "TemplateInfo",
    "get_template",
    "list_templates",
]

_TEMPLATES: tuple[
    type[MACrossover]
    | type[DonchianBreakout]
    | type[TSMomentum]
    | type[MeanReversion]
    | type[Carry]
    | type[CalendarSpread],
    ...,
] = (MACrossover, DonchianBreakout, TSMomentum, MeanReversion, Carry, CalendarSpread)


@dataclass(frozen=True, kw_only=True)
class TemplateInfo:
    """What a UI or a config file needs to know about a template."""

    name: str
    title: str
    description: str
    params_schema: dict[str, Any]  # JSON schema of the parameter model


def list_templates() -> tuple[TemplateInfo, ...]:
    """Every template, in a stable order."""
    return tuple(
        TemplateInfo(
            name=cls.name,
            title=cls.title,
            description=cls.description,
            params_schema=cls.Params.model_json_schema(),
        )
        for cls in _TEMPLATES
    )


def get_template(name: str) -> VectorStrategy:
    """A new instance of the template called ``name``; ValueError listing the known names."""
    for cls in _TEMPLATES:
        if cls.name == name:
            return cls()
    known = ", ".join(cls.name for cls in _TEMPLATES)
    raise ValueError(f"unknown strategy template {name!r}; known templates: {known}")
