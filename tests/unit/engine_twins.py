"""Run the same scenario through the numba kernel and the pure-Python reference.

Both return a :class:`Outcome` of plain lists, so a test written once checks both twins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from contango.engine.bars import Bars, ContractPanel
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.inputs import build_data, build_markets, build_params
from contango.engine.kernels import records_nb as rec
from contango.engine.reference import simulate_reference
from contango.engine.run import run_backtest

F64 = npt.NDArray[np.float64]
DAY_NS = 86_400_000_000_000

ES = MarketSpec(
    name="ES",
    point_value=50.0,
    tick_size=0.25,
    initial_margin=12_000.0,
    maintenance_margin=11_000.0,
)
CL = MarketSpec(
    name="CL",
    point_value=1_000.0,
    tick_size=0.01,
    initial_margin=6_000.0,
    maintenance_margin=5_500.0,
)
FESX = MarketSpec(
    name="FESX",
    point_value=10.0,
    tick_size=1.0,
    currency="EUR",
    initial_margin=3_500.0,
    maintenance_margin=3_200.0,
)


@dataclass
class Outcome:
    equity: F64
    cash: F64
    margin: F64
    exposure: F64
    positions: F64
    fills: list[dict[str, Any]]
    trades: list[dict[str, Any]]
    rejects: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    rolls: list[dict[str, Any]]
    interest: float


def make_bars(
    open_: Any,
    high: Any = None,
    low: Any = None,
    close: Any = None,
    volume: Any = None,
    markets: Sequence[str] = ("ES",),
    days: Any = None,
) -> Bars:
    """A daily panel; missing high/low/close default to the open (a flat bar)."""
    o = np.asarray(open_, dtype=np.float64).reshape(len(open_), -1)
    n = o.shape[0]

    def panel(x: Any, default: F64) -> F64:
        return default.copy() if x is None else np.asarray(x, dtype=np.float64).reshape(n, -1)

    c = panel(close, o)
    h = panel(high, np.fmax(o, c))
    lo = panel(low, np.fmin(o, c))
    v = panel(volume, np.full_like(o, 1e6))
    day = np.arange(n) if days is None else np.asarray(days)
    ts = (np.asarray(day, dtype=np.int64) + 19_000) * DAY_NS
    return Bars(ts=ts, markets=tuple(markets), open=o, high=h, low=lo, close=c, volume=v)


def _records(
    array: npt.NDArray[np.void], reason_field: str | None, names: tuple[str, ...]
) -> list[dict[str, Any]]:
    rows = []
    for r in array:
        row = {k: r[k].item() for k in array.dtype.names or ()}
        if reason_field:
            row[reason_field] = names[int(row[reason_field])]
        rows.append(row)
    return rows


def run_kernel(
    bars: Bars,
    markets: Sequence[MarketSpec],
    targets: Any,
    config: SimulationConfig,
    contracts: ContractPanel | None = None,
    fx: Mapping[str, F64] | None = None,
) -> Outcome:
    res = run_backtest(
        bars,
        markets,
        targets=np.asarray(targets, dtype=np.float64).reshape(bars.n_bars, -1),
        config=config,
        contracts=contracts,
        fx=fx,
    )
    return Outcome(
        equity=res.equity,
        cash=res.cash,
        margin=res.margin,
        exposure=res.exposure,
        positions=res.positions,
        fills=_records(res.fills, "reason", rec.EXIT_REASONS),
        trades=_records(res.trades, "exit_reason", rec.EXIT_REASONS),
        rejects=_records(res.rejections, "reason", rec.REJECT_REASONS),
        calls=_records(res.margin_calls, None, ()),
        rolls=_records(res.rolls, None, ()),
        interest=res.interest,
    )


def run_reference(
    bars: Bars,
    markets: Sequence[MarketSpec],
    targets: Any,
    config: SimulationConfig,
    contracts: ContractPanel | None = None,
    fx: Mapping[str, F64] | None = None,
) -> Outcome:
    data = build_data(bars, markets, config, contracts=contracts, fx=fx)
    out = simulate_reference(
        data,
        build_markets(bars, markets, config, fx),
        build_params(config),
        np.asarray(targets, dtype=np.float64).reshape(bars.n_bars, -1),
    )
    return Outcome(
        equity=np.array(out.equity),
        cash=np.array(out.cash),
        margin=np.array(out.margin),
        exposure=np.array(out.exposure),
        positions=np.array(out.positions),
        fills=out.fills,
        trades=out.trades,
        rejects=out.rejects,
        calls=out.calls,
        rolls=out.rolls,
        interest=out.interest,
    )


Twin = Callable[..., Outcome]
TWINS: dict[str, Twin] = {"kernel": run_kernel, "reference": run_reference}
