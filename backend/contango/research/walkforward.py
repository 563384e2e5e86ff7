"""Walk-forward optimisation: choose parameters on the past, trade them on what follows.

Windows, in bars (``IS`` = in-sample, ``OOS`` = out-of-sample)::

    rolling:   [ IS 0 ][OOS 0]                anchored:  [ IS 0 ][OOS 0]
                      [ IS 1 ][OOS 1]                    [   IS 1    ][OOS 1]
                             [ IS 2 ][OOS 2]             [      IS 2      ][OOS 2]

The OOS windows follow each other without gap or overlap from bar ``in_sample_bars`` on; the
last one may be shorter. In each window every parameter set is backtested on the IS bars and
the best by the objective is chosen.

The chosen parameters are then traded on the OOS bars. Their positions are re-derived for each
window: the strategy runs on ``warmup_bars`` bars before the OOS window plus the window itself
(so its moving averages and volatility estimates are warm on the first OOS bar), but its
targets are forced flat until the close of the bar before the window; the signal of that
close is what the first OOS bar trades (filled on the first OOS bar's open with the default
one-bar fill delay). Each window starts flat with the configured capital; the stitched OOS
equity compounds the windows' per-bar returns, so it reads as one account that re-sized at
each window's start. A fill at the close of the bar before the window (``fill_delay=0``)
charges costs the OOS returns do not see; the default delay of one bar charges them in the
window.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from contango.engine.bars import Bars, ContractPanel
from contango.engine.batch import run_sweep
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.metrics import bar_returns, max_drawdown_fraction, sharpe_ratio
from contango.engine.run import run_backtest
from contango.engine.strategy import SizingContext, VectorStrategy
from contango.research.lookahead import truncate_bars
from contango.research.return_stats import sharpe_of_moments
from contango.research.sweep import metric_values, rank_trials

F64 = npt.NDArray[np.float64]
WindowProgress = Callable[[int, int], None]


@dataclass(frozen=True, kw_only=True)
class Window:
    """One walk-forward step; bar indices, ``*_end`` exclusive."""

    index: int
    is_start: int
    is_end: int
    oos_start: int  # == is_end
    oos_end: int
    warmup_start: int


def plan_windows(
    n_bars: int,
    *,
    in_sample: int,
    out_of_sample: int,
    mode: Literal["rolling", "anchored"] = "rolling",
    warmup: int | None = None,
) -> tuple[Window, ...]:
    """The windows over ``n_bars`` bars (module doc); ValueError if not even one fits."""
    if in_sample < 2 or out_of_sample < 1:
        raise ValueError("in_sample must be >= 2 bars and out_of_sample >= 1 bar")
    if n_bars < in_sample + 2:
        raise ValueError(
            f"{n_bars} bars leave no out-of-sample window after {in_sample} in-sample bars"
        )
    warm = in_sample if warmup is None else warmup
    windows = []
    for i, oos_start in enumerate(range(in_sample, n_bars - 1, out_of_sample)):
        windows.append(
            Window(
                index=i,
                is_start=0 if mode == "anchored" else oos_start - in_sample,
                is_end=oos_start,
                oos_start=oos_start,
                oos_end=min(oos_start + out_of_sample, n_bars),
                warmup_start=max(0, oos_start - warm),
            )
        )
    return tuple(windows)


def slice_bars(bars: Bars, start: int, stop: int) -> Bars:
    """Bars ``start .. stop - 1``."""
    cut = truncate_bars(bars, stop - 1)
    return cut._replace(
        ts=cut.ts[start:],
        open=cut.open[start:],
        high=cut.high[start:],
        low=cut.low[start:],
        close=cut.close[start:],
        volume=cut.volume[start:],
        next_close=None if cut.next_close is None else cut.next_close[start:],
    )


def slice_contracts(panel: ContractPanel | None, start: int, stop: int) -> ContractPanel | None:
    """The contract panel of bars ``start .. stop - 1``; expiry bars re-indexed to the slice."""
    if panel is None:
        return None
    return ContractPanel(
        contract=panel.contract[start:stop],
        roll_price=panel.roll_price[start:stop],
        expiry_bar=np.maximum(panel.expiry_bar[start:stop] - start, 0),
        names=panel.names,
    )


def slice_fx(fx: Mapping[str, F64] | None, start: int, stop: int) -> dict[str, F64] | None:
    """The FX series of bars ``start .. stop - 1``."""
    return None if fx is None else {c: s[start:stop] for c, s in fx.items()}


@dataclass(frozen=True, kw_only=True)
class MarketData:
    """What every backtest of a walk-forward trades on: the panel, the markets, and in
    actual-contract mode the contracts, for foreign markets the FX series."""

    bars: Bars
    specs: Sequence[MarketSpec]
    contracts: ContractPanel | None = None
    fx: Mapping[str, F64] | None = None

    def between(self, start: int, stop: int) -> MarketData:
        """The same data for bars ``start .. stop - 1``."""
        return MarketData(
            bars=slice_bars(self.bars, start, stop),
            specs=self.specs,
            contracts=slice_contracts(self.contracts, start, stop),
            fx=slice_fx(self.fx, start, stop),
        )


class FlatUntil:
    """A strategy's targets, forced flat before bar ``first_live`` (the warm-up bars)."""

    name: ClassVar[str] = "flat_until"
    Params: ClassVar[type[BaseModel]] = BaseModel

    def __init__(self, inner: VectorStrategy, first_live: int) -> None:
        self.inner = inner
        self.first_live = first_live

    def targets(self, bars: Bars, params: BaseModel, sizing: SizingContext) -> F64:
        """The inner strategy's targets, 0 before ``first_live``."""
        out = np.array(self.inner.targets(bars, params, sizing), dtype=np.float64)
        out[: self.first_live] = 0.0
        return out


@dataclass(frozen=True, kw_only=True)
class WindowOutcome:
    """What one window chose and how it did."""

    window: Window
    params: BaseModel
    is_objective: float
    oos_returns: F64  # one per OOS bar
    oos_sharpe: float
    oos_return: float
    # Every parameter set's in-sample figures (in ``params_list`` order): trials the choice
    # was made from, which the trial registry counts for the Deflated Sharpe Ratio.
    trial_sharpes: F64  # annualised, as the sweep's ``sharpe``
    trial_sharpes_per_bar: F64  # as ``return_stats.sharpe_per_bar`` of the returns
    trial_n_obs: int  # in-sample returns per trial


@dataclass(frozen=True, kw_only=True)
class WalkForwardResult:
    """Every window's choice and the stitched out-of-sample account."""

    objective: str
    outcomes: tuple[WindowOutcome, ...]
    ts: npt.NDArray[np.int64]  # OOS bars
    returns: F64  # stitched OOS per-bar returns
    equity: F64  # capital compounded by ``returns``
    sharpe: float  # annualised
    total_return: float
    max_drawdown: float
    stability: dict[str, Any]


def oos_returns(
    data: MarketData,
    *,
    strategy: VectorStrategy,
    params: BaseModel,
    config: SimulationConfig,
    window: Window,
) -> F64:
    """Per-bar returns of ``params`` traded over ``window``'s OOS bars (module doc)."""
    part = data.between(window.warmup_start, window.oos_end)
    first_oos = window.oos_start - window.warmup_start
    result = run_backtest(
        part.bars,
        part.specs,
        strategy=FlatUntil(strategy, max(first_oos - 1, 0)),
        params=params,
        config=config,
        contracts=part.contracts,
        fx=part.fx,
    )
    equity = result.equity
    if first_oos == 0:  # no bar before the window: the first bar is against the capital
        equity = np.concatenate([[config.capital], equity])
        first_oos = 1
    return bar_returns(equity[first_oos - 1 :])


def run_walkforward(
    data: MarketData,
    *,
    strategy: VectorStrategy,
    params_list: Sequence[BaseModel],
    config: SimulationConfig,
    windows: Sequence[Window],
    objective: str = "sharpe",
    periods_per_year: float = 252.0,
    workers: int | None = None,
    progress: WindowProgress | None = None,
) -> WalkForwardResult:
    """Optimise on each IS window, trade the choice on its OOS window, stitch the OOS."""
    if not params_list:
        raise ValueError("walk-forward needs at least one parameter set")
    outcomes = []
    for w in windows:
        in_sample = data.between(w.is_start, w.is_end)
        sweep = run_sweep(
            in_sample.bars,
            in_sample.specs,
            strategy=strategy,
            params_list=params_list,
            config=config,
            workers=workers,
            contracts=in_sample.contracts,
            fx=in_sample.fx,
            return_blocks=np.array([0, in_sample.bars.n_bars - 1], dtype=np.int64),
            keep_returns=False,  # the trials' Sharpe ratios come from the kernel's moments
        )
        best = int(rank_trials(sweep, objective)[0])
        moments = sweep.return_moments
        assert moments is not None  # asked for with return_blocks
        r = oos_returns(data, strategy=strategy, params=params_list[best], config=config, window=w)
        outcomes.append(
            WindowOutcome(
                window=w,
                params=params_list[best],
                is_objective=float(metric_values(sweep, objective)[best]),
                oos_returns=r,
                oos_sharpe=sharpe_ratio(r, periods_per_year),
                oos_return=float(np.prod(1.0 + _wiped_out_as_total_loss(r)) - 1.0),
                trial_sharpes=sweep.sharpe,
                trial_sharpes_per_bar=sharpe_of_moments(
                    moments[:, 0], moments[:, 1], moments[:, 2], moments[:, 3]
                ),
                trial_n_obs=int(in_sample.bars.n_bars - 1),
            )
        )
        if progress is not None:
            progress(w.index + 1, len(windows))
    return _stitch(
        data.bars,
        config=config,
        outcomes=outcomes,
        objective=objective,
        params_list=params_list,
        periods_per_year=periods_per_year,
    )


def _wiped_out_as_total_loss(returns: F64) -> F64:
    """Returns after an account was wiped out are NaN; compounding them as -100% keeps the
    stitched account at zero rather than letting it recover."""
    out: F64 = np.where(np.isfinite(returns), returns, -1.0)
    return out


def _stitch(
    bars: Bars,
    *,
    config: SimulationConfig,
    outcomes: list[WindowOutcome],
    objective: str,
    params_list: Sequence[BaseModel],
    periods_per_year: float,
) -> WalkForwardResult:
    returns = np.concatenate([o.oos_returns for o in outcomes])
    growth = np.cumprod(1.0 + _wiped_out_as_total_loss(returns))
    equity = config.capital * np.concatenate([[1.0], growth])
    start, stop = outcomes[0].window.oos_start, outcomes[-1].window.oos_end
    return WalkForwardResult(
        objective=objective,
        outcomes=tuple(outcomes),
        ts=np.asarray(bars.ts[start:stop], dtype=np.int64),
        returns=returns,
        equity=equity,
        sharpe=sharpe_ratio(returns, periods_per_year),
        total_return=float(equity[-1] / equity[0] - 1.0),
        max_drawdown=max_drawdown_fraction(equity),
        stability=parameter_stability(
            [o.params.model_dump(mode="json") for o in outcomes],
            [p.model_dump(mode="json") for p in params_list],
        ),
    )


def parameter_stability(
    chosen: Sequence[dict[str, Any]], candidates: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """How much the choice moved between windows.

    ``modal_share``: the share of windows that chose the most frequent parameter set (1 = the
    same set every time). Per varied parameter: ``distinct`` values chosen, the modal value and
    its share, and for numbers ``dispersion`` = standard deviation of the chosen values over the
    range of the candidates' values (0 = always the same value; about 0.29 for choices spread
    uniformly over the range, 0.5 for jumps between the two ends).
    """
    varied = [k for k in candidates[0] if len({json.dumps(c[k]) for c in candidates}) > 1]
    keys = [json.dumps({k: c[k] for k in varied}, sort_keys=True) for c in chosen]
    per_param: dict[str, dict[str, Any]] = {}
    for name in varied:
        values = [c[name] for c in chosen]
        texts = [json.dumps(v) for v in values]
        mode_text = max(sorted(set(texts)), key=texts.count)
        entry: dict[str, Any] = {
            "distinct": len(set(texts)),
            "mode": json.loads(mode_text),
            "mode_share": texts.count(mode_text) / len(texts),
        }
        numbers = [c[name] for c in candidates]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
            spread = float(max(numbers) - min(numbers))
            entry["dispersion"] = float(np.std(values)) / spread if spread > 0 else 0.0
        per_param[name] = entry
    top = max(sorted(set(keys)), key=keys.count) if keys else ""
    return {
        "windows": len(chosen),
        "modal_share": keys.count(top) / len(keys) if keys else float("nan"),
        "params": per_param,
    }
