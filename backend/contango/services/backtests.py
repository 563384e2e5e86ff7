"""Running a backtest described by a configuration: the use case behind the CLI and the API.

The steps are the same wherever a backtest starts (command line, API request, worker): read
and validate the configuration, resolve the strategy template and its parameters, load the
pinned market data, run the engine, compute the metrics and save a results folder that records
everything needed to reproduce the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ValidationError

from contango.engine.backtest_config import (
    BacktestConfig,
    ConfigError,
    describe_errors,
    parse_config,
)
from contango.engine.bootstrap import BootstrapResult, bootstrap_metrics
from contango.engine.config import SimulationConfig
from contango.engine.metrics import (
    EquityCurve,
    PerformanceMetrics,
    compute_metrics,
    traded_notional_from_fills,
    trades_from_records,
)
from contango.engine.result import BacktestResult, write_result
from contango.engine.run import run_backtest
from contango.engine.strategy import VectorStrategy
from contango.engine.templates import get_template
from contango.services.backtest_data import LoadedData, load_data


@dataclass(frozen=True)
class BacktestPlan:
    """A validated configuration with its strategy resolved, ready to load data and run."""

    config: BacktestConfig
    strategy: VectorStrategy
    params: BaseModel
    source: str


@dataclass(frozen=True)
class BacktestRun:
    """A finished run: its inputs, the engine's result and the performance figures."""

    plan: BacktestPlan
    loaded: LoadedData
    result: BacktestResult
    metrics: PerformanceMetrics
    intervals: BootstrapResult | None  # None when the run has fewer than three returns


def read_plan(path: Path) -> BacktestPlan:
    """Read a YAML configuration file; every mistake is reported with its line.

    Raises :class:`ConfigError` (whose ``problems`` name file, line, field, value and what is
    allowed) for a missing file, bad YAML, a bad field, an unknown strategy or bad parameters.
    """
    source = str(path)
    if not path.is_file():
        raise ConfigError(source, [f"no configuration file {path}"])
    config, root = parse_config(path.read_text(encoding="utf-8"), source)
    return plan_of(config, root, source)


def plan_of(config: BacktestConfig, root: yaml.Node | None, source: str) -> BacktestPlan:
    """Resolve the strategy template and validate its parameters against its schema."""
    try:
        strategy = get_template(config.strategy.name)
    except ValueError as exc:
        raise ConfigError(source, [f"strategy.name: {exc}"]) from None
    try:
        params = strategy.Params.model_validate(config.strategy.params)
    except ValidationError as exc:
        raise ConfigError(
            source, describe_errors(exc, root, source, ("strategy", "params"))
        ) from None
    return BacktestPlan(config=config, strategy=strategy, params=params, source=source)


def load_plan_data(plan: BacktestPlan, progress: Callable[[str], None] | None = None) -> LoadedData:
    """Load the markets the plan names, at their pinned (or latest) dataset versions."""
    return load_data(plan.config, progress=progress)


def metrics_of(result: BacktestResult, loaded: LoadedData) -> PerformanceMetrics:
    """The performance figures of a run, from its equity curve, fills and trades."""
    point_value = np.array([s.point_value for s in loaded.specs])
    curve = EquityCurve(
        ts=result.ts,
        equity=result.equity,
        traded_notional=traded_notional_from_fills(result.fills, point_value, result.ts.shape[0]),
        gross_exposure=result.exposure,
    )
    return compute_metrics(curve, trades_from_records(result.trades), result.markets)


def simulation_for(config: BacktestConfig) -> SimulationConfig:
    """The simulation settings, in actual-contract mode when any market trades contracts."""
    contracts_mode = any(m.mode == "contracts" for m in config.markets)
    return config.simulation.model_copy(
        update={"contract_mode": "contracts" if contracts_mode else "continuous"}
    )


def run_plan(plan: BacktestPlan, loaded: LoadedData) -> BacktestRun:
    """Run the engine on loaded data; raises the engine's StrategyError if the strategy fails."""
    config = plan.config
    result = run_backtest(
        loaded.bars,
        loaded.specs,
        strategy=plan.strategy,
        params=plan.params,
        config=simulation_for(config),
        contracts=loaded.contracts,
        fx=loaded.fx,
        data_versions=loaded.data_versions,
        seed=config.seed,
        run_config=config.model_dump(mode="json"),
    )
    metrics = metrics_of(result, loaded)
    return BacktestRun(
        plan=plan,
        loaded=loaded,
        result=result,
        metrics=metrics,
        intervals=intervals_of(result, metrics, config.seed),
    )


def intervals_of(
    result: BacktestResult, metrics: PerformanceMetrics, seed: int
) -> BootstrapResult | None:
    """95% bootstrap intervals for Sharpe and max drawdown, drawn from the run's own seed.

    A Sharpe ratio from one history is one draw; the interval says how far it could move had
    the same returns come in another order. Seeded by the configuration, so a rerun gives the
    same interval.
    """
    if result.equity.shape[0] < 4:
        return None
    return bootstrap_metrics(
        result.equity, np.random.default_rng(seed), periods_per_year=metrics.periods_per_year
    )


def default_results_folder(run: BacktestRun) -> Path:
    """``results/<name>-<config hash>``: the same configuration always lands in one folder."""
    return Path("results") / f"{run.plan.config.name}-{run.result.config_hash[:8]}"


def save_run(run: BacktestRun, folder: Path | None = None) -> Path:
    """Write the results folder (Parquet tables + JSON with metrics and provenance)."""
    target = folder or default_results_folder(run)
    figures = run.metrics.as_json_dict()
    if run.intervals is not None:
        figures["confidence_intervals"] = run.intervals.as_json_dict()
    write_result(run.result, target, metrics=figures)
    return target
