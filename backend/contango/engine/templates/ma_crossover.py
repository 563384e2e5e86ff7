"""Moving-average crossover: trend following with two averages of the close.

The idea: when the fast average of the close is above the slow one, prices have been rising
lately relative to the longer past, so hold a long; below, hold a short (or stay flat when
``allow_short`` is off). The crossover lags turning points by design: it gives up the start and
the end of a trend to stay out of noise.

Parameters: ``fast_window`` < ``slow_window`` (bars), ``ma_kind`` (``sma`` or ``ema``), and the
sizing of :class:`~contango.engine.templates.base.SizedParams` (fixed contracts or a volatility
target). Until the slow average has ``slow_window`` bars the target is NaN (no trade).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal, NamedTuple, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field, model_validator

from contango.engine.bars import Bars
from contango.engine.indicators import ema, sma
from contango.engine.kernels.indicators_nb import rolling_mean_nb, sma_seeded_ewm_nb
from contango.engine.strategy import SizingContext
from contango.engine.templates.base import (
    F64,
    SizedParams,
    buffered,
    check_panel,
    expect_params,
    position_size,
    to_targets,
)


class MACrossoverParams(SizedParams):
    """Parameters of the moving-average crossover."""

    fast_window: int = Field(20, ge=1, le=2000, description="Bars in the fast moving average.")
    slow_window: int = Field(100, ge=2, le=5000, description="Bars in the slow moving average.")
    ma_kind: Literal["sma", "ema"] = Field(
        "sma", description="'sma': simple moving averages; 'ema': exponential (SMA-seeded)."
    )
    allow_short: bool = Field(
        True, description="Go short when fast < slow; if false, stay flat instead."
    )

    @model_validator(mode="after")
    def _fast_below_slow(self) -> Self:
        if self.fast_window >= self.slow_window:
            raise ValueError(
                f"fast_window ({self.fast_window}) must be smaller than "
                f"slow_window ({self.slow_window})"
            )
        return self


class CrossoverPlan(NamedTuple):
    """Many parameter sets of the crossover as shared inputs: each distinct moving average and
    each distinct position size computed once, and per trial which ones it combines."""

    averages: F64  # (w, n, m) one moving average of the close per (ma_kind, window)
    sizes: F64  # (s, n, m) unsigned contracts per distinct sizing
    trials: npt.NDArray[np.int64]  # (k, 4): fast average, slow average, size, allow_short


class MACrossover:
    """Long when the fast average is above the slow one, short (or flat) below."""

    name: ClassVar[str] = "ma_crossover"
    title: ClassVar[str] = "Moving-average crossover"
    description: ClassVar[str] = (
        "Trend following: long while the fast moving average of the close is above the slow "
        "one, short (or flat) while it is below."
    )
    Params: ClassVar[type[BaseModel]] = MACrossoverParams

    def targets(self, bars: Bars, params: BaseModel, sizing: SizingContext) -> F64:
        """Signed target contracts per bar and market (NaN during warm-up)."""
        p = expect_params(params, MACrossoverParams, self.name)
        check_panel(bars, sizing)
        average = ema if p.ma_kind == "ema" else sma
        gap = average(bars.close, p.fast_window) - average(bars.close, p.slow_window)
        direction = np.sign(gap)
        if not p.allow_short:
            direction = np.where(direction < 0, 0.0, direction)
        return buffered(to_targets(direction, position_size(bars.close, p, sizing)), p)

    def batch_plan(
        self, bars: Bars, params_list: Sequence[BaseModel], sizing: SizingContext
    ) -> CrossoverPlan | None:
        """Shared inputs from which a sweep kernel builds every trial's targets exactly as
        :meth:`targets` would; ``None`` when a parameter set uses the rebalance buffer (a
        path-dependent step the plan does not cover)."""
        check_panel(bars, sizing)
        chosen = [expect_params(p, MACrossoverParams, self.name) for p in params_list]
        if any(p.rebalance_buffer != 0.0 for p in chosen):
            return None
        averages: dict[tuple[str, int], int] = {}
        sizes: dict[tuple[object, ...], int] = {}
        size_arrays: list[F64] = []
        trials = np.empty((len(chosen), 4), dtype=np.int64)
        for i, p in enumerate(chosen):
            fast = averages.setdefault((p.ma_kind, p.fast_window), len(averages))
            slow = averages.setdefault((p.ma_kind, p.slow_window), len(averages))
            key = _sizing_key(p)
            if key not in sizes:
                sizes[key] = len(size_arrays)
                size_arrays.append(position_size(bars.close, p, sizing))
            trials[i] = (fast, slow, sizes[key], int(p.allow_short))
        shape = (0, bars.n_bars, bars.n_markets)
        return CrossoverPlan(
            averages=_moving_averages(bars.close, list(averages)),
            sizes=np.ascontiguousarray(np.stack(size_arrays)) if size_arrays else np.empty(shape),
            trials=trials,
        )


def _moving_averages(close: F64, keys: list[tuple[str, int]]) -> F64:
    """``sma``/``ema`` of the close for every ``(kind, window)``, stacked ``(w, n, m)``.

    The same kernels on the same compacted valid bars as :func:`~contango.engine.indicators.sma`
    and :func:`~contango.engine.indicators.ema` (so the values are identical), with the
    compaction done once per market instead of once per window.
    """
    n, m = close.shape
    out = np.full((len(keys), n, m), np.nan)
    for j in range(m):
        rows = np.flatnonzero(np.isfinite(close[:, j]))
        if rows.size == 0:
            continue
        series = np.ascontiguousarray(close[rows, j])
        for k, (kind, window) in enumerate(keys):
            if kind == "ema":
                out[k, rows, j] = sma_seeded_ewm_nb(series, window, 2.0 / (window + 1.0))
            else:
                out[k, rows, j] = rolling_mean_nb(series, window)
    return out


def _sizing_key(p: MACrossoverParams) -> tuple[object, ...]:
    """Parameter sets with equal keys get the same position sizes."""
    if p.sizing == "fixed":
        return ("fixed", p.contracts)
    return (
        "vol_target",
        p.target_vol,
        p.vol_window,
        p.bars_per_year,
        p.max_contracts,
        p.average_correlation,
    )
