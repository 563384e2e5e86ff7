"""The work of a job, run outside the request: load data, run, write the results folder.

Pure computation plus files; no database. ``progress(fraction, message)`` is called as the work
goes on and raises :class:`JobCancelledError` when the job was cancelled, which stops a sweep
between chunks and a backtest between its phases.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contango.engine.backtest_config import BacktestConfig
from contango.engine.metrics import json_safe
from contango.engine.run import StrategyError
from contango.research.config import ResearchConfig
from contango.services.backtest_data import load_data
from contango.services.backtests import load_plan_data, plan_of, run_plan, save_run
from contango.services.job_specs import JobKind
from contango.services.research import (
    param_sets,
    run_config_sweep,
    run_config_walkforward,
    write_sweep_report,
    write_walkforward_report,
)

Progress = Callable[[float | None, str], None]

# Headline figures kept on the job row, so listings need not open the results folder.
HEADLINE = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "n_trades", "win_rate")


class JobCancelledError(Exception):
    """The job was cancelled while it ran."""


class JobFailedError(Exception):
    """The job's work failed; ``detail`` is what the user reads (with a traceback if any)."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


def _backtest(config: BacktestConfig, folder: Path, progress: Progress) -> dict[str, Any]:
    plan = plan_of(config, None, "config")
    progress(0.05, "loading market data")
    loaded = load_plan_data(plan, progress=lambda message: progress(None, message))
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


def _sweep(config: ResearchConfig, folder: Path, progress: Progress) -> dict[str, Any]:
    progress(0.02, "loading market data")
    loaded = load_data(config.backtest)
    report = run_config_sweep(
        config, loaded, progress=_chunks(progress, 0.05, 0.85, "parameter sets")
    )
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
    kind: JobKind, config: dict[str, Any], folder: Path, progress: Progress
) -> dict[str, Any]:
    """Run a job's work and write its results to ``folder``; returns the job's summary.

    Raises JobCancelledError (from ``progress``) or JobFailedError with a message for the user.
    """
    try:
        if kind is JobKind.BACKTEST:
            return _backtest(BacktestConfig.model_validate(config), folder, progress)
        research = ResearchConfig.model_validate(config)
        if kind is JobKind.SWEEP:
            return _sweep(research, folder, progress)
        return _walkforward(research, folder, progress)
    except JobCancelledError:
        raise
    except StrategyError as error:
        raise JobFailedError(str(error), f"{error}\n\n{error.traceback_text}") from error
    except (ValueError, OSError) as error:  # data, configuration or store problems
        raise JobFailedError(str(error), str(error)) from error
    except Exception as error:  # an engine defect: keep the traceback for the report
        detail = "".join(traceback.format_exception(error))
        raise JobFailedError(f"{type(error).__name__}: {error}", detail) from error
