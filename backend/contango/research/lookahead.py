"""A look-ahead detector for vectorized strategies.

A :class:`~contango.engine.strategy.VectorStrategy` sees the whole panel at once, so nothing
stops it from reading ``close[t + 1]`` when deciding the target of bar ``t``. The test: a target
at bar ``t`` may only depend on data up to ``t``, so recomputing the targets on the panel cut
right after bar ``t`` must give the same targets for bars ``0..t``. The detector picks cut bars
(seeded), recomputes, and reports every target that changed at or before its cut, with its bar
and market.

Sampling cannot prove a strategy clean (a peek that only matters on a few bars may be missed
with few checks), but one found difference proves look-ahead. The comparison is exact up to
``atol`` (default 0: causal code gives the same floats on a prefix) and NaN equals NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from contango.engine.bars import Bars
from contango.engine.config import MarketSpec
from contango.engine.strategy import SizingContext, VectorStrategy

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class LookaheadFinding:
    """A target that changed when the data after ``cut_bar`` was removed."""

    cut_bar: int  # the last bar kept
    bar: int  # the bar whose target changed (<= cut_bar)
    market: str
    full_target: float  # with all the data
    truncated_target: float  # with the data up to cut_bar only


@dataclass(frozen=True, kw_only=True)
class LookaheadReport:
    """Every finding (at most ``max_findings`` per cut) and the cut bars checked."""

    strategy: str
    cut_bars: tuple[int, ...]
    findings: tuple[LookaheadFinding, ...]

    @property
    def clean(self) -> bool:
        """No target changed at or before its cut."""
        return not self.findings


def sizing_from_specs(markets: Sequence[MarketSpec], capital: float) -> SizingContext:
    """What a strategy may size with, taking each market's figures at face value (no FX): the
    detector needs the same sizing on the full and the cut panel, not the exact account's."""
    return SizingContext(
        capital=capital,
        point_value=np.array([m.point_value for m in markets], dtype=np.float64),
        tick_size=np.array([m.tick_size for m in markets], dtype=np.float64),
        initial_margin=np.array([m.initial_margin for m in markets], dtype=np.float64),
    )


def truncate_bars(bars: Bars, last: int) -> Bars:
    """The panel up to and including bar ``last``."""
    stop = last + 1
    return Bars(
        ts=bars.ts[:stop],
        markets=bars.markets,
        open=bars.open[:stop],
        high=bars.high[:stop],
        low=bars.low[:stop],
        close=bars.close[:stop],
        volume=bars.volume[:stop],
        next_close=None if bars.next_close is None else bars.next_close[:stop],
    )


def sample_cut_bars(n_bars: int, n_checks: int, rng: np.random.Generator) -> tuple[int, ...]:
    """``n_checks`` distinct cut bars drawn from ``1..n-2`` (a cut at the last bar removes
    nothing), always including the middle bar so even one check looks somewhere useful."""
    if n_bars < 3:
        raise ValueError(f"the look-ahead check needs at least 3 bars, got {n_bars}")
    pool = np.arange(1, n_bars - 1)
    k = min(max(n_checks, 1), pool.size)
    drawn = {int(b) for b in rng.choice(pool, size=k, replace=False)}
    drawn.add(n_bars // 2)
    return tuple(sorted(drawn))


def _changed(full: F64, cut: F64, atol: float) -> npt.NDArray[np.bool_]:
    both_nan = np.isnan(full) & np.isnan(cut)
    with np.errstate(invalid="ignore"):
        same = np.abs(full - cut) <= atol
    return ~(same | both_nan)


def find_lookahead(
    strategy: VectorStrategy,
    params: BaseModel,
    bars: Bars,
    sizing: SizingContext,
    *,
    rng: np.random.Generator,
    n_checks: int = 20,
    atol: float = 0.0,
    max_findings: int = 10,
) -> LookaheadReport:
    """Recompute ``strategy``'s targets on ``bars`` cut at sampled bars; report every target
    at or before a cut that differs from the full-panel one (at most ``max_findings`` per cut,
    earliest bars first)."""
    full = np.asarray(strategy.targets(bars, params, sizing), dtype=np.float64)
    cuts = sample_cut_bars(bars.n_bars, n_checks, rng)
    findings: list[LookaheadFinding] = []
    for cut in cuts:
        part = np.asarray(
            strategy.targets(truncate_bars(bars, cut), params, sizing), dtype=np.float64
        )
        changed = np.argwhere(_changed(full[: cut + 1], part, atol))
        findings.extend(
            LookaheadFinding(
                cut_bar=cut,
                bar=int(t),
                market=bars.markets[int(j)],
                full_target=float(full[t, j]),
                truncated_target=float(part[t, j]),
            )
            for t, j in changed[:max_findings]
        )
    return LookaheadReport(strategy=strategy.name, cut_bars=cuts, findings=tuple(findings))
