"""Walk-forward runs from a research configuration: the windows, the run, the in-sample trials
recorded in the trial registry, and the files written.

Sweeps are in ``contango.services.research``; the computation itself is in
``contango.research.walkforward``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from contango.engine.batch import Progress
from contango.engine.metrics import years_between
from contango.research.config import ResearchConfig
from contango.research.sweep import ParamSets
from contango.research.trials import TrialKey, TrialRecord, trial_ids_of_texts
from contango.research.walkforward import (
    MarketData,
    WalkForwardResult,
    plan_windows,
    run_walkforward,
)
from contango.services.backtest_data import LoadedData
from contango.services.research import (
    ResearchError,
    param_sets,
    simulation_of,
    sweep_workers,
)
from contango.services.trials import config_id, record_trials, trial_context, trial_records


def market_data(loaded: LoadedData) -> MarketData:
    """The loaded data as the research functions take it."""
    return MarketData(
        bars=loaded.bars, specs=loaded.specs, contracts=loaded.contracts, fx=loaded.fx or None
    )


def periods_per_year(loaded: LoadedData) -> float:
    """Bars per calendar year of the loaded data (about 252 for daily futures bars)."""
    years = years_between(loaded.bars.ts)
    return (loaded.bars.n_bars - 1) / years if years > 0 else 252.0


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


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


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
