"""Sweeps from a research configuration: parameter sets, the run, the trial registry, the
diagnostics, and the files written.

The CLI, the job runners and the sweep-chunk workers call these; walk-forward runs are in
``contango.services.walkforward``; the computation itself is in ``contango.research``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from contango.engine.batch import Progress, SweepResult, fast_path_blocker, run_sweep
from contango.engine.config import SimulationConfig
from contango.engine.strategy import VectorStrategy
from contango.engine.templates import get_template
from contango.research.config import ResearchConfig
from contango.research.lookahead import find_lookahead, sizing_from_specs
from contango.research.overfitting import (
    OverfitProbability,
    deflated_sharpe_of_returns,
    overfitting_of_statistics,
)
from contango.research.return_stats import (
    ReturnStatistics,
    block_starts,
    return_statistics,
    statistics_of_moments,
)
from contango.research.sweep import (
    ParamSets,
    build_param_sets,
    metric_values,
    rank_trials,
    run_chunked_sweep,
)
from contango.research.trials import TrialKey, TrialLog, trial_ids_of_texts
from contango.services.backtest_data import LoadedData
from contango.services.backtests import simulation_for
from contango.services.trials import config_id, record_trials, trial_context, trial_records

F64 = npt.NDArray[np.float64]


class ResearchError(ValueError):
    """The research run cannot go ahead as configured; the message says why."""


@dataclass(frozen=True, kw_only=True)
class SweepReport:
    """A finished sweep: its trials, their ranking, the diagnostics and the trial log."""

    result: SweepResult
    ranking: npt.NDArray[np.int64]  # trial indices, best first by the objective
    objective: str
    rejected: tuple[str, ...]
    diagnostics: dict[str, Any]
    trial_log: TrialLog


def simulation_of(config: ResearchConfig) -> SimulationConfig:
    """The simulation settings, in actual-contract mode when any market trades contracts."""
    return simulation_for(config.backtest)


def param_sets(config: ResearchConfig) -> tuple[VectorStrategy, ParamSets]:
    """The strategy and every parameter set of the sweep (seeded by ``sweep.seed``)."""
    try:
        strategy = get_template(config.backtest.strategy.name)
        sets = build_param_sets(
            strategy.Params,
            dict(config.backtest.strategy.params),
            config.sweep,
            np.random.default_rng(config.sweep.seed),
        )
    except ValueError as exc:  # unknown template or parameter, too many sets
        raise ResearchError(str(exc)) from None
    if not sets.params:
        first = sets.rejected[0] if sets.rejected else "none generated"
        raise ResearchError(f"every parameter set was refused by the strategy, e.g. {first}")
    return strategy, sets


def sweep_workers(config: ResearchConfig, loaded: LoadedData) -> int:
    """Threads for the fused fast path: every core unless ``sweep.workers`` says otherwise.

    Configurations the fused kernel cannot run (actual contracts, FX, ...) go through the
    general engine, where ``workers > 1`` means a pool of fresh processes that each compile
    the engine before their first trial (tens of seconds); that pays only for thousands of
    trials, so there the default is this process, and ``sweep.workers`` opts in to a pool.
    """
    if config.sweep.workers is not None:
        return config.sweep.workers
    if fast_path_blocker(simulation_of(config), loaded.specs) is not None:
        return 1
    return os.cpu_count() or 1


def _sweep_trial_ids(config: ResearchConfig, sets: ParamSets) -> list[str]:
    """The trial id of each of ``sets`` over the configured period; from the texts made when
    the sets were built."""
    context = trial_context(config, str(config.backtest.start), str(config.backtest.end))
    return trial_ids_of_texts(sets.texts, context)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _stat_blocks(pbo_blocks: int, n_trials: int, n_bars: int) -> int:
    """Blocks of the returns (less row 0) the diagnostics read: PBO's when it can run (two
    trials, two bars per block), else one (the per-bar Sharpe ratios only)."""
    return pbo_blocks if n_trials >= 2 and n_bars - 1 >= 2 * pbo_blocks else 1


def return_blocks(config: ResearchConfig, n_sets: int, n_bars: int) -> npt.NDArray[np.int64]:
    """The block boundaries a sweep of ``n_sets`` parameter sets over ``n_bars`` bars asks its
    kernel to gather return statistics over (``run_sweep``'s ``return_blocks``), so that its
    diagnostics need not read the whole returns matrix again."""
    _, starts = block_starts(n_bars - 1, _stat_blocks(config.sweep.pbo_blocks, n_sets, n_bars))
    return starts


def _statistics(result: SweepResult, blocks: int) -> ReturnStatistics:
    """The return statistics of ``blocks`` blocks: those the sweep gathered, or (a result
    without them, e.g. merged from chunks stored by an earlier version) one read of the
    returns. The same numbers either way."""
    sizes, _ = block_starts(result.ts.shape[0] - 1, blocks)
    moments, sums, squares = result.return_moments, result.block_sums, result.block_squares
    if moments is None or sums is None or squares is None or sums.shape[1] != blocks:
        if result.returns is None:
            raise ResearchError("the sweep kept neither its returns nor their statistics")
        return return_statistics(result.returns[1:], blocks)
    return statistics_of_moments(moments, sums, squares, sizes)


def _trial_returns(config: ResearchConfig, loaded: LoadedData, run: SweepRun, trial: int) -> F64:
    """Trial ``trial``'s bar returns (less row 0): from the sweep's matrix if it kept one,
    else from running that trial again, which gives the very same numbers (a trial depends
    on nothing but its own parameters: chunks rely on it too)."""
    if run.result.returns is not None:
        return run.result.returns[1:, trial]
    again = run_sweep(
        loaded.bars,
        loaded.specs,
        strategy=run.strategy,
        params_list=[run.result.params[trial]],
        config=simulation_of(config),
        workers=1,
        contracts=loaded.contracts,
        fx=loaded.fx or None,
    )
    assert again.returns is not None  # kept by default
    return again.returns[1:, 0]


def _deflated_sharpe_entry(result: SweepResult, best_returns: F64, log: TrialLog) -> dict[str, Any]:
    """The ``deflated_sharpe`` entry of a sweep's diagnostics: the chosen trial, its bar
    returns ``best_returns``, against every trial in ``log``."""
    root_year = math.sqrt(result.periods_per_year)
    dsr = deflated_sharpe_of_returns(
        best_returns, n_trials=max(log.n_trials, 1), trial_sharpes=log.sharpes_per_bar()
    )
    return {
        "dsr": _finite(dsr.dsr),
        "sharpe_per_bar": _finite(dsr.sharpe),
        "sharpe_annualised": _finite(dsr.sharpe * root_year),
        "expected_max_sharpe_per_bar": dsr.expected_max_sharpe,
        "expected_max_sharpe_annualised": dsr.expected_max_sharpe * root_year,
        "n_trials": dsr.n_trials,
        "sharpe_variance_per_bar": dsr.sharpe_variance,
        "n_obs": dsr.n_obs,
        "skew": _finite(dsr.skew),
        "kurtosis": _finite(dsr.kurtosis),
    }


def _pbo_entry(pbo: OverfitProbability | None) -> dict[str, Any]:
    """The ``pbo`` entry of a sweep's diagnostics."""
    if pbo is None:
        return {"pbo": None, "why": "needs >= 2 trials and >= 2 bars per block"}
    return {
        "pbo": pbo.pbo,
        "n_blocks": pbo.n_blocks,
        "combinations": int(pbo.logits.size),
        "n_trials": pbo.n_trials,
        "prob_oos_loss": pbo.prob_oos_loss,
        "logit_median": float(np.median(pbo.logits)),
    }


def lookahead_diagnostics(
    strategy: VectorStrategy, params: BaseModel, loaded: LoadedData, config: ResearchConfig
) -> dict[str, Any]:
    """The look-ahead check of the chosen parameters (20 seeded cuts of the panel)."""
    report = find_lookahead(
        strategy,
        params,
        loaded.bars,
        sizing_from_specs(loaded.specs, config.backtest.simulation.capital),
        rng=np.random.default_rng(config.sweep.seed),
    )
    return {
        "clean": report.clean,
        "cut_bars_checked": len(report.cut_bars),
        "findings": [
            {
                "cut_bar": f.cut_bar,
                "bar": f.bar,
                "market": f.market,
                "full_target": _finite(f.full_target),
                "truncated_target": _finite(f.truncated_target),
            }
            for f in report.findings[:20]
        ],
    }


@dataclass(frozen=True, kw_only=True)
class SweepRun:
    """The trials of a sweep, before the report: the strategy, its parameter sets, the result
    (``result.params`` are ``sets.params`` in order, however many processes ran them)."""

    strategy: VectorStrategy
    sets: ParamSets
    result: SweepResult


def run_sweep_trials(
    config: ResearchConfig,
    loaded: LoadedData,
    *,
    progress: Progress | None = None,
    keep_returns: bool = False,
) -> SweepRun:
    """Every parameter set of the sweep, run in this process (``keep_returns``: see
    :func:`run_config_sweep`)."""
    strategy, sets = param_sets(config)
    return _run_sets(config, loaded, strategy, sets, progress, keep_returns=keep_returns)


def _run_sets(
    config: ResearchConfig,
    loaded: LoadedData,
    strategy: VectorStrategy,
    sets: ParamSets,
    progress: Progress | None,
    *,
    keep_returns: bool,
) -> SweepRun:
    # One chunk: here every chunk would run in this process, one after the other, and each
    # would pay the per-run set-up again (indicators, inputs, threads) and the merge copy.
    # Chunks are the unit of a distributed run (``contango.workers.sweep_chunks``); the result
    # is the same bit for bit either way (see ``contango.research.sweep``).
    result = run_chunked_sweep(
        loaded.bars,
        loaded.specs,
        strategy=strategy,
        params_list=sets.params,
        config=simulation_of(config),
        chunk_size=max(len(sets.params), 1),
        workers=sweep_workers(config, loaded),
        progress=progress,
        contracts=loaded.contracts,
        fx=loaded.fx or None,
        return_blocks=return_blocks(config, len(sets.params), loaded.bars.n_bars),
        keep_returns=keep_returns,
    )
    return SweepRun(strategy=strategy, sets=sets, result=result)


def report_sweep(
    config: ResearchConfig,
    loaded: LoadedData,
    run: SweepRun,
    *,
    registry_folder: Path | None = None,
) -> SweepReport:
    """Rank the trials of ``run``, record them, and diagnose the choice of the best (the same
    for a sweep run here and one merged from chunks run elsewhere)."""
    strategy, sets, result = run.strategy, run.sets, run.result
    objective = config.sweep.objective
    ranking = rank_trials(result, objective)
    best = int(ranking[0])
    key = TrialKey.of(strategy.name, loaded.bars.markets, loaded.data_versions)
    blocks = _stat_blocks(config.sweep.pbo_blocks, result.n_trials, result.ts.shape[0])
    stats = _statistics(result, blocks)
    n_obs = int(result.ts.shape[0] - 1)

    # PBO's compiled CSCV (on every core) right after the sweep's kernel, while its threads
    # and the statistics it reads are warm (measured: 2-3 ms faster than after the Python
    # work below); then that work. One after the other: side by side in two threads on two
    # cores they were slower (the CSCV's share of tasks on the core the Python thread was
    # using waited for it).
    pbo = overfitting_of_statistics(stats) if blocks > 1 else None
    ids = _sweep_trial_ids(config, sets)
    records = trial_records(
        sets, ids, result.sharpe, stats.sharpe_per_bar, n_obs=n_obs, sweep_id=config_id(config)
    )
    log = record_trials(key, records, registry_folder)
    dsr = _deflated_sharpe_entry(result, _trial_returns(config, loaded, run, best), log)
    diagnostics: dict[str, Any] = {
        "deflated_sharpe": dsr,
        "pbo": _pbo_entry(pbo),
        "lookahead": lookahead_diagnostics(strategy, result.params[best], loaded, config),
    }
    diagnostics.update(
        objective=objective,
        best_trial=best,
        best_params=result.params[best].model_dump(mode="json"),
        best_objective=_finite(float(metric_values(result, objective)[best])),
        trials_this_sweep=result.n_trials,
        rejected_param_sets=len(sets.rejected),
        registry={"strategy": key.strategy, "key": key.key_id, "n_trials": log.n_trials},
        data_versions=dict(loaded.data_versions),
        seed=config.sweep.seed,
    )
    return SweepReport(
        result=result,
        ranking=ranking,
        objective=objective,
        rejected=sets.rejected,
        diagnostics=diagnostics,
        trial_log=log,
    )


def run_config_sweep(
    config: ResearchConfig,
    loaded: LoadedData,
    *,
    progress: Progress | None = None,
    registry_folder: Path | None = None,
    keep_returns: bool = False,
) -> SweepReport:
    """Run the sweep here, record its trials, and diagnose the choice of the best.

    The report's ``result.returns`` (every trial's bar returns: 32 MB for 1,590 trials of ten
    years of daily bars) is kept only when asked for; the ranked table, the diagnostics and
    the registry do not need it, and a chosen trial's returns are one backtest away."""
    strategy, sets = param_sets(config)
    run = _run_sets(config, loaded, strategy, sets, progress, keep_returns=keep_returns)
    return report_sweep(config, loaded, run, registry_folder=registry_folder)


def write_sweep_report(report: SweepReport, folder: Path) -> list[Path]:
    """``ranked.csv`` and ``ranked.parquet`` (best first, with a ``rank`` column) and
    ``diagnostics.json``."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    table = report.result.table().take(pa.array(report.ranking))
    table = table.add_column(0, "rank", pa.array(np.arange(1, table.num_rows + 1)))
    paths = [folder / "ranked.csv", folder / "ranked.parquet", folder / "diagnostics.json"]
    pcsv.write_csv(table, paths[0])
    pq.write_table(table, paths[1])
    paths[2].write_text(json.dumps(report.diagnostics, indent=2) + "\n", encoding="utf-8")
    return paths
