"""The YAML configuration of ``contango backtest run`` and its error messages.

A mistake in the file is reported with the field path, the value found, what is allowed and
the line of the YAML file (taken from ``yaml.compose`` node marks), e.g.::

    config.yaml line 14: simulation.margin_call.at = 'tomorrow': must be one of
    'next_open', 'close'

Documented example files live in ``examples/``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contango.engine.config import SimulationConfig


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MarketConfig(_Frozen):
    """One market of the run and the data it trades on."""

    root: str = Field(description="Contract root in the registry, e.g. ES, CL.")
    dataset: str | None = Field(default=None, description="Stored dataset; default <ROOT>.1d.")
    version: str | None = Field(default=None, description="Dataset version; default latest.")
    mode: Literal["continuous", "contracts"] = Field(
        default="continuous",
        description="continuous: trade the back-adjusted series; contracts: trade the actual "
        "contracts, rolling on the roll schedule and never holding past expiry.",
    )
    adjustment: Literal["difference", "ratio", "none"] = Field(
        default="difference",
        description="Back-adjustment of the continuous series (mode continuous only).",
    )
    roll_days: int = Field(
        default=5, ge=0, le=60, description="Roll this many business days before the deadline."
    )
    commission: float | None = Field(
        default=None, ge=0, description="Per contract per side; default 0."
    )
    exchange_fee: float | None = Field(
        default=None, ge=0, description="Per contract per side; default 0."
    )
    initial_margin: float | None = Field(
        default=None, ge=0, description="Override of the registry's margin."
    )
    maintenance_margin: float | None = Field(
        default=None, ge=0, description="Override of the registry's margin."
    )
    max_contracts: float | None = Field(default=None, gt=0)


class StrategyConfig(_Frozen):
    """A strategy template by name and its parameters (validated by the template)."""

    name: str = Field(description="Template name, e.g. ma_crossover (contango backtest list).")
    params: dict[str, Any] = Field(default_factory=dict)


class FxSeriesConfig(_Frozen):
    """A currency future whose price converts a foreign currency into the account currency.

    6E is quoted in USD per EUR, so ``EUR: {root: 6E}`` converts EUR P&L into a USD account at
    the front-month 6E close known at each bar (a futures price is a forward rate: it differs
    from spot by the interest-rate carry, a small effect on converted P&L).
    """

    root: str = Field(description="Currency future root quoted in the account currency, e.g. 6E.")
    dataset: str | None = Field(default=None, description="Stored dataset; default <ROOT>.1d.")
    version: str | None = Field(default=None, description="Dataset version; default latest.")


class BacktestConfig(_Frozen):
    """A whole backtest: markets, period, strategy, simulation settings, seed."""

    name: str = Field(default="backtest", min_length=1, max_length=80)
    markets: tuple[MarketConfig, ...] = Field(min_length=1)
    start: date | None = Field(default=None, description="First day (inclusive).")
    end: date | None = Field(default=None, description="Last day (inclusive).")
    strategy: StrategyConfig
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    fx_rates: dict[str, float] = Field(
        default_factory=dict,
        description="Constant account-currency rate per foreign currency, e.g. {EUR: 1.08}, "
        "for markets quoted outside the account currency.",
    )
    fx_series: dict[str, FxSeriesConfig] = Field(
        default_factory=dict,
        description="Per foreign currency, a stored currency future whose close converts it "
        "into the account currency on every bar, e.g. {EUR: {root: 6E}}.",
    )
    seed: int = Field(default=0, ge=0, description="Recorded with the result.")

    @model_validator(mode="after")
    def _consistent(self) -> BacktestConfig:
        roots = [m.root for m in self.markets]
        if len(set(roots)) != len(roots):
            raise ValueError(f"markets repeat a root: {roots}")
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        both = sorted(set(self.fx_rates) & set(self.fx_series))
        if both:
            raise ValueError(f"currencies {both} are in both fx_rates and fx_series; keep one")
        return self


class ConfigError(ValueError):
    """A configuration file that cannot be used; ``problems`` holds one line per mistake."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


def _node_at(root: yaml.Node | None, loc: tuple[int | str, ...]) -> yaml.Node | None:
    """The deepest YAML node along ``loc`` (a pydantic error location)."""
    node = root
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key]
            if not match:
                return node
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return node
            node = node.value[key]
        else:
            return node
    return node


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for key in loc:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text or "(top level)"


def describe_errors(
    error: ValidationError, root: yaml.Node | None, source: str, prefix: tuple[int | str, ...] = ()
) -> list[str]:
    """One message per pydantic error: line, field path, value, what is allowed."""
    lines = []
    items = error.errors()
    deeper = [tuple(i["loc"]) for i in items]
    for item in items:
        here = tuple(item["loc"])
        if item["type"] == "too_short" and any(
            len(o) > len(here) and o[: len(here)] == here for o in deeper
        ):
            continue  # a list emptied by its failing items: the items' errors say it all
        loc = prefix + tuple(k for k in item["loc"] if not str(k).startswith("function-"))
        node = _node_at(root, loc)
        line = f"line {node.start_mark.line + 1}" if node is not None else "line ?"
        expected = (item.get("ctx") or {}).get("expected")
        what = f"must be {expected}" if expected else item["msg"]
        shown = repr(item["input"])
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        value = "" if item["type"] == "missing" else f" = {shown}"
        lines.append(f"{source} {line}: {_path(loc)}{value}: {what}")
    return lines


def parse_config(text: str, source: str = "config") -> tuple[BacktestConfig, yaml.Node | None]:
    """Parse and validate YAML ``text``; raises :class:`ConfigError` naming every mistake."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        payload = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(source, [f"{source}{where}: not valid YAML ({exc})"]) from None
    if not isinstance(payload, dict):
        raise ConfigError(source, [f"{source}: expected a mapping of settings at the top"])
    try:
        return BacktestConfig.model_validate(payload), root
    except ValidationError as exc:
        raise ConfigError(source, describe_errors(exc, root, source)) from None
