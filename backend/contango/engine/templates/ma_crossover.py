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
from operator import itemgetter
from typing import ClassVar, Literal, NamedTuple, Self, cast

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field, model_validator

from contango.engine.bars import Bars
from contango.engine.indicators import ema, sma
from contango.engine.kernels.crossover_plan_nb import moving_averages_nb
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
        path-dependent step the plan does not cover).

        Column by column: the parameter sets' fields are read once into arrays, distinct
        averages and sizes found with NumPy, and each computed once (thousands of sets share
        a few dozen averages)."""
        check_panel(bars, sizing)
        chosen = cast(list[MACrossoverParams], list(params_list))
        if set(map(type, chosen)) - {MACrossoverParams}:
            chosen = [expect_params(p, MACrossoverParams, self.name) for p in params_list]
        k = len(chosen)
        if k == 0:
            empty = np.empty((0, bars.n_bars, bars.n_markets))
            return CrossoverPlan(empty, empty, np.empty((0, 4), dtype=np.int64))
        held = [p.__dict__ for p in chosen]
        columns = list(zip(*map(_PLAN_FIELDS, held), strict=True))
        fast, slow, kind, allow_short, buffer = columns[:5]
        if buffer.count(0.0) != k:
            return None
        n_ema = kind.count("ema")
        ema = (
            np.full(k, int(n_ema > 0), dtype=np.int64)
            if n_ema in (0, k)
            else np.fromiter(map("ema".__eq__, kind), dtype=np.int64, count=k)
        )
        ends = np.empty((k, 2), dtype=np.int64)  # (window, kind) as one code: 2 * window + ema
        ends[:, 0] = np.asarray(fast, dtype=np.int64) * 2 + ema
        ends[:, 1] = np.asarray(slow, dtype=np.int64) * 2 + ema
        codes, average = _first_seen(ends.reshape(-1))
        firsts, size = _distinct_sizes(chosen, columns[5:])
        trials = np.empty((k, 4), dtype=np.int64)
        trials[:, :2] = average.reshape(k, 2)
        trials[:, 2] = size
        trials[:, 3] = np.asarray(allow_short, dtype=np.int64)
        size_arrays = [position_size(bars.close, chosen[i], sizing) for i in firsts]
        shape = (0, bars.n_bars, bars.n_markets)
        return CrossoverPlan(
            averages=_moving_averages(bars.close, codes // 2, codes % 2 == 1),
            sizes=np.ascontiguousarray(np.stack(size_arrays)) if size_arrays else np.empty(shape),
            trials=trials,
        )


# Fields read from every parameter set, one C-level lookup each: the crossover's own, the
# rebalance buffer, then what its position size depends on (as ``_sizing_key``).
_PLAN_FIELDS = itemgetter(
    "fast_window", "slow_window", "ma_kind", "allow_short", "rebalance_buffer",
    "sizing", "contracts", "target_vol", "vol_window", "bars_per_year", "max_contracts",
    "average_correlation",
)  # fmt: skip


def _first_seen(
    values: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The distinct ``values`` in order of first appearance, and each value's index there."""
    distinct, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.shape[0])
    return distinct[order], rank[inverse.reshape(-1)]


def _distinct_sizes(
    chosen: list[MACrossoverParams], columns: list[tuple[object, ...]]
) -> tuple[list[int], npt.NDArray[np.int64] | int]:
    """The first parameter set of each distinct position size (in order of appearance), and
    each set's size index; ``columns`` hold the sizing fields of every set. Sweeps mostly
    share one sizing: then a count per field settles it."""
    k = len(chosen)
    if all(column.count(column[0]) == k for column in columns):
        return [0], 0
    raw = list(zip(*columns, strict=True))
    # sizing fields -> the first set that has them (later duplicates are overwritten)
    firsts = dict(zip(reversed(raw), range(k - 1, -1, -1), strict=True))
    distinct: dict[tuple[object, ...], int] = {}
    index = {}
    sets: list[int] = []
    for fields, i in sorted(firsts.items(), key=lambda item: item[1]):
        key = _sizing_key(chosen[i])
        if key not in distinct:
            distinct[key] = len(sets)
            sets.append(i)
        index[fields] = distinct[key]
    return sets, np.fromiter(map(index.__getitem__, raw), dtype=np.int64, count=k)


def _moving_averages(close: F64, windows: npt.NDArray[np.int64], ema: npt.NDArray[np.bool_]) -> F64:
    """``sma``/``ema`` of the close for every ``(window, ema)``, stacked ``(w, n, m)``.

    On the same compacted valid bars as :func:`~contango.engine.indicators.sma` and
    :func:`~contango.engine.indicators.ema`, with the same arithmetic (so the values are
    identical: ``kernels/crossover_plan_nb.py``), every window of a market in one compiled call.
    """
    n, m = close.shape
    out = np.empty((windows.shape[0], n, m))
    for j in range(m):
        rows = np.flatnonzero(np.isfinite(close[:, j]))
        if rows.size == 0:
            out[:, :, j] = np.nan
            continue
        series = np.ascontiguousarray(close[rows, j])
        moving_averages_nb(series, rows, windows, ema, out, j)
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
