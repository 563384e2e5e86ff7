"""Figures for indicators, strategy templates, metrics and the bootstrap on synthetic data.

Run: ``.venv/bin/python benchmarks/bench_metrics.py`` (about 10-20 s). Each figure is the best of
a few repeats after a warm-up call (so numba compilation is not counted).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from contango.engine import bootstrap as bs
from contango.engine import indicators as ind
from contango.engine import metrics as mt
from contango.engine.bars import Bars
from contango.engine.strategy import SizingContext
from contango.engine.templates import get_template, list_templates

N_BARS, N_MARKETS = 10_000, 20  # ~40 years of daily bars on a 20-market portfolio


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def panel(rng: np.random.Generator) -> Bars:
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (N_BARS, N_MARKETS)), axis=0))
    close[rng.random(close.shape) < 0.02] = np.nan
    spread = np.abs(rng.normal(0, 0.5, close.shape))
    markets = (*(f"M{j}" for j in range(N_MARKETS - 2)), "CL1", "CL2")
    return Bars(
        ts=np.arange(N_BARS, dtype=np.int64) * 86_400 * 10**9,
        markets=markets,
        open=close,
        high=close + spread,
        low=close - spread,
        close=close,
        volume=np.ones_like(close),
        next_close=close * np.exp(rng.normal(0, 0.01, close.shape)),
    )


def main() -> None:
    rng = np.random.default_rng(0)
    bars = panel(rng)
    cells = N_BARS * N_MARKETS
    print(f"panel: {N_BARS:,} bars x {N_MARKETS} markets ({cells:,} cells)")
    c, h, lo = bars.close, bars.high, bars.low
    for name, fn in {
        "sma(50)": lambda: ind.sma(c, 50),
        "ema(50)": lambda: ind.ema(c, 50),
        "atr(20)": lambda: ind.atr(h, lo, c, 20),
        "rsi(14)": lambda: ind.rsi(c, 14),
        "donchian(55)": lambda: ind.donchian(h, lo, 55),
        "realized_volatility(25)": lambda: ind.realized_volatility(c, 25),
    }.items():
        t = best_of(fn)
        print(f"  {name:<26} {t * 1e3:8.1f} ms  {cells / t / 1e6:6.1f} M cells/s")

    sizing = SizingContext(
        capital=1e6,
        point_value=np.full(N_MARKETS, 50.0),
        tick_size=np.full(N_MARKETS, 0.25),
        initial_margin=np.full(N_MARKETS, 15_000.0),
    )
    overrides = {"calendar_spread": {"front_market": "CL1", "back_market": "CL2"}}
    print("templates (default parameters):")
    for info in list_templates():
        strategy = get_template(info.name)
        params = strategy.Params(**overrides.get(info.name, {}))
        t = best_of(lambda s=strategy, p=params: s.targets(bars, p, sizing))
        print(f"  {info.name:<26} {t * 1e3:8.1f} ms")

    n = N_BARS
    curve = mt.EquityCurve(
        ts=bars.ts,
        equity=1e6 * np.cumprod(1 + rng.normal(0.0003, 0.01, n)),
        traded_notional=rng.random(n) * 1e5,
        gross_exposure=rng.random(n) * 2e6,
    )
    k = 5_000
    trades = mt.TradeTable(
        market=rng.integers(0, N_MARKETS, k),
        pnl_net=rng.normal(100, 5_000, k),
        bars_held=rng.integers(1, 100, k),
    )
    print("metrics:")
    t = best_of(lambda: mt.compute_metrics(curve, trades, bars.markets))
    print(f"  compute_metrics {n:,} bars, {k:,} trades  {t * 1e3:8.1f} ms")
    t = best_of(lambda: mt.monthly_table(curve))
    print(f"  monthly_table                    {t * 1e3:8.1f} ms")
    eq = curve.equity[:2_520]
    t = best_of(
        lambda: bs.bootstrap_metrics(
            eq, np.random.default_rng(1), periods_per_year=252, n_resamples=1_000
        ),
        repeats=2,
    )
    print(f"  bootstrap 1,000 x 2,520 returns  {t * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
