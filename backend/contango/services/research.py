"""Sweeps and walk-forward runs from a research configuration: parameter sets, the run, the
trial registry, the diagnostics, and the files written.

The CLI (and later the API and the workers) call these; the computation itself is in
``contango.research``.
"""

from __future__ import annotations

import json
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from contango.engine.batch import Progress, SweepResult, fast_path_blocker
from contango.engine.config import SimulationConfig
from contango.engine.metrics import years_between
from contango.engine.strategy import VectorStrategy
from contango.engine.templates import get_template
from contango.research.config import ResearchConfig
from contango.research.lookahead import find_lookahead, sizing_from_specs
from contango.research.overfitting import (
    OverfitProbability,
    deflated_sharpe_of_returns,
    overfitting_of_statistics,
    probability_of_backtest_overfitting,
    return_statistics,
)
from contango.research.sweep import (
    ParamSets,
    build_param_sets,
    metric_values,
    rank_trials,
    run_chunked_sweep,
)
from contango.research.trials import TrialKey, TrialLog, TrialRecord, trial_ids_of_texts
from contango.research.walkforward import (
    MarketData,
    WalkForwardResult,
    plan_windows,
    run_walkforward,
)
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


def market_data(loaded: LoadedData) -> MarketData:
    """The loaded data as the research functions take it."""
    return MarketData(
        bars=loaded.bars, specs=loaded.specs, contracts=loaded.contracts, fx=loaded.fx or None
    )


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


def periods_per_year(loaded: LoadedData) -> float:
    """Bars per calendar year of the loaded data (about 252 for daily futures bars)."""
    years = years_between(loaded.bars.ts)
    return (loaded.bars.n_bars - 1) / years if years > 0 else 252.0


def _sweep_trial_ids(config: ResearchConfig, sets: ParamSets) -> list[str]:
    """The trial id of each of ``sets`` over the configured period; from the texts made when
    the sets were built."""
    context = trial_context(config, str(config.backtest.start), str(config.backtest.end))
    return trial_ids_of_texts(sets.texts, context)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def sweep_diagnostics(
    result: SweepResult, best: int, log: TrialLog, pbo_blocks: int
) -> dict[str, Any]:
    """DSR of the chosen trial against every trial in ``log``, and PBO of this sweep."""
    pbo = (
        probability_of_backtest_overfitting(result.returns[1:], pbo_blocks)
        if _pbo_possible(result, pbo_blocks)
        else None
    )
    return _diagnostics(result, best, log, pbo)


def _pbo_possible(result: SweepResult, pbo_blocks: int) -> bool:
    """PBO needs two trials and two bars per block (row 0 of the returns is left out)."""
    return result.n_trials >= 2 and result.returns.shape[0] - 1 >= 2 * pbo_blocks


def _diagnostics(
    result: SweepResult, best: int, log: TrialLog, pbo: OverfitProbability | None
) -> dict[str, Any]:
    """The ``deflated_sharpe`` and ``pbo`` entries of :func:`sweep_diagnostics`."""
    returns = result.returns[1:]  # row 0 is the first close against the capital
    root_year = math.sqrt(result.periods_per_year)
    dsr = deflated_sharpe_of_returns(
        returns[:, best], n_trials=max(log.n_trials, 1), trial_sharpes=log.sharpes_per_bar()
    )
    out: dict[str, Any] = {
        "deflated_sharpe": {
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
    }
    if pbo is None:
        out["pbo"] = {"pbo": None, "why": "needs >= 2 trials and >= 2 bars per block"}
        return out
    out["pbo"] = {
        "pbo": pbo.pbo,
        "n_blocks": pbo.n_blocks,
        "combinations": int(pbo.logits.size),
        "n_trials": pbo.n_trials,
        "prob_oos_loss": pbo.prob_oos_loss,
        "logit_median": float(np.median(pbo.logits)),
    }
    return out


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
    config: ResearchConfig, loaded: LoadedData, *, progress: Progress | None = None
) -> SweepRun:
    """Every parameter set of the sweep, run in this process."""
    strategy, sets = param_sets(config)
    return _run_sets(config, loaded, strategy, sets, progress)


def _run_sets(
    config: ResearchConfig,
    loaded: LoadedData,
    strategy: VectorStrategy,
    sets: ParamSets,
    progress: Progress | None,
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
    return _report(config, loaded, run, registry_folder, _sweep_trial_ids(config, run.sets))


def _report(
    config: ResearchConfig,
    loaded: LoadedData,
    run: SweepRun,
    registry_folder: Path | None,
    ids: list[str],
) -> SweepReport:
    """:func:`report_sweep` with the trial ids of ``run.sets`` made already."""
    strategy, sets, result = run.strategy, run.sets, run.result
    objective = config.sweep.objective
    ranking = rank_trials(result, objective)
    best = int(ranking[0])
    key = TrialKey.of(strategy.name, loaded.bars.markets, loaded.data_versions)
    blocks = config.sweep.pbo_blocks if _pbo_possible(result, config.sweep.pbo_blocks) else 1
    stats = return_statistics(result.returns[1:], blocks)  # one read of the returns
    # The PBO kernel releases the interpreter: it runs in a thread while this one records
    # the trials and checks for look-ahead (Python work), instead of one after the other.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pbo = pool.submit(overfitting_of_statistics, stats) if blocks > 1 else None
        n_obs = int(result.returns.shape[0] - 1)
        records = trial_records(
            sets, ids, result.sharpe, stats.sharpe_per_bar, n_obs=n_obs, sweep_id=config_id(config)
        )
        log = record_trials(key, records, registry_folder)
        lookahead = lookahead_diagnostics(strategy, result.params[best], loaded, config)
        diagnostics = _diagnostics(result, best, log, None if pbo is None else pbo.result())
    diagnostics["lookahead"] = lookahead
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
) -> SweepReport:
    """Run the sweep here, record its trials, and diagnose the choice of the best.

    The sweep's kernels release the interpreter, so the trial ids (hashing, Python work) are
    made in a thread meanwhile rather than after it."""
    strategy, sets = param_sets(config)
    with ThreadPoolExecutor(max_workers=1) as pool:
        ids = pool.submit(_sweep_trial_ids, config, sets)
        run = _run_sets(config, loaded, strategy, sets, progress)
        return _report(config, loaded, run, registry_folder, ids.result())


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


def run_config_walkforward(
    config: ResearchConfig,
    loaded: LoadedData,
    *,
    progress: Progress | None = None,
    registry_folder: Path | None = None,
) -> WalkForwardResult:
    """Walk forward over the sweep's parameter sets as the ``walkforward:`` block says, and
    record every in-sample trial in the trial registry: each window chose among them, so the
    Deflated Sharpe Ratio of a later choice must count them."""
    walk = config.walkforward
    if walk is None:
        raise ResearchError("the configuration has no walkforward: block")
    strategy, sets = param_sets(config)
    try:
        windows = plan_windows(
            loaded.bars.n_bars,
            in_sample=walk.in_sample_bars,
            out_of_sample=walk.out_of_sample_bars,
            mode=walk.mode,
            warmup=walk.warmup_bars,
        )
    except ValueError as exc:
        raise ResearchError(f"walkforward: {exc}") from None
    result = run_walkforward(
        market_data(loaded),
        strategy=strategy,
        params_list=sets.params,
        config=simulation_of(config),
        windows=windows,
        objective=walk.objective,
        periods_per_year=periods_per_year(loaded),
        workers=sweep_workers(config, loaded),
        progress=progress,
    )
    key = TrialKey.of(strategy.name, loaded.bars.markets, loaded.data_versions)
    record_trials(key, walkforward_records(config, sets, result, loaded.bars.ts), registry_folder)
    return result


def walkforward_records(
    config: ResearchConfig, sets: ParamSets, result: WalkForwardResult, ts: npt.NDArray[np.int64]
) -> list[TrialRecord]:
    """The in-sample trials of every window: each parameter set over the window's in-sample
    bars (its period, hence its trial id, is the window's first and last in-sample day)."""
    sweep_id = config_id(config)
    records: list[TrialRecord] = []
    for o in result.outcomes:
        w = o.window
        context = trial_context(config, _day(ts[w.is_start]), _day(ts[w.is_end - 1]))
        ids = trial_ids_of_texts(sets.texts, context)
        records += trial_records(
            sets,
            ids,
            o.trial_sharpes,
            o.trial_sharpes_per_bar,
            n_obs=o.trial_n_obs,
            sweep_id=sweep_id,
        )
    return records


def walkforward_tables(result: WalkForwardResult, ts: npt.NDArray[np.int64]) -> dict[str, Any]:
    """The per-window table and the stitched OOS equity as pyarrow tables."""
    import pyarrow as pa

    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "window",
            "is_start",
            "is_end",
            "oos_start",
            "oos_end",
            "is_objective",
            "oos_sharpe",
            "oos_return",
        )
    }
    chosen: list[dict[str, Any]] = []
    for o in result.outcomes:
        w = o.window
        for name, value in (
            ("window", w.index),
            ("is_start", _day(ts[w.is_start])),
            ("is_end", _day(ts[w.is_end - 1])),
            ("oos_start", _day(ts[w.oos_start])),
            ("oos_end", _day(ts[w.oos_end - 1])),
            ("is_objective", o.is_objective),
            ("oos_sharpe", o.oos_sharpe),
            ("oos_return", o.oos_return),
        ):
            rows[name].append(value)
        chosen.append(o.params.model_dump(mode="json"))
    for name in chosen[0]:
        rows[f"param_{name}"] = [c[name] for c in chosen]
    first = result.outcomes[0].window.oos_start - 1  # the equity curve starts a bar early
    stamps = np.concatenate([[ts[first]], result.ts])
    equity = pa.table(
        {
            "ts": pa.array(stamps).cast(pa.timestamp("ns", tz="UTC")),
            "equity": result.equity,
        }
    )
    return {"windows": pa.table(rows), "oos_equity": equity}


def _day(ns: np.int64) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[D]"))


def write_walkforward_report(
    result: WalkForwardResult, loaded: LoadedData, folder: Path
) -> list[Path]:
    """``windows.csv`` (chosen parameters per window), ``oos_equity.parquet`` and
    ``walkforward.json`` (OOS figures and parameter stability)."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    tables = walkforward_tables(result, loaded.bars.ts)
    paths = [folder / "windows.csv", folder / "oos_equity.parquet", folder / "walkforward.json"]
    pcsv.write_csv(tables["windows"], paths[0])
    pq.write_table(tables["oos_equity"], paths[1])
    summary = {
        "objective": result.objective,
        "windows": len(result.outcomes),
        "oos_sharpe": _finite(result.sharpe),
        "oos_total_return": result.total_return,
        "oos_max_drawdown": result.max_drawdown,
        "stability": result.stability,
        "data_versions": dict(loaded.data_versions),
    }
    paths[2].write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return paths
