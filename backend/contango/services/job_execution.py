"""The work of a job, run outside the request: load data, run, write the results folder.

Pure computation plus files; no database. ``progress(fraction, message)`` is called as the work
goes on and raises :class:`JobCancelledError` when the job was cancelled, which stops a sweep
between chunks and a backtest between its phases.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from contango.engine.backtest_config import BacktestConfig
from contango.engine.bars import Bars
from contango.engine.metrics import json_safe
from contango.engine.run import StrategyError
from contango.research.config import ResearchConfig
from contango.services.backtest_data import LoadedData, load_data
from contango.services.backtests import (
    BacktestPlan,
    load_plan_data,
    plan_of,
    run_plan,
    save_run,
)
from contango.services.job_specs import CUSTOM_PREFIX, JobKind
from contango.services.research import (
    SweepRun,
    param_sets,
    report_sweep,
    run_sweep_trials,
    write_sweep_report,
)
from contango.services.walkforward import run_config_walkforward, write_walkforward_report

Progress = Callable[[float | None, str], None]
F64 = npt.NDArray[np.float64]

# Headline figures kept on the job row, so listings need not open the results folder.
HEADLINE = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "n_trades", "win_rate")


class JobCancelledError(Exception):
    """The job was cancelled while it ran."""


class JobFailedError(Exception):
    """The job's work failed; ``detail`` is what the user reads (with a traceback if any)."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


class CustomTargets(Protocol):
    """Runs custom strategy code on the bars in a sandbox; returns its target contracts
    ``(n_bars, n_markets)`` or raises JobFailedError (JobCancelledError once ``stop`` is set)."""

    def __call__(
        self, code: str, bars: Bars, params: dict[str, Any], stop: threading.Event
    ) -> F64: ...


class SweepFanOut(Protocol):
    """Runs a sweep's trials across worker processes (one task per chunk) and returns them
    merged in sweep order; ``progress(done, total)`` counts parameter sets."""

    def __call__(
        self,
        config: ResearchConfig,
        loaded: LoadedData,
        progress: Callable[[int, int], None],
    ) -> SweepRun: ...


class _NoParams(BaseModel):
    """Custom code reads its parameters itself (they reach it as a plain dict)."""


class _FixedTargets:
    """A strategy whose targets were computed beforehand (by custom code in its sandbox)."""

    name: ClassVar[str] = "custom"
    Params: ClassVar[type[BaseModel]] = _NoParams

    def __init__(self, targets: F64) -> None:
        self._targets = targets

    def targets(self, bars: Bars, params: BaseModel, sizing: object) -> F64:  # noqa: ARG002
        """The precomputed targets (the engine checks their shape against the bars)."""
        return self._targets


def _plan(
    config: BacktestConfig,
    custom: tuple[str, CustomTargets | None] | None,
    stop: threading.Event,
    progress: Progress,
) -> tuple[BacktestPlan, Any]:
    """The plan and its loaded data; custom code computes its targets in the sandbox here."""
    if custom is None:
        plan = plan_of(config, None, "config")
        progress(0.05, "loading market data")
        return plan, load_plan_data(plan, progress=lambda message: progress(None, message))
    code, sandbox = custom
    if sandbox is None:
        message = "custom strategy code runs only in a sandboxed worker process"
        raise JobFailedError(message, f"{message}; this runner has no sandbox")
    progress(0.05, "loading market data")
    loaded = load_data(config, progress=lambda message: progress(None, message))
    progress(0.2, "running the custom strategy in its sandbox")
    targets = sandbox(code, loaded.bars, dict(config.strategy.params), stop)
    plan = BacktestPlan(
        config=config, strategy=_FixedTargets(targets), params=_NoParams(), source="config"
    )
    return plan, loaded


def _backtest(
    config: BacktestConfig,
    folder: Path,
    progress: Progress,
    custom: tuple[str, CustomTargets | None] | None,
    stop: threading.Event,
) -> dict[str, Any]:
    plan, loaded = _plan(config, custom, stop, progress)
    progress(0.4, "simulating")
    run = run_plan(plan, loaded)
    progress(0.9, "writing results")
    save_run(run, folder)
    figures = run.metrics.as_json_dict()
    bars = loaded.bars
    return {
        "metrics": {key: figures[key] for key in HEADLINE},
        "provenance": json_safe(run.result.summary()),
        "throughput": {"bars": bars.n_bars * len(bars.markets), "backtests": 1},
    }


def _chunks(
    progress: Progress, start: float, span: float, label: str
) -> Callable[[int, int], None]:
    def step(done: int, total: int) -> None:
        progress(start + span * done / max(total, 1), f"{label} {done}/{total}")

    return step


def _sweep(
    config: ResearchConfig, folder: Path, progress: Progress, fan_out: SweepFanOut | None
) -> dict[str, Any]:
    progress(0.02, "loading market data")
    loaded = load_data(config.backtest)
    step = _chunks(progress, 0.05, 0.85, "parameter sets")
    if fan_out is None:
        run = run_sweep_trials(config, loaded, progress=step)
    else:
        run = fan_out(config, loaded, step)
    progress(0.9, "ranking and diagnosing the trials")
    report = report_sweep(config, loaded, run)
    progress(0.95, "writing results")
    write_sweep_report(report, folder)
    diagnostics = report.diagnostics
    keys = ("objective", "best_trial", "best_params", "best_objective", "trials_this_sweep")
    summary = {key: json_safe(diagnostics.get(key)) for key in keys}
    trials = report.result.n_trials
    bars = loaded.bars
    summary["throughput"] = {"bars": bars.n_bars * len(bars.markets) * trials, "backtests": trials}
    return summary


def _walkforward(config: ResearchConfig, folder: Path, progress: Progress) -> dict[str, Any]:
    progress(0.02, "loading market data")
    loaded = load_data(config.backtest)
    result = run_config_walkforward(
        config, loaded, progress=_chunks(progress, 0.05, 0.85, "windows")
    )
    progress(0.95, "writing results")
    write_walkforward_report(result, loaded, folder)
    # Every window backtests each parameter set in sample; bars are not counted here (windows
    # overlap in anchored mode), only backtests.
    trials = len(result.outcomes) * len(param_sets(config)[1].params)
    return {
        "throughput": {"bars": 0, "backtests": trials},
        "objective": result.objective,
        "windows": len(result.outcomes),
        "oos_sharpe": json_safe(result.sharpe),
        "oos_total_return": json_safe(result.total_return),
        "oos_max_drawdown": json_safe(result.max_drawdown),
    }


def execute(
    kind: JobKind,
    config: dict[str, Any],
    folder: Path,
    progress: Progress,
    *,
    custom: tuple[str, CustomTargets | None] | None = None,
    stop: threading.Event | None = None,
    fan_out: SweepFanOut | None = None,
) -> dict[str, Any]:
    """Run a job's work and write its results to ``folder``; returns the job's summary.

    ``custom`` is (code, sandbox) for a custom strategy job; ``fan_out`` runs a sweep's chunks
    across workers (a sweep runs in this process without it). Raises JobCancelledError (from
    ``progress``) or JobFailedError with a message for the user.
    """
    try:
        if kind is JobKind.BACKTEST:
            backtest = BacktestConfig.model_validate(config)
            if custom is None and backtest.strategy.name.startswith(CUSTOM_PREFIX):
                raise JobFailedError(
                    "the custom strategy's code is missing", "the job names no stored strategy"
                )
            return _backtest(backtest, folder, progress, custom, stop or threading.Event())
        research = ResearchConfig.model_validate(config)
        if kind is JobKind.SWEEP:
            return _sweep(research, folder, progress, fan_out)
        return _walkforward(research, folder, progress)
    except (JobCancelledError, JobFailedError):
        raise
    except StrategyError as error:
        raise JobFailedError(str(error), f"{error}\n\n{error.traceback_text}") from error
    except (ValueError, OSError) as error:  # data, configuration or store problems
        raise JobFailedError(str(error), str(error)) from error
    except Exception as error:  # an engine defect: keep the traceback for the report
        detail = "".join(traceback.format_exception(error))
        raise JobFailedError(f"{type(error).__name__}: {error}", detail) from error
