"""Engine speed: an always-in-the-market 10/50 MA crossover through ``run_backtest``.

One ES contract, next-bar-open fills, point value, fees and margin modelled. Prints the best
of several runs after the first compile, the peak memory of the 1-minute run (in a child
process), and the time a fresh process with the kernels cached on disk needs for its first
backtest. Goals: daily 10y <= 1 ms; 1-minute 10y (3.5 M bars) <= 45 ms and <= 600 MB;
50 markets x 10y daily <= 5 ms; fresh process < 1.5 s. A fused numba loop that only does the
arithmetic of this one strategy (no checks, records or per-bar account series) is the floor
each figure is compared with.

Run: ``.venv/bin/python benchmarks/bench_engine.py [--quick]``
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
from numba import njit

from contango.engine.bars import Bars
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.run import run_backtest

ES = MarketSpec(
    name="ES",
    point_value=50.0,
    tick_size=0.25,
    initial_margin=12_000.0,
    maintenance_margin=11_000.0,
    commission=2.0,
    exchange_fee=1.38,
)
# Capital large enough that ten years of round-trip costs never exhaust the margin: a busted
# account would turn every bar into a rejected order and measure something else.
CONFIG = SimulationConfig(capital=20_000_000.0, slippage_ticks=1.0)
MINUTE_NS = 60_000_000_000


def make_bars(n: int, m: int, seed: int = 1) -> Bars:
    """A geometric random walk per market from 4000 (about 16% a year over the bars)."""
    rng = np.random.default_rng(seed)
    step = 0.16 / np.sqrt(n / 10.0)  # ten years of bars
    close = 4000.0 * np.exp(np.cumsum(rng.normal(0.0, step, (n, m)), axis=0))
    open_ = np.vstack([close[:1], close[:-1]])
    spread = np.abs(rng.normal(0.0, 1.0, (n, m))) * close * step
    return Bars(
        ts=np.arange(n, dtype=np.int64) * MINUTE_NS,
        markets=tuple(f"M{j}" for j in range(m)),
        open=open_,
        high=np.maximum(open_, close) + spread,
        low=np.minimum(open_, close) - spread,
        close=close,
        volume=np.full((n, m), 1000.0),
    )


def ma_crossover(close: np.ndarray, fast: int = 10, slow: int = 50) -> np.ndarray:
    """+1 when the fast mean is above the slow mean, else -1 (NaN until both exist)."""
    sums = np.cumsum(close, axis=0)

    def mean(w: int) -> np.ndarray:
        out = np.full_like(close, np.nan)
        out[w - 1] = sums[w - 1] / w
        out[w:] = (sums[w:] - sums[:-w]) / w
        return out

    targets = np.where(mean(fast) > mean(slow), 1.0, -1.0)
    targets[: slow - 1] = np.nan
    return targets


@njit(cache=True)
def fused_floor_nb(
    open_: np.ndarray, close: np.ndarray, targets: np.ndarray, pv: float, fee: float
) -> np.ndarray:
    """The least work any simulator must do for this strategy: no checks, no records."""
    n, m = close.shape
    equity = np.full(n, 1_000_000.0)
    for j in range(m):
        cash, pos, avg = 0.0, 0.0, 0.0
        for t in range(n):
            if t > 0 and not np.isnan(targets[t - 1, j]) and targets[t - 1, j] != pos:
                trade = targets[t - 1, j] - pos
                price = open_[t, j]
                cash += pos * (price - avg) * pv - abs(trade) * fee
                pos, avg = targets[t - 1, j], price
            equity[t] += cash + pos * (close[t, j] - avg) * pv
    return equity


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000.0 * min(times)


def workload(label: str, n: int, m: int, goal_ms: float, repeat: int) -> None:
    """Print the best time of ``run_backtest``, its goal and its ratio to the fused floor."""
    bars = make_bars(n, m)
    specs = [ES.model_copy(update={"name": name}) for name in bars.markets]
    targets = ma_crossover(bars.close)
    strat_ms = best_ms(lambda: ma_crossover(bars.close), repeat)
    ms = best_ms(lambda: run_backtest(bars, specs, targets=targets, config=CONFIG), repeat)
    result = run_backtest(bars, specs, targets=targets, config=CONFIG)
    floor = best_ms(lambda: fused_floor_nb(bars.open, bars.close, targets, 50.0, 3.38), repeat)
    verdict = "ok" if ms <= goal_ms else "SHORT"
    print(
        f"{label:<34} {ms:9.3f} ms  goal <= {goal_ms:g} ms {verdict:<5}  "
        f"{ms / floor:5.1f}x the fused floor ({floor:.3f} ms)  "
        f"targets {strat_ms:.3f} ms  trades {result.trades.shape[0]}",
        flush=True,
    )


_CHILD_MEMORY = """
import resource, sys
sys.path.insert(0, "benchmarks")
from bench_engine import CONFIG, ES, make_bars, ma_crossover
from contango.engine.run import run_backtest
import gc
bars = make_bars(3_500_000, 1)
targets = ma_crossover(bars.close)
gc.collect()
with open("/proc/self/statm") as f:
    before = int(f.read().split()[1]) * resource.getpagesize() / 2**20
run_backtest(bars, [ES.model_copy(update={"name": "M0"})], targets=targets, config=CONFIG)
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""

_CHILD_MINUTE = """
import sys, time
sys.path.insert(0, "benchmarks")
from bench_engine import CONFIG, ES, make_bars, ma_crossover
from contango.engine.run import run_backtest
bars = make_bars(3_500_000, 1)
specs = [ES.model_copy(update={"name": "M0"})]
targets = ma_crossover(bars.close)
times = []
for _ in range(9):  # the first run loads the compiled kernels
    start = time.perf_counter()
    run_backtest(bars, specs, targets=targets, config=CONFIG)
    times.append(time.perf_counter() - start)
print(1000 * min(times[1:]))
"""

_CHILD_FIRST_RUN = """
import time
start = time.perf_counter()
import numpy as np
from contango.engine.bars import Bars
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.run import run_backtest
n = 2520
close = 4000.0 + np.arange(n) % 37.0
bars = Bars(ts=np.arange(n, dtype=np.int64) * 86_400_000_000_000, markets=("ES",),
            open=close[:, None], high=close[:, None] + 1, low=close[:, None] - 1,
            close=close[:, None], volume=np.full((n, 1), 1e5))
targets = np.where(np.arange(n) % 40 < 20, 1.0, -1.0)[:, None]
run_backtest(bars, [MarketSpec(name="ES", point_value=50, tick_size=0.25)], targets=targets,
             config=SimulationConfig())
print(time.perf_counter() - start)
"""


def child(code: str, env: dict[str, str] | None = None) -> list[float]:
    """Run ``code`` in a fresh interpreter; the numbers on its last line of output."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child process failed:\n{out.stderr}")
    return [float(x) for x in out.stdout.strip().splitlines()[-1].split()]


def main() -> None:
    quick = "--quick" in sys.argv
    print("engine benchmark (best of several runs, after the first compile)")
    workload("10y daily, 1 market (2,520 bars)", 2_520, 1, 1.0, 50)
    workload("10y daily, 50 markets", 2_520, 50, 5.0, 20)
    if not quick:
        workload("10y 1-minute, 1 market (3.5 M)", 3_500_000, 1, 45.0, 8)
        alone = child(_CHILD_MINUTE)[0]
        verdict = "ok" if alone <= 45.0 else "SHORT"
        print(
            f"{'  the same, a process running only it':<34} {alone:9.3f} ms  goal <= 45 ms "
            f"{verdict:<5}  (the line above ran after other workloads: the memory allocator "
            "then hands out fresh pages that the kernel must zero)"
        )
        resident, peak = child(_CHILD_MEMORY)
        verdict = "ok" if peak <= 600 else "SHORT"
        print(
            f"{'peak memory, 1-minute run':<34} {peak:9.1f} MB  goal <= 600 MB {verdict:<5}  "
            f"(whole process; {resident:.0f} MB resident before the run: data, numba, LLVM)"
        )
    as_set_up = 1000 * child(_CHILD_FIRST_RUN)[0]
    with tempfile.TemporaryDirectory() as pycache:
        # Bytecode cached like the kernels: an interpreter told not to write bytecode (and a
        # venv installed without it) compiles numba's and pandas' sources on every start.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pycache
        child(_CHILD_FIRST_RUN, env)
        first = 1000 * min(child(_CHILD_FIRST_RUN, env)[0] for _ in range(3))
    verdict = "ok" if first < 1500 else "SHORT"
    print(
        f"{'fresh process, first backtest':<34} {first:9.1f} ms  goal < 1500 ms {verdict:<5}  "
        f"(imports included, kernels and bytecode cached on disk; {as_set_up:.0f} ms in this "
        "interpreter as set up)"
    )


if __name__ == "__main__":
    main()
