"""The YAML of ``contango backtest sweep`` and ``walkforward``: a backtest configuration plus a
``sweep:`` block (which parameters to vary and how) and an optional ``walkforward:`` block.

::

    sweep:
      seed: 7                     # random draws are reproducible bit for bit
      samples: 20                 # random draws per grid point (only with random parameters)
      objective: sharpe           # what "best" means (any metric of the ranked table)
      params:
        fast_window:
          grid: [5, 10, 20]       # a list of values ...
        slow_window:
          grid: {start: 50, stop: 200, step: 50}   # ... or an inclusive range
        target_vol:
          random: {low: 0.05, high: 0.20}          # uniform; log: true for log-uniform
        ma_kind:
          random: {choices: [sma, ema]}
    walkforward:
      in_sample_bars: 504         # ~2 years of daily bars
      out_of_sample_bars: 126     # ~6 months
      mode: rolling               # or anchored (in-sample always starts at bar 0)
      objective: sharpe

Mistakes are reported like the backtest configuration's: field path, value, what is allowed and
the YAML line.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from contango.engine.backtest_config import (
    BacktestConfig,
    ConfigError,
    describe_errors,
)
from contango.engine.batch import METRIC_NAMES

OBJECTIVES: tuple[str, ...] = (*METRIC_NAMES, "n_trades", "equity_end")
LOWER_IS_BETTER = frozenset({"max_drawdown", "annual_volatility", "turnover"})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GridRange(_Frozen):
    """Evenly spaced values from ``start`` to ``stop`` inclusive."""

    start: float
    stop: float
    step: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> GridRange:
        if self.stop < self.start:
            raise ValueError(f"stop {self.stop} is below start {self.start}")
        if (self.stop - self.start) / self.step > 100_000:
            raise ValueError("the range has more than 100,000 values")
        return self


class Uniform(_Frozen):
    """A draw between ``low`` and ``high``; ``log`` draws the logarithm uniformly."""

    low: float
    high: float
    log: bool = False
    integer: bool = Field(default=False, description="Round the draw to a whole number.")

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError(f"high {self.high} must be above low {self.low}")
        if self.log and self.low <= 0:
            raise ValueError("a log-uniform draw needs low > 0")
        return self


class Choice(_Frozen):
    """A draw among listed values, each equally likely."""

    choices: list[Any] = Field(min_length=1)


_TAGS = (".grid.range", ".grid.list", ".random.uniform", ".random.choice")


def _grid_kind(value: Any) -> str:
    # one error message per mistake: a mapping is a range, anything else must be a list
    return "range" if isinstance(value, dict | GridRange) else "list"


def _random_kind(value: Any) -> str:
    return "choice" if isinstance(value, Choice) or "choices" in value else "uniform"


class ParamSweep(_Frozen):
    """How one parameter varies: a grid of values or a random draw, not both."""

    grid: (
        Annotated[
            Annotated[list[Any], Tag("list")] | Annotated[GridRange, Tag("range")],
            Discriminator(_grid_kind),
        ]
        | None
    ) = None
    random: (
        Annotated[
            Annotated[Uniform, Tag("uniform")] | Annotated[Choice, Tag("choice")],
            Discriminator(_random_kind),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _one(self) -> ParamSweep:
        if (self.grid is None) == (self.random is None):
            raise ValueError("give exactly one of grid: or random:")
        if isinstance(self.grid, list) and not self.grid:
            raise ValueError("grid: lists no values")
        return self


def _check_objective(value: str) -> str:
    if value not in OBJECTIVES:
        raise ValueError(f"unknown objective {value!r}; one of {', '.join(OBJECTIVES)}")
    return value


class SweepConfig(_Frozen):
    """The parameter sets of a sweep: the grid's product, times ``samples`` random draws."""

    params: dict[str, ParamSweep] = Field(min_length=1)
    samples: int | None = Field(default=None, ge=1, le=100_000)
    seed: int = Field(default=0, ge=0)
    objective: str = "sharpe"
    chunk_size: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Trials per independent chunk (the unit a queue worker would run).",
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        description="Threads of the fused sweep kernel (default: every core); for "
        "configurations it cannot run (actual contracts, FX), processes of a pool (default: "
        "none, the pool's start-up only pays for thousands of trials).",
    )
    pbo_blocks: int = Field(default=16, ge=2, le=24, description="CSCV blocks (even).")
    max_trials: int = Field(default=20_000, ge=1, description="Refuse larger sweeps.")

    @model_validator(mode="after")
    def _consistent(self) -> SweepConfig:
        _check_objective(self.objective)
        has_random = any(p.random is not None for p in self.params.values())
        if has_random and self.samples is None:
            raise ValueError("random parameters need samples: (draws per grid point)")
        if not has_random and self.samples is not None:
            raise ValueError("samples: is set but no parameter is random")
        if self.pbo_blocks % 2:
            raise ValueError(f"pbo_blocks must be even, got {self.pbo_blocks}")
        return self


class WalkForwardConfig(_Frozen):
    """Rolling or anchored walk-forward windows, in bars."""

    in_sample_bars: int = Field(ge=10, description="Bars each optimisation sees.")
    out_of_sample_bars: int = Field(ge=1, description="Bars traded with the chosen parameters.")
    mode: Literal["rolling", "anchored"] = "rolling"
    objective: str = "sharpe"
    warmup_bars: int | None = Field(
        default=None,
        ge=0,
        description="Bars before each out-of-sample window the strategy sees (flat) so its "
        "indicators are warm; default in_sample_bars.",
    )

    @model_validator(mode="after")
    def _objective_known(self) -> WalkForwardConfig:
        _check_objective(self.objective)
        return self


class ResearchConfig(_Frozen):
    """A backtest configuration with its research blocks."""

    backtest: BacktestConfig
    sweep: SweepConfig
    walkforward: WalkForwardConfig | None = None


def _block(
    payload: dict[str, Any], name: str, model: type[BaseModel], root: Any, source: str
) -> tuple[Any, list[str]]:
    """Validate one block; problems are located in the whole file (the backtest settings sit
    at the top level, so they take no prefix)."""
    if name not in payload:
        return None, []
    try:
        return model.model_validate(payload[name]), []
    except ValidationError as exc:
        prefix: tuple[int | str, ...] = () if name == "backtest" else (name,)
        lines = describe_errors(exc, root, source, prefix)
        for tag in _TAGS:  # the union's branch names are not keys of the file
            lines = [line.replace(tag, tag.rsplit(".", 1)[0], 1) for line in lines]
        return None, lines


def parse_research_config(text: str, source: str = "config") -> tuple[ResearchConfig, Any]:
    """Parse and validate a sweep / walk-forward configuration; raises :class:`ConfigError`
    naming every mistake with its line."""
    try:
        payload = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(source, [f"{source}{where}: not valid YAML ({exc})"]) from None
    if not isinstance(payload, dict):
        raise ConfigError(source, [f"{source}: expected a mapping of settings at the top"])
    rest = {k: v for k, v in payload.items() if k not in ("sweep", "walkforward")}
    backtest, problems = _block({"backtest": rest}, "backtest", BacktestConfig, root, source)
    sweep, sweep_problems = _block(payload, "sweep", SweepConfig, root, source)
    walk, walk_problems = _block(payload, "walkforward", WalkForwardConfig, root, source)
    problems += sweep_problems + walk_problems
    if "sweep" not in payload:
        problems.append(f"{source}: a sweep: block is required (the parameters to vary)")
    if problems or backtest is None or sweep is None:
        raise ConfigError(source, problems)
    return ResearchConfig(backtest=backtest, sweep=sweep, walkforward=walk), root
