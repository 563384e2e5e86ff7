"""Overfitting diagnostics, the trial registry and the look-ahead check: how long they add to
a sweep, and the whole configured sweep in backtests per second with its diagnostics.

On 10 years of seeded synthetic daily returns / bars (never the user's data folder):
PBO by CSCV over S = 16 blocks (12,870 splits) of 2,518 bars x 1,590 trials, the compiled
kernel against its NumPy twin; the Deflated Sharpe Ratio of the best trial; recording 1,590
trials in a fresh registry and again (an identical re-run); the look-ahead check (20 cuts) of
the moving-average crossover; and ``run_config_sweep`` of the 1,590-set crossover grid (sweep,
registry, DSR, PBO, look-ahead). Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_research.py [--repeats 3] [--skip-twin]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from bench_sweep import ES, random_walk_bars
from contango.engine.templates import MACrossover, MACrossoverParams
from contango.research.config import parse_research_config
from contango.research.lookahead import find_lookahead, sizing_from_specs
from contango.research.overfitting import (
    deflated_sharpe_of_returns,
    probability_of_backtest_overfitting,
    probability_of_backtest_overfitting_reference,
)
from contango.research.return_stats import sharpe_per_bar
from contango.research.trials import TrialKey, TrialRecord, trial_ids_of_texts
from contango.services.backtest_data import LoadedData
from contango.services.research import param_sets, run_config_sweep
from contango.services.trials import record_trials, trial_context, trial_records

N_BARS = 2_518  # 10 years of daily bars, as the sample ES.1d from 2016
N_TRIALS = 1_590  # the crossover grid of bench_sweep
T = TypeVar("T")

SWEEP_YAML = """
name: bench-sweep
markets:
  - {root: ES, dataset: ES.1d, mode: continuous, adjustment: difference,
     commission: 2.0, exchange_fee: 1.38}
strategy:
  name: ma_crossover
  params: {sizing: fixed, contracts: 2}
simulation: {capital: 1000000, slippage_ticks: 1}
sweep:
  objective: sharpe
  pbo_blocks: 16
  params:
    fast_window: {grid: {start: 5, stop: 50, step: 1}}
    slow_window: {grid: {start: 20, stop: 200, step: 5}}
"""


def best_of(repeats: int, work: Callable[[], T]) -> tuple[float, T]:
    """The fastest of ``repeats`` runs (seconds) and the last result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = work()
        times.append(time.perf_counter() - start)
    return min(times), out


def bench_pbo(returns: np.ndarray, repeats: int, twin: bool) -> None:
    """PBO of the kernel (after one compiling call) and, once, of the NumPy twin."""
    probability_of_backtest_overfitting(returns[:64, :4], n_blocks=16)
    seconds, out = best_of(repeats, lambda: probability_of_backtest_overfitting(returns, 16))
    shape = f"{returns.shape[0]:,} bars x {returns.shape[1]:,} trials, 16 blocks"
    print(
        f"PBO kernel, {shape} ({out.logits.size:,} splits): {seconds * 1e3:.0f} ms, "
        f"PBO {out.pbo:.3f} (noise: about 0.5)"
    )
    if twin:
        seconds, ref = best_of(1, lambda: probability_of_backtest_overfitting_reference(returns))
        same = np.array_equal(ref.logits, out.logits)
        print(f"PBO NumPy twin, {shape}: {seconds * 1e3:.0f} ms, same logits: {same}")


def bench_dsr(returns: np.ndarray, repeats: int) -> None:
    """DSR of the best trial, from the per-bar Sharpe ratios of all."""

    def dsr() -> float:
        sharpes = sharpe_per_bar(returns)
        best = returns[:, int(np.nanargmax(sharpes))]
        return deflated_sharpe_of_returns(best, n_trials=N_TRIALS, trial_sharpes=sharpes).dsr

    seconds, value = best_of(repeats, dsr)
    print(
        f"DSR of the best of {N_TRIALS:,} (Sharpe ratios included): {seconds * 1e3:.1f} ms, "
        f"DSR {value:.3f}"
    )


def bench_registry(returns: np.ndarray, repeats: int) -> None:
    """The sweep's parameter sets, their trial ids and records (as the sweep service builds
    them), written to a fresh registry, then re-recorded (an identical re-run)."""
    config, _ = parse_research_config(SWEEP_YAML, "bench")
    seconds, (_, sets) = best_of(repeats, lambda: param_sets(config))
    print(f"parameter sets (validated, dumped, canonical texts), {len(sets.params):,}: "
          f"{seconds * 1e3:.1f} ms")  # fmt: skip
    context = trial_context(config, "2016-01-04", "None")
    seconds, ids = best_of(repeats, lambda: trial_ids_of_texts(sets.texts, context))
    print(f"trial ids, {len(ids):,} trials: {seconds * 1e3:.1f} ms")
    per_bar = sharpe_per_bar(returns)

    def records() -> Sequence[TrialRecord]:
        return trial_records(
            sets, ids, per_bar * math.sqrt(252), per_bar, n_obs=N_BARS, sweep_id="bench"
        )

    key = TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "synthetic"})
    seconds, recs = best_of(repeats, records)
    print(f"trial records, {len(recs):,} trials: {seconds * 1e3:.1f} ms")
    with tempfile.TemporaryDirectory() as folder:
        first = []
        for i in range(repeats):
            fresh = Path(folder) / str(i)
            start = time.perf_counter()
            record_trials(key, recs, fresh)
            first.append(time.perf_counter() - start)
        again, log = best_of(repeats, lambda: record_trials(key, recs, fresh))
    print(
        f"registry write, {len(recs):,} trials: {min(first) * 1e3:.1f} ms new, "
        f"{again * 1e3:.1f} ms identical re-run (log of {log.n_trials:,})"
    )


def bench_lookahead(rng: np.random.Generator) -> None:
    """The look-ahead check of one parameter set (20 cuts)."""
    bars = random_walk_bars(N_BARS, seed=3)
    params = MACrossoverParams(fast_window=20, slow_window=100)
    sizing = sizing_from_specs([ES], 250_000.0)
    MACrossover().targets(bars, params, sizing)  # compile first
    start = time.perf_counter()
    report = find_lookahead(MACrossover(), params, bars, sizing, rng=rng)
    print(
        f"look-ahead check, ma_crossover, {N_BARS:,} bars, {len(report.cut_bars)} cuts: "
        f"{(time.perf_counter() - start) * 1e3:.0f} ms, clean={report.clean}"
    )


def bench_config_sweep(repeats: int) -> None:
    """``run_config_sweep`` on synthetic ES bars, each run into a fresh registry."""
    config, _ = parse_research_config(SWEEP_YAML, "bench")
    loaded = LoadedData(
        bars=random_walk_bars(N_BARS, seed=7),
        specs=[ES],
        contracts=None,
        fx={},
        data_versions={"ES.1d": "synthetic"},
    )
    with tempfile.TemporaryDirectory() as folder:
        run_config_sweep(config, loaded, registry_folder=Path(folder) / "warm-up")
        runs = iter(range(repeats))
        seconds, report = best_of(
            repeats,
            lambda: run_config_sweep(
                config, loaded, registry_folder=Path(folder) / str(next(runs))
            ),
        )
    n = report.result.n_trials
    pbo = report.diagnostics["pbo"]["pbo"]
    print(
        f"run_config_sweep, {n:,} trials x {N_BARS:,} bars (sweep, registry, DSR, PBO 16 "
        f"blocks, look-ahead): {seconds * 1e3:.0f} ms = {n / seconds:,.0f} backtests/s, "
        f"PBO {pbo:.3f}"
    )


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (best is shown)")
    parser.add_argument("--skip-twin", action="store_true", help="do not time the NumPy twin")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    returns = rng.normal(0.0, 0.01, (N_BARS, N_TRIALS))
    bench_pbo(returns, args.repeats, twin=not args.skip_twin)
    bench_dsr(returns, args.repeats)
    bench_registry(returns, args.repeats)
    bench_lookahead(rng)
    bench_config_sweep(args.repeats)


if __name__ == "__main__":
    main()
