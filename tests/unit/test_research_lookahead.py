"""The look-ahead detector: a strategy reading tomorrow's close is caught with its bar and market;
every template comes out clean."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
from pydantic import BaseModel

from contango.engine.bars import Bars
from contango.engine.config import MarketSpec
from contango.engine.strategy import SizingContext
from contango.engine.templates import get_template, list_templates
from contango.research.lookahead import find_lookahead, sample_cut_bars, sizing_from_specs

F64 = np.ndarray

# Real specifications: ES $50 per point, tick 0.25; CL 1,000 barrels = $1,000 per point, tick 0.01.
SPECS = [
    MarketSpec(name="ES", point_value=50.0, tick_size=0.25, initial_margin=12_000.0),
    MarketSpec(name="CL", point_value=1_000.0, tick_size=0.01, initial_margin=6_000.0),
]
SIZING = sizing_from_specs(SPECS, 1_000_000.0)


def _panel(n: int = 400, seed: int = 0) -> Bars:
    rng = np.random.default_rng(seed)
    close = np.column_stack(
        [
            4500.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n))),
            75.0 * np.exp(np.cumsum(rng.normal(0, 0.02, n))),
        ]
    )
    open_ = close * (1 + rng.normal(0, 0.002, close.shape))
    high = np.maximum(open_, close) * 1.003
    low = np.minimum(open_, close) * 0.997
    ts = np.arange(n, dtype=np.int64) * 86_400 * 10**9 + 1_700_000_000 * 10**9
    return Bars(
        ts=ts,
        markets=("ES", "CL"),
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=np.full(close.shape, 1000.0),
        next_close=close * (1 + 0.01 * np.sin(np.arange(n) / 20.0))[:, None],
    )


class NoParams(BaseModel):
    """No parameters."""


class TomorrowsClose:
    """Long when tomorrow's close is higher: uses close[t + 1] for the target of bar t."""

    name: ClassVar[str] = "peek"
    Params: ClassVar[type[BaseModel]] = NoParams

    def targets(self, bars: Bars, params: BaseModel, sizing: SizingContext) -> F64:
        out = np.zeros(bars.close.shape)
        out[:-1] = np.sign(bars.close[1:] - bars.close[:-1])
        return out


class PeeksOnCLOnly:
    """Normalises CL by its full-sample mean (look-ahead), ES by its running mean (clean)."""

    name: ClassVar[str] = "peek_cl"
    Params: ClassVar[type[BaseModel]] = NoParams

    def targets(self, bars: Bars, params: BaseModel, sizing: SizingContext) -> F64:
        running = np.cumsum(bars.close[:, 0]) / np.arange(1, bars.n_bars + 1)
        es = np.sign(bars.close[:, 0] - running)
        cl = np.sign(bars.close[:, 1] - bars.close[:, 1].mean())
        return np.column_stack([es, cl])


def test_a_strategy_reading_tomorrows_close_is_caught_at_the_cut_bar() -> None:
    bars = _panel()
    report = find_lookahead(
        TomorrowsClose(), NoParams(), bars, SIZING, rng=np.random.default_rng(1), n_checks=5
    )
    assert not report.clean
    # cut at bar c: the truncated panel has no close[c + 1], so the target at c (and only c)
    # changes: both markets are flagged at bar c, never earlier
    for f in report.findings:
        assert f.bar == f.cut_bar
        assert f.truncated_target == 0.0
    cuts = {f.cut_bar for f in report.findings}
    assert cuts == set(report.cut_bars) - {
        c for c in report.cut_bars if (np.sign(bars.close[c + 1] - bars.close[c]) == 0).all()
    }
    assert {f.market for f in report.findings} == {"ES", "CL"}


def test_findings_name_the_market_that_peeks() -> None:
    report = find_lookahead(
        PeeksOnCLOnly(), NoParams(), _panel(), SIZING, rng=np.random.default_rng(2), n_checks=8
    )
    assert not report.clean
    assert {f.market for f in report.findings} == {"CL"}
    assert all(f.bar <= f.cut_bar for f in report.findings)


def test_cut_bars_are_seeded_distinct_and_inside_the_panel() -> None:
    a = sample_cut_bars(100, 10, np.random.default_rng(7))
    b = sample_cut_bars(100, 10, np.random.default_rng(7))
    assert a == b
    assert len(set(a)) == len(a) >= 10
    assert all(1 <= c <= 98 for c in a)
    assert 50 in a  # the middle bar is always checked


CL = SPECS[1]
# a calendar spread trades two contracts of one root: CL front and CL second month
SPREAD_SPECS = [CL.model_copy(update={"name": "CL1"}), CL.model_copy(update={"name": "CL2"})]


def _template_case(name: str) -> tuple[BaseModel, Bars, SizingContext]:
    strategy = get_template(name)
    bars = _panel()
    if name == "calendar_spread":
        params = strategy.Params.model_validate(
            {"front_market": "CL1", "back_market": "CL2", "z_window": 30}
        )
        spread = bars.close[:, 1] * (1 + 0.01 * np.sin(np.arange(bars.n_bars) / 15.0))
        legs = np.column_stack([bars.close[:, 1], spread])
        bars = bars._replace(markets=("CL1", "CL2"), close=legs, open=legs, high=legs, low=legs)
        return params, bars, sizing_from_specs(SPREAD_SPECS, 1_000_000.0)
    return strategy.Params(), bars, SIZING


@pytest.mark.parametrize("name", [t.name for t in list_templates()])
def test_every_template_is_free_of_lookahead(name: str) -> None:
    params, bars, sizing = _template_case(name)
    report = find_lookahead(
        get_template(name),
        params,
        bars,
        sizing,
        rng=np.random.default_rng(3),
        n_checks=15,
    )
    assert report.clean, report.findings[:3]
    assert len(report.cut_bars) >= 15
    # the check is not vacuous: the strategy does take positions on this panel
    targets = get_template(name).targets(bars, params, sizing)
    assert (np.nan_to_num(targets) != 0).sum() > 10
