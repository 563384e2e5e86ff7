"""Compiling the engine before the first job asks for it.

The engine's kernels are compiled on first use and cached on disk, so a fresh installation
pays once: about a minute of one core before its first job. ``contango serve`` runs
:func:`warm_kernels` in a low-priority background process when it starts its own workers, so
an analyst's first backtest does not wait for the compiler (``contango warm-up`` does it on
demand, for machines that run Celery workers); with the cache filled it costs a second or two.

The warm-up runs what a job runs (the store's loading and continuous contracts, each template's
backtest, a sweep with its diagnostics, a walk-forward) on the bundled daily sample of one
market, so the kernels compiled are the ones the jobs call, for the same array types. It reads
the store and writes only to a temporary folder: its trials never reach the trial registry.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contango.data.store import open_store
from contango.engine.backtest_config import BacktestConfig
from contango.engine.run import StrategyError
from contango.engine.templates import list_templates
from contango.research.config import ResearchConfig
from contango.services.backtest_data import load_data
from contango.services.backtests import plan_of, run_plan
from contango.services.research import run_config_sweep
from contango.services.walkforward import run_config_walkforward

log = logging.getLogger("contango.warmup")
DATASET = "ES.1d"  # the bundled sample the README's examples use
_CONTRACTS = ("donchian_breakout", "contracts")  # as the tour's first example backtest


def _backtest(strategy: str, mode: str = "continuous") -> dict[str, Any]:
    return {
        "name": f"warm-up-{strategy}",
        "markets": [
            {
                "root": "ES",
                "dataset": DATASET,
                "mode": mode,
                "adjustment": "difference",
                "roll_days": 5,
            }
        ],
        "start": "2022-01-01",
        "strategy": {"name": strategy, "params": {}},
        "simulation": {"capital": 250_000, "slippage_ticks": 1},
    }


def _research(**walkforward: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "backtest": _backtest("ma_crossover"),
        "sweep": {
            "objective": "sharpe",
            "pbo_blocks": 16,
            "params": {"fast_window": {"grid": [5, 10]}, "slow_window": {"grid": [40, 80]}},
        },
    }
    if walkforward:
        config["walkforward"] = walkforward
    return config


def _warm(scratch: Path) -> None:
    """Every template's backtest (those the sample can feed: carry needs the second contract,
    a calendar spread two markets), one trading the actual contracts (rolls and all), then a
    sweep and a walk-forward of the crossover."""
    for name, mode in [*((t.name, "continuous") for t in list_templates()), _CONTRACTS]:
        config = BacktestConfig.model_validate(_backtest(name, mode))
        try:
            run_plan(plan_of(config, None, "warm-up"), load_data(config))
        except (StrategyError, ValueError) as error:
            log.debug("engine warm-up: the %s backtest skipped (%s)", name, error)
    sweep = ResearchConfig.model_validate(_research())
    run_config_sweep(sweep, load_data(sweep.backtest), registry_folder=scratch)
    walk = ResearchConfig.model_validate(_research(in_sample_bars=250, out_of_sample_bars=60))
    run_config_walkforward(walk, load_data(walk.backtest), registry_folder=scratch)


def warm_kernels(say: Callable[[str], None] = log.info) -> float | None:
    """Compile (or load from the disk cache) the kernels of every job kind; seconds taken, or
    None when the store lacks the sample it runs on (nothing to warm with)."""
    if DATASET not in {summary.name for summary in open_store().datasets()}:
        say(f"engine warm-up skipped: the store has no {DATASET} (contango samples load)")
        return None
    start = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="contango-warm-up-") as scratch,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")  # about figures no one reads: the runs are discarded
        _warm(Path(scratch))
    seconds = time.perf_counter() - start
    say(f"engine kernels ready in {seconds:.0f} s (compiled once, then cached on disk)")
    return seconds


def warm_in_background(log_level: str, log_format: str) -> None:
    """The body of ``contango serve``'s warm-up process: below the server's priority, logging
    as the server does, and quiet about everything but its outcome. Ctrl-C in the terminal is
    the server's to handle: it ends this daemon process as it exits."""
    from contango.observability.logs import configure_logging

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(10)
    configure_logging(log_level, log_format)
    try:
        warm_kernels()
    except Exception:  # a warm-up that fails costs the first job its compile time, no more
        log.exception("engine warm-up failed; the first job compiles what it needs")
