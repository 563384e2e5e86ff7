"""Parameter-sweep throughput: backtests per second of ``run_sweep`` against a loop of
``run_backtest``, on 10 years of seeded synthetic daily bars of one market (ES).

The grid is the moving-average crossover's fast 5..50 (step 1) x slow 20..200 (step 5), fast < slow:
1,590 parameter sets. Prints figures; asserts nothing about time.

    .venv/bin/python benchmarks/bench_sweep.py [--naive-trials 200]
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numba
import numpy as np

from contango.engine.bars import Bars
from contango.engine.batch import run_sweep
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.run import run_backtest
from contango.engine.templates import MACrossover, MACrossoverParams

ES = MarketSpec(
    name="ES",
    point_value=50.0,
    tick_size=0.25,
    initial_margin=12_000.0,
    maintenance_margin=11_000.0,
    commission=2.0,
    exchange_fee=1.38,
)
N_BARS = 2_520  # ten years of trading days


def random_walk_bars(n: int, seed: int) -> Bars:
    """Daily ES-like bars: a random walk of closes, opens near the previous close."""
    rng = np.random.default_rng(seed)
    close = 4_000.0 + np.cumsum(rng.normal(0.0, 40.0, n))
    close = np.round(close / 0.25) * 0.25
    open_ = np.round((np.concatenate(([close[0]], close[:-1])) + rng.normal(0, 8, n)) / 0.25) * 0.25
    high = np.maximum(open_, close) + 0.25 * rng.integers(0, 40, n)
    low = np.minimum(open_, close) - 0.25 * rng.integers(0, 40, n)
    days = np.busday_offset("2014-01-02", np.arange(n), roll="forward")
    ts = days.astype("datetime64[ns]").astype(np.int64) + 21 * 3_600 * 10**9
    return Bars(
        ts=ts,
        markets=("ES",),
        open=open_[:, None],
        high=high[:, None],
        low=low[:, None],
        close=close[:, None],
        volume=np.full((n, 1), 1.5e6),
    )


def grid() -> list[MACrossoverParams]:
    """fast 5..50 (step 1) x slow 20..200 (step 5), fast < slow: 1,590 parameter sets."""
    return [
        MACrossoverParams(fast_window=f, slow_window=s, sizing="fixed", contracts=2)
        for f in range(5, 51)
        for s in range(20, 201, 5)
        if f < s
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--naive-trials", type=int, default=200, help="trials timed in the loop")
    parser.add_argument("--repeats", type=int, default=5, help="timed sweeps (best is shown)")
    args = parser.parse_args()
    bars = random_walk_bars(N_BARS, seed=7)
    params = grid()
    config = SimulationConfig(capital=1_000_000.0, slippage_ticks=1.0)
    strategy = MACrossover()
    print(f"{len(params)} parameter sets x {N_BARS} daily bars of one market")

    start = time.perf_counter()
    run_sweep(bars, [ES], strategy=strategy, params_list=params[:8], config=config)
    print(f"warm-up (compile or load cache): {time.perf_counter() - start:.2f} s")

    fastest = np.inf
    for workers in (1, None):
        best, cpu = np.inf, 0.0
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            result = run_sweep(
                bars, [ES], strategy=strategy, params_list=params, config=config, workers=workers
            )
            elapsed = time.perf_counter() - start
            if elapsed < best:
                best, cpu = elapsed, time.process_time() - start_cpu
        label = "1 thread" if workers == 1 else f"{numba.get_num_threads()} threads"
        print(
            f"run_sweep ({label}): {best * 1e3:.1f} ms wall, {cpu * 1e3:.1f} ms CPU -> "
            f"{len(params) / best:,.0f} backtests/s (fast path: {result.fast_path})"
        )
        fastest = min(fastest, best)
    load = os.getloadavg()[0]
    print(f"load average while timing: {load:.2f} on {os.cpu_count()} CPUs (other work slows it)")

    tracemalloc.start()
    run_sweep(bars, [ES], strategy=strategy, params_list=params, config=config)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"run_sweep peak traced memory: {peak / 2**20:.1f} MiB "
        f"(returns matrix alone: {result.returns.nbytes / 2**20:.1f} MiB)"
    )

    subset = params[: args.naive_trials]
    run_backtest(bars, [ES], strategy=strategy, params=subset[0], config=config)
    start = time.perf_counter()
    for p in subset:
        run_backtest(bars, [ES], strategy=strategy, params=p, config=config)
    naive = time.perf_counter() - start
    print(
        f"naive loop of run_backtest: {len(subset) / naive:,.0f} backtests/s "
        f"({len(subset)} trials); speed-up {naive / len(subset) / (fastest / len(params)):,.0f}x"
    )
    top = int(np.nanargmax(result.sharpe))
    print(
        f"best Sharpe {result.sharpe[top]:.3f} at {params[top].fast_window}/"
        f"{params[top].slow_window}"
    )


if __name__ == "__main__":
    main()
