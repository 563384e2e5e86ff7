"""``run_backtest``: the public entry point of the vectorized (fast) path.

Targets come from a :class:`~contango.engine.strategy.VectorStrategy`, or as a raw ``(n, m)``
array of target contracts (NaN = keep), or as contracts to trade per bar
(``order_size="delta"``). Two ways to trade a market:

* ``contract_mode="continuous"``: the Bars hold a back-adjusted continuous series; P&L is the
  series' price changes; no rolls are traded (their cost can be modelled with fees).
* ``contract_mode="contracts"``: the Bars hold the raw prices of the active contract and a
  :class:`~contango.engine.bars.ContractPanel` says which contract is active on each bar; the
  simulator rolls positions (both legs' costs charged, reported in the roll report) and never
  holds a contract past its expiry bar.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

import contango
from contango.engine.bars import Bars, ContractPanel
from contango.engine.config import MarketSpec, SimulationConfig, config_hash
from contango.engine.inputs import build_data, build_markets, build_params
from contango.engine.kernels import records_nb as rec
from contango.engine.kernels.checks_nb import any_infinite_nb
from contango.engine.kernels.orders_nb import new_book
from contango.engine.kernels.simulate_nb import simulate_nb
from contango.engine.kernels.state_nb import (
    MarketConsts,
    SimData,
    SimState,
    new_state,
    records_needed,
)
from contango.engine.result import BacktestResult, MarginBasis
from contango.engine.strategy import SizingContext, VectorStrategy

F64 = npt.NDArray[np.float64]
Records = npt.NDArray[np.void]


class StrategyError(RuntimeError):
    """A strategy raised; says which strategy, bar and market, and keeps the traceback."""

    def __init__(
        self,
        message: str,
        *,
        bar: int | None = None,
        market: str | None = None,
        traceback_text: str = "",
    ) -> None:
        super().__init__(message)
        self.bar = bar
        self.market = market
        self.traceback_text = traceback_text


def sizing_context(data: SimData, mk: MarketConsts, capital: float) -> SizingContext:
    """What a vectorized strategy may size with: money converted at the first bar's FX."""
    fx0 = np.array([1.0 if c < 0 else data.fx[0, c] for c in mk.fx_col])
    return SizingContext(
        capital=capital,
        point_value=mk.point_value * fx0,
        tick_size=mk.tick_size.copy(),
        initial_margin=mk.initial_margin * fx0,
    )


def strategy_targets(
    strategy: VectorStrategy, bars: Bars, params: BaseModel, sizing: SizingContext
) -> F64:
    """Call the strategy; a failure becomes a :class:`StrategyError` with its traceback."""
    import traceback

    try:
        return strategy.targets(bars, params, sizing)
    except Exception as exc:  # a user strategy can raise anything; report it with context
        raise StrategyError(
            f"strategy {strategy.name!r} raised {type(exc).__name__}: {exc}",
            traceback_text=traceback.format_exc(),
        ) from exc


def check_targets(targets: F64, bars: Bars) -> F64:
    """``targets`` as a contiguous float64 ``(n_bars, n_markets)`` array with no infinities."""
    array = np.ascontiguousarray(targets, dtype=np.float64)
    if array.shape != (bars.n_bars, bars.n_markets):
        raise ValueError(
            f"targets have shape {array.shape}, expected (n_bars, n_markets) = "
            f"({bars.n_bars}, {bars.n_markets})"
        )
    if any_infinite_nb(array.reshape(-1)):
        t, j = (int(v) for v in np.argwhere(np.isinf(array))[0])
        raise ValueError(f"targets are infinite at bar {t}, market {bars.markets[j]}")
    return array


def _trimmed(records: Records, count: int) -> Records:
    """The first ``count`` records of a kernel's buffer.

    The buffer is shrunk in place: ``realloc`` hands the untouched tail back without copying
    what was written (a copy of a million trades would cost milliseconds). Only the
    simulation state refers to these buffers, and it is discarded with the run.
    """
    if records.flags.owndata and records.base is None:
        records.resize(count, refcheck=False)
        return records
    return records[:count].copy()


def collect_result(
    state: SimState,
    bars: Bars,
    config: SimulationConfig,
    *,
    data: SimData,
    mk: MarketConsts,
    run_config: Mapping[str, Any] | None,
    data_versions: Mapping[str, str] | None,
    seed: int,
    contracts: ContractPanel | None,
) -> BacktestResult:
    """Trim the record buffers to what was written and attach provenance."""
    counts = state.counts
    recorded = (
        dict(run_config)
        if run_config is not None
        else {"simulation": config.model_dump(mode="json")}
    )
    return BacktestResult(
        ts=np.asarray(bars.ts, dtype=np.int64),
        markets=tuple(bars.markets),
        equity=state.equity,
        cash=state.cash,
        exposure=state.exposure,
        margin_basis=MarginBasis(mk.initial_margin, data.fx, mk.fx_col),
        fills=_trimmed(state.fills, int(counts[rec.N_FILLS])),
        trades=_trimmed(state.trades, int(counts[rec.N_TRADES])),
        rejections=_trimmed(state.rejects, int(counts[rec.N_REJECTS])),
        margin_calls=_trimmed(state.calls, int(counts[rec.N_CALLS])),
        rolls=_trimmed(state.rolls, int(counts[rec.N_ROLLS])),
        interest=float(state.acct[rec.INTEREST]),
        capital=float(config.capital),
        account_currency=config.account_currency,
        config=recorded,
        config_hash=config_hash(recorded),
        engine_version=contango.__version__,
        seed=seed,
        data_versions=dict(data_versions or {}),
        contract_names=contracts.names if contracts is not None else (),
    )


def run_backtest(
    bars: Bars,
    markets: Sequence[MarketSpec],
    *,
    targets: F64 | None = None,
    strategy: VectorStrategy | None = None,
    params: BaseModel | None = None,
    config: SimulationConfig | None = None,
    contracts: ContractPanel | None = None,
    fx: Mapping[str, F64] | None = None,
    atr: F64 | None = None,
    data_versions: Mapping[str, str] | None = None,
    seed: int = 0,
    run_config: Mapping[str, Any] | None = None,
) -> BacktestResult:
    """Simulate ``bars`` traded to ``targets`` (or a strategy's targets) in one account.

    ``fx`` maps each non-account currency to an ``(n,)`` series of account currency per unit;
    ``atr`` overrides the ATR used for ATR slippage; ``data_versions``, ``seed`` and
    ``run_config`` (the full configuration, default: ``config``) are recorded in the result,
    whose ``config_hash`` is the sha256 of the configuration's canonical JSON.
    """
    config = config or SimulationConfig()
    # Sized before the checks; a malformed ``ts`` gets a zero-bar state and build_data's error.
    n, m = (bars.n_bars if np.ndim(bars.ts) == 1 else 0), bars.n_markets
    capacity = 2 * n * m + 64  # allocated, never zeroed: untouched pages cost no memory
    # The account's buffers are taken before the inputs are checked: in that order glibc's
    # allocator more often hands back memory a previous run freed, instead of fresh pages the
    # kernel must zero on first write (10-15 ms of a 3.5 M-bar run when it does not).
    state = new_state(n, m, config.capital, capacity)
    data = build_data(bars, markets, config, contracts=contracts, fx=fx, atr=atr)
    mk = build_markets(bars, markets, config, fx)
    if (targets is None) == (strategy is None):
        raise ValueError("give exactly one of targets= or strategy=")
    if strategy is not None:
        chosen = params if params is not None else strategy.Params()
        targets = strategy_targets(strategy, bars, chosen, sizing_context(data, mk, config.capital))
    assert targets is not None  # for the type checker: set by one branch above
    orders = check_targets(targets, bars)
    while True:
        simulate_nb(data, mk, build_params(config), state, orders, new_book(0))
        if records_needed(state) <= capacity:
            break
        capacity = 2 * records_needed(state)
        state = new_state(n, m, config.capital, capacity)
    return collect_result(
        state,
        bars,
        config,
        data=data,
        mk=mk,
        run_config=run_config,
        data_versions=data_versions,
        seed=seed,
        contracts=contracts,
    )
