"""Contango's engine against PyBroker on the same moving-average crossover: time per backtest
and the largest disagreement, on 10 years of seeded synthetic daily ES bars.

Both engines run fast 10 / slow 50, 1 contract, long and short, fills at the next open, $2.50
per contract per side, no slippage. Prints figures; asserts nothing about time.

    .venv/bin/python benchmarks/bench_pybroker.py [--bars 2520] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from contango.engine.bars import Bars
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.run import run_backtest
from contango.engine.templates.ma_crossover import MACrossover, MACrossoverParams
from contango.integrations.pybroker_bridge import PYBROKER_VERSION
from contango.integrations.pybroker_crosscheck import cross_check_ma_crossover

ES = MarketSpec(
    name="ES",
    point_value=50.0,
    tick_size=0.25,
    initial_margin=15_000.0,
    maintenance_margin=13_500.0,
    commission=2.0,
    exchange_fee=0.5,
)
PARAMS = MACrossoverParams(fast_window=10, slow_window=50, sizing="fixed", contracts=1)
CONFIG = SimulationConfig(capital=10_000_000.0)


def random_walk_bars(n: int, seed: int) -> Bars:
    """Daily ES-like bars on the tick grid, opens gapped away from the previous close."""
    rng = np.random.default_rng(seed)
    close = np.round((4_000.0 + np.cumsum(rng.normal(0.0, 40.0, n))) / 0.25) * 0.25
    open_ = np.round((np.roll(close, 1) + rng.normal(0.0, 10.0, n)) / 0.25) * 0.25
    open_[0] = close[0]
    ts = (np.datetime64("2015-01-02", "ns") + np.arange(n) * np.timedelta64(1, "D")).astype(
        np.int64
    )
    high, low = np.maximum(open_, close) + 1.0, np.minimum(open_, close) - 1.0
    panel = [a.reshape(n, 1) for a in (open_, high, low, close)]
    return Bars(ts, ("ES",), *panel, volume=np.full((n, 1), 1_000.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=2_520, help="Daily bars (default 10 years).")
    parser.add_argument("--repeats", type=int, default=3, help="Timed runs of each engine.")
    args = parser.parse_args()
    bars = random_walk_bars(args.bars, seed=42)
    cross_check_ma_crossover(bars, ES, PARAMS, CONFIG)  # warm-up: compile, import

    contango_s = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        run_backtest(bars, [ES], strategy=MACrossover(), params=PARAMS, config=CONFIG)
        contango_s.append(time.perf_counter() - start)
    both_s = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        check = cross_check_ma_crossover(bars, ES, PARAMS, CONFIG)
        both_s.append(time.perf_counter() - start)

    best_contango, best_both = min(contango_s), min(both_s)
    trades = check.contango_trades
    print(f"PyBroker {PYBROKER_VERSION}; {args.bars} bars, {len(trades)} closed trades")
    print(f"Contango run_backtest:           {best_contango * 1e3:9.1f} ms")
    print(f"PyBroker + conversion + metrics: {(best_both - best_contango) * 1e3:9.1f} ms")
    print(f"cross-check total (both engines): {best_both * 1e3:8.1f} ms")
    print(f"largest equity difference:       {check.largest_equity_difference():.6f} USD")
    worst = max(check.metric_differences().values())
    print(f"largest headline metric diff.:   {worst:.3g}")
    print(f"mismatches:                      {check.mismatches() or 'none'}")


if __name__ == "__main__":
    main()
