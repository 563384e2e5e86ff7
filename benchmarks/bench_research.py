"""Overfitting diagnostics and the look-ahead check: how long they add to a sweep.

PBO by CSCV over S = 16 blocks (12,870 splits) for 10 years of daily returns of 100 and 500
trials; the Deflated Sharpe Ratio of one trial; the look-ahead check (20 cuts) of the
moving-average crossover on 10 years of one market. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_research.py
"""

from __future__ import annotations

import time

import numpy as np

from contango.engine.bars import Bars
from contango.engine.config import MarketSpec
from contango.engine.templates import MACrossover, MACrossoverParams
from contango.research.lookahead import find_lookahead, sizing_from_specs
from contango.research.overfitting import (
    deflated_sharpe_of_returns,
    probability_of_backtest_overfitting,
    sharpe_per_bar,
)

ES = MarketSpec(name="ES", point_value=50.0, tick_size=0.25, initial_margin=12_000.0)
N_BARS = 2_520  # 10 years of daily bars


def _bars(rng: np.random.Generator) -> Bars:
    close = 4500.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, N_BARS)))[:, None]
    return Bars(
        ts=np.arange(N_BARS, dtype=np.int64) * 86_400 * 10**9,
        markets=("ES",),
        open=close,
        high=close * 1.002,
        low=close * 0.998,
        close=close,
        volume=np.full_like(close, 1_000.0),
    )


def main() -> None:
    """Print the timings."""
    rng = np.random.default_rng(0)
    for trials in (100, 500):
        returns = rng.normal(0.0, 0.01, (N_BARS, trials))
        start = time.perf_counter()
        out = probability_of_backtest_overfitting(returns, n_blocks=16)
        seconds = time.perf_counter() - start
        print(
            f"PBO, {N_BARS:,} bars x {trials} trials, 16 blocks ({out.logits.size:,} splits): "
            f"{seconds:.2f} s, PBO {out.pbo:.3f} (noise: about 0.5)"
        )
        start = time.perf_counter()
        sharpes = sharpe_per_bar(returns)
        dsr = deflated_sharpe_of_returns(
            returns[:, int(np.nanargmax(sharpes))], n_trials=trials, trial_sharpes=sharpes
        )
        print(
            f"DSR of the best of {trials}: {time.perf_counter() - start:.4f} s, DSR {dsr.dsr:.3f}"
        )
    bars = _bars(rng)
    params = MACrossoverParams(fast_window=20, slow_window=100)
    start = time.perf_counter()
    report = find_lookahead(
        MACrossover(), params, bars, sizing_from_specs([ES], 250_000.0), rng=rng
    )
    print(
        f"look-ahead check, ma_crossover, {N_BARS:,} bars, {len(report.cut_bars)} cuts: "
        f"{time.perf_counter() - start:.2f} s, clean={report.clean}"
    )


if __name__ == "__main__":
    MACrossover().targets(  # compile once, so the timing leaves JIT time out
        _bars(np.random.default_rng(1)),
        MACrossoverParams(),
        sizing_from_specs([ES], 250_000.0),
    )
    main()
