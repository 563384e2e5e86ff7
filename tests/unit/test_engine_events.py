"""Event-driven runs: order types through gaps, brackets, time in force, look-ahead safety."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from engine_twins import CL, ES, make_bars

from contango.engine.config import SimulationConfig
from contango.engine.events import ExecContext, run_events
from contango.engine.result import BacktestResult
from contango.engine.run import StrategyError, run_backtest

NAN = math.nan
CONFIG = SimulationConfig(capital=1_000_000.0)


def at_bar(bar: int, action: Callable[[ExecContext], object]) -> Callable[[ExecContext], None]:
    """A callback that does ``action`` once, after bar ``bar`` closes."""

    def on_bar(ctx: ExecContext) -> None:
        if ctx.bar == bar:
            action(ctx)

    return on_bar


def run(
    bars: object, on_bar: Callable[[ExecContext], None], config: SimulationConfig = CONFIG
) -> BacktestResult:
    return run_events(bars, [ES], on_bar, config=config)  # type: ignore[arg-type]


def test_buy_stop_gapped_through_fills_at_the_open() -> None:
    bars = make_bars([99.0, 103.0], high=[99.5, 104.0], low=[98.5, 102.0])
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1, stop=100.0)))
    assert res.fills["price"].tolist() == [103.0]


def test_buy_stop_touched_intrabar_fills_at_the_stop_plus_slippage() -> None:
    bars = make_bars([99.0, 99.0], high=[99.5, 101.0], low=[98.5, 98.0])
    config = SimulationConfig(capital=1e6, slippage_ticks=1.0)
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1, stop=100.0)), config)
    assert res.fills["price"].tolist() == [100.25]  # stop 100 + 1 tick


def test_buy_limit_gapped_through_fills_at_the_better_open() -> None:
    bars = make_bars([101.0, 97.0], high=[101.0, 98.0], low=[101.0, 96.0])
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1, limit=100.0)))
    assert res.fills["price"].tolist() == [97.0]


def test_buy_limit_reached_intrabar_fills_at_the_limit_without_slippage() -> None:
    bars = make_bars([101.0, 102.0], high=[101.0, 102.5], low=[101.0, 99.0])
    config = SimulationConfig(capital=1e6, slippage_ticks=2.0)
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1, limit=100.0)), config)
    assert res.fills["price"].tolist() == [100.0]


def test_sell_stop_gapped_down_fills_at_the_open() -> None:
    bars = make_bars([101.0, 96.0], high=[101.0, 97.0], low=[101.0, 95.0])
    res = run(bars, at_bar(0, lambda c: c.sell("ES", 1, stop=100.0)))
    assert res.fills["price"].tolist() == [96.0]
    assert res.positions[-1, 0] == -1


def test_limit_not_reached_does_not_fill() -> None:
    bars = make_bars([101.0, 102.0], high=[101.0, 103.0], low=[101.0, 100.5])
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1, limit=100.0)))
    assert res.fills.shape[0] == 0
    assert res.orders is not None
    assert res.orders["status"].tolist() == ["working"]


def test_stop_limit_triggered_intrabar_within_limit_fills_at_the_stop() -> None:
    bars = make_bars([99.0, 99.0], high=[99.0, 102.0], low=[99.0, 98.0])
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1, stop=100.0, limit=101.0)))
    assert res.fills["price"].tolist() == [100.0]


def test_stop_limit_triggered_above_its_limit_waits_for_the_next_bar() -> None:
    # Buy stop 100, limit 99: triggered on bar 1 (high 101) but 100 > 99; bar 2 opens 98.5.
    bars = make_bars([99.0, 99.5, 98.5], high=[99.0, 101.0, 99.0], low=[99.0, 98.0, 98.0])
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1, stop=100.0, limit=99.0)))
    assert res.fills["bar"].tolist() == [2]
    assert res.fills["price"].tolist() == [98.5]


def test_stop_limit_gapped_above_its_limit_fills_at_the_limit_if_price_comes_back() -> None:
    bars = make_bars([99.0, 103.0], high=[99.0, 103.5], low=[99.0, 100.5])
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1, stop=100.0, limit=101.0)))
    assert res.fills["price"].tolist() == [101.0]


def test_bracket_stop_loss_fills_and_cancels_take_profit() -> None:
    bars = make_bars(
        [100.0, 100.0, 99.0, 120.0],
        high=[100.0, 101.0, 99.5, 121.0],
        low=[100.0, 99.0, 94.0, 119.0],
    )
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1, stop_loss=95.0, take_profit=110.0)))
    assert res.fills["price"].tolist() == [100.0, 95.0]
    trades = res.trades_frame()
    assert trades["exit_reason"].tolist() == ["stop_loss"]
    assert trades["pnl_gross"].tolist() == [-5.0 * 50]
    assert res.orders is not None
    assert res.orders["status"].tolist() == ["filled", "filled", "cancelled"]


def test_bracket_with_both_prices_in_one_bar_takes_the_stop_loss() -> None:
    bars = make_bars([100.0, 100.0, 100.0], high=[100.0, 100.0, 111.0], low=[100.0, 100.0, 94.0])
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1, stop_loss=95.0, take_profit=110.0)))
    assert res.trades_frame()["exit_reason"].tolist() == ["stop_loss"]


def test_take_profit_fills_at_its_limit() -> None:
    bars = make_bars([100.0, 100.0, 105.0], high=[100.0, 100.0, 112.0], low=[100.0, 100.0, 104.0])
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 2, stop_loss=95.0, take_profit=110.0)))
    trades = res.trades_frame()
    assert trades["exit_reason"].tolist() == ["take_profit"]
    assert trades["pnl_gross"].tolist() == [2 * 10.0 * 50]


def test_day_order_expires_when_its_session_ends() -> None:
    bars = make_bars([101.0, 101.0, 99.0], high=[101.0, 101.5, 99.0], low=[101.0, 100.5, 98.0])
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1, limit=100.0, tif="day")))
    assert res.fills.shape[0] == 0
    assert res.orders is not None
    assert res.orders["status"].tolist() == ["expired"]


def test_gtc_order_waits_until_it_fills() -> None:
    bars = make_bars([101.0, 101.0, 99.0], high=[101.0, 101.5, 99.0], low=[101.0, 100.5, 98.0])
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1, limit=100.0)))
    assert res.fills["bar"].tolist() == [2]


def test_ioc_order_on_a_bar_without_data_is_cancelled() -> None:
    bars = make_bars([100.0, NAN, 100.0], close=[100.0, NAN, 100.0])
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1, tif="ioc")))
    assert res.fills.shape[0] == 0
    assert res.orders is not None
    assert res.orders["status"].tolist() == ["expired"]


def test_gtc_market_order_waits_through_a_bar_without_data() -> None:
    bars = make_bars([100.0, NAN, 102.0], close=[100.0, NAN, 102.0])
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1)))
    assert res.fills["bar"].tolist() == [2]
    assert res.fills["price"].tolist() == [102.0]


def test_fill_delay_zero_market_order_fills_at_the_same_close() -> None:
    bars = make_bars([100.0, 101.0], close=[100.5, 101.5])
    config = SimulationConfig(capital=1e6, fill_delay=0)
    res = run(bars, at_bar(0, lambda c: c.buy("ES", 1)), config)
    assert res.fills["bar"].tolist() == [0]
    assert res.fills["price"].tolist() == [100.5]
    assert res.equity[0] == pytest.approx(1e6)
    assert res.equity[1] == pytest.approx(1e6 + 1.0 * 50)


def test_history_ends_at_the_current_bar_and_is_read_only() -> None:
    bars = make_bars([100.0, 101.0, 102.0])
    seen: list[tuple[int, int]] = []

    def on_bar(ctx: ExecContext) -> None:
        closes = ctx.close("ES")
        seen.append((ctx.bar, closes.shape[0]))
        with pytest.raises(ValueError, match="read-only"):
            closes[-1] = 0.0

    run(bars, on_bar)
    assert seen == [(0, 1), (1, 2), (2, 3)]


def test_results_before_a_bar_do_not_depend_on_later_data() -> None:
    rng = np.random.default_rng(7)
    closes = 4000 + np.cumsum(rng.normal(0, 10, 60))
    later = closes.copy()
    later[30:] += rng.normal(0, 200, 30)  # rewrite the future

    def trend(ctx: ExecContext) -> None:
        c = ctx.close("ES")
        if c.shape[0] >= 5:
            ctx.order_target("ES", 1 if c[-1] > c[-5:].mean() else -1)

    a = run(make_bars(closes), trend)
    b = run(make_bars(later), trend)
    np.testing.assert_array_equal(a.equity[:30], b.equity[:30])
    np.testing.assert_array_equal(a.positions[:31], b.positions[:31])


def test_strategy_error_names_bar_market_and_keeps_traceback() -> None:
    bars = make_bars([100.0, 101.0, 102.0])

    def broken(ctx: ExecContext) -> None:
        if ctx.bar == 1:
            _ = ctx.close("ES")[5]

    with pytest.raises(StrategyError) as info:
        run(bars, broken)
    assert info.value.bar == 1
    assert info.value.market == "ES"
    assert "IndexError" in str(info.value)
    assert "broken" in info.value.traceback_text


def test_event_run_matches_the_vectorized_run_for_the_same_targets() -> None:
    rng = np.random.default_rng(3)
    n = 80
    close = np.column_stack(
        [4000 + np.cumsum(rng.normal(0, 15, n)), 70 + np.cumsum(rng.normal(0, 0.8, n))]
    )
    open_ = close + rng.normal(0, 3, (n, 2)) * [1, 0.05]
    bars = make_bars(open_, close=close, markets=("ES", "CL"))
    targets = rng.integers(-2, 3, (n, 2)).astype(float)
    specs = [ES.model_copy(update={"commission": 2.0}), CL.model_copy(update={"commission": 2.5})]
    config = SimulationConfig(capital=1e6, slippage_ticks=1.0)

    def follow(ctx: ExecContext) -> None:
        for j, market in enumerate(ctx.markets):
            ctx.order_target(market, targets[ctx.bar, j])

    vector = run_backtest(bars, specs, targets=targets, config=config)
    event = run_events(bars, specs, follow, config=config)
    np.testing.assert_allclose(event.equity, vector.equity, rtol=1e-12)
    np.testing.assert_array_equal(event.positions, vector.positions)
    assert event.trades.shape == vector.trades.shape
