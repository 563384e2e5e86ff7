"""Metrics: a 5-bar equity path worked by hand, pandas on random curves, bootstrap statistics."""

from __future__ import annotations

import json
import math
import statistics

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contango.engine import bootstrap as bs
from contango.engine import metrics as mt

DAY = 86_400 * 10**9
QUARTER = int(91.3125 * DAY)  # 4 quarters = 365.25 days = exactly one metrics year
T0 = np.datetime64("2024-01-02T21:00", "ns").astype(np.int64)


def _curve(equity, step=DAY, traded=None, gross=None) -> mt.EquityCurve:
    equity = np.asarray(equity, dtype=np.float64)
    n = equity.shape[0]
    return mt.EquityCurve(
        ts=T0 + step * np.arange(n, dtype=np.int64),
        equity=equity,
        traded_notional=np.zeros(n) if traded is None else np.asarray(traded, np.float64),
        gross_exposure=np.zeros(n) if gross is None else np.asarray(gross, np.float64),
    )


NO_TRADES = mt.TradeTable(np.array([], np.int64), np.array([]), np.array([], np.int64))

# ---------------------------------------------------------------- the 5-bar example
# Equity 100 -> 110 -> 99 -> 105 -> 121 on quarterly bars: one year of calendar time, 4 periods.
# Returns: +10%, -10%, 105/99-1 = 6.0606%, 121/105-1 = 15.2381%.
EQUITY = [100.0, 110.0, 99.0, 105.0, 121.0]
RETURNS = [0.1, -0.1, 105 / 99 - 1, 121 / 105 - 1]
# Two ES trades (+300, +200, 0) and two CL trades (-100, -50).
TRADES = mt.TradeTable(
    market=np.array([0, 1, 0, 1, 0]),
    pnl_net=np.array([300.0, -100.0, 200.0, -50.0, 0.0]),
    bars_held=np.array([3, 1, 5, 2, 1]),
)


@pytest.fixture
def five_bar() -> mt.PerformanceMetrics:
    curve = _curve(EQUITY, QUARTER, traded=[0, 200, 0, 100, 0], gross=[0, 50, 50, 0, 0])
    return mt.compute_metrics(curve, TRADES, ("ES", "CL"))


def test_returns_and_growth_of_the_five_bar_path(five_bar):
    assert five_bar.total_return == pytest.approx(0.21)  # 121/100 - 1
    assert five_bar.years == pytest.approx(1.0)  # 4 x 91.3125 days / 365.25
    assert five_bar.periods_per_year == pytest.approx(4.0)  # 4 returns in 1 year
    assert five_bar.cagr == pytest.approx(0.21)  # one year: CAGR = total return


def test_risk_adjusted_ratios_of_the_five_bar_path(five_bar):
    mean, sd = statistics.mean(RETURNS), statistics.stdev(RETURNS)
    assert five_bar.annual_volatility == pytest.approx(sd * 2)  # sqrt(4 periods) = 2
    assert five_bar.sharpe == pytest.approx(mean / sd * 2)
    # Downside deviation: only -10% is below 0 -> sqrt(0.01 / 4) = 0.05
    assert five_bar.sortino == pytest.approx(mean / 0.05 * 2)
    assert five_bar.calmar == pytest.approx(0.21 / 0.10)


def test_drawdown_of_the_five_bar_path(five_bar):
    # Peak 110 at bar 1, trough 99 at bar 2 (-10%, $11), back above 110 at bar 4.
    assert five_bar.max_drawdown == pytest.approx(0.10)
    assert five_bar.max_drawdown_amount == pytest.approx(11.0)
    assert five_bar.max_drawdown_bars == 3
    assert five_bar.max_drawdown_days == pytest.approx(3 * 91.3125)
    assert five_bar.max_drawdown_recovered
    assert five_bar.longest_drawdown_bars == 3


def test_trade_statistics_of_the_five_bar_example(five_bar):
    assert five_bar.n_trades == 5
    assert five_bar.win_rate == pytest.approx(2 / 5)  # the 0 P&L trade is not a win
    assert five_bar.profit_factor == pytest.approx(500 / 150)
    assert five_bar.expectancy == pytest.approx(350 / 5)
    assert five_bar.average_win == pytest.approx(250.0)
    assert five_bar.average_loss == pytest.approx(-75.0)
    assert five_bar.average_bars_held == pytest.approx(12 / 5)


def test_turnover_exposure_and_leverage_of_the_five_bar_example(five_bar):
    # traded 300 over mean equity (100+110+99+105+121)/5 = 107, over 1 year
    assert five_bar.turnover == pytest.approx(300 / 107)
    assert five_bar.exposure == pytest.approx(2 / 5)  # a position on during bars 1 and 2
    assert five_bar.average_leverage == pytest.approx((50 / 110 + 50 / 99) / 5)


def test_per_market_breakdown_of_the_five_bar_example(five_bar):
    es, cl = five_bar.per_market
    assert (es.market, es.pnl, es.n_trades) == ("ES", 500.0, 3)
    assert es.win_rate == pytest.approx(2 / 3)
    assert es.share_of_pnl == pytest.approx(500 / 350)
    assert es.return_contribution == pytest.approx(5.0)  # 500 on a 100 start
    assert (cl.market, cl.pnl, cl.n_trades, cl.win_rate) == ("CL", -150.0, 2, 0.0)
    assert cl.share_of_pnl == pytest.approx(-150 / 350)


def test_an_unrecovered_drawdown_runs_to_the_last_bar():
    # Peak 120 at bar 1; never regained. Deepest point 90 at bar 3 (-25%).
    m = mt.compute_metrics(_curve([100, 120, 100, 90, 96]), NO_TRADES, ())
    assert m.max_drawdown == pytest.approx(0.25)
    assert m.max_drawdown_amount == pytest.approx(30.0)
    assert (m.max_drawdown_bars, m.max_drawdown_recovered) == (3, False)
    assert m.max_drawdown_days == pytest.approx(3.0)
    assert m.longest_drawdown_bars == 3


def test_longest_drawdown_can_be_shallower_than_the_deepest():
    # Episode A: peak bar 0 -> new high at bar 2 (2 bars, -20%).
    # Episode B: peak bar 2 (110) -> back to 110 at bar 6 (4 bars, at worst -9.1%).
    m = mt.compute_metrics(_curve([100, 80, 110, 105, 100, 104, 110]), NO_TRADES, ())
    assert m.max_drawdown == pytest.approx(0.20)
    assert m.max_drawdown_bars == 2
    assert m.longest_drawdown_bars == 4
    assert m.longest_drawdown_days == pytest.approx(4.0)


def test_rising_curve_has_no_drawdown_and_no_trades_give_nan():
    m = mt.compute_metrics(_curve([100, 101, 102]), NO_TRADES, ())
    assert (m.max_drawdown, m.max_drawdown_bars, m.longest_drawdown_bars) == (0.0, 0, 0)
    assert m.max_drawdown_recovered
    assert math.isnan(m.calmar)
    assert m.n_trades == 0
    assert math.isnan(m.win_rate)
    assert math.isnan(m.sortino)  # no down period


def test_risk_free_rate_is_deannualised_by_compounding(five_bar):
    curve = _curve(EQUITY, QUARTER)
    m = mt.compute_metrics(curve, NO_TRADES, (), risk_free_rate=0.04)
    rf_q = 1.04**0.25 - 1
    excess = [r - rf_q for r in RETURNS]
    assert m.sharpe == pytest.approx(statistics.mean(excess) / statistics.stdev(excess) * 2)


def test_a_wiped_out_account_has_cagr_minus_one():
    m = mt.compute_metrics(_curve([100, 50, -10, -5]), NO_TRADES, ())
    assert m.total_return == pytest.approx(-1.05)
    assert m.cagr == -1.0
    assert m.max_drawdown == pytest.approx(1.10)  # from 100 down to -10


def test_bad_curves_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="at least 2 bars"):
        mt.compute_metrics(_curve([100]), NO_TRADES, ())
    bad = _curve([100, 101, 102])._replace(ts=np.array([3, 2, 4], np.int64))
    with pytest.raises(ValueError, match="strictly increasing; bar 1"):
        mt.compute_metrics(bad, NO_TRADES, ())
    with pytest.raises(ValueError, match=r"equity has non-finite values at bars \[1\]"):
        mt.compute_metrics(_curve([100, np.nan, 102]), NO_TRADES, ())
    with pytest.raises(ValueError, match="market index out of range"):
        mt.compute_metrics(_curve([100, 101]), TRADES, ("ES",))


def test_trades_from_engine_records_skip_open_trades():
    records = np.array(
        [(0, 10.0, 3, 7, 0), (1, -5.0, 4, 6, 0), (0, 99.0, 8, 9, 1)],
        dtype=[("market", "i8"), ("pnl_net", "f8"), ("entry_bar", "i8"), ("exit_bar", "i8"),
               ("is_open", "i8")],
    )  # fmt: skip
    table = mt.trades_from_records(records)
    np.testing.assert_array_equal(table.pnl_net, [10.0, -5.0])
    np.testing.assert_array_equal(table.bars_held, [4, 2])
    with pytest.raises(ValueError, match=r"lack the fields \['pnl_net'\]"):
        mt.trades_from_records(np.zeros(1, dtype=[("market", "i8"), ("entry_bar", "i8"),
                                                  ("exit_bar", "i8")]))  # fmt: skip


# ---------------------------------------------------------------- random curves vs pandas


def _random_curve(seed: int, n: int = 700) -> mt.EquityCurve:
    rng = np.random.default_rng(seed)
    equity = 1e6 * np.cumprod(1 + rng.normal(0.0004, 0.01, n))
    # Business days: weekends skipped, so calendar time and bar count differ.
    days = pd.bdate_range("2021-01-04", periods=n, tz="UTC").as_unit("ns")
    ts = days.asi8 + 21 * 3600 * 10**9
    return mt.EquityCurve(ts, equity, rng.random(n) * 1e5, rng.random(n) * 2e6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_metrics_match_an_independent_pandas_computation(seed):
    curve = _random_curve(seed)
    m = mt.compute_metrics(curve, NO_TRADES, ())
    s = pd.Series(curve.equity, index=pd.to_datetime(curve.ts, utc=True))
    r = s.pct_change().dropna()
    years = (s.index[-1] - s.index[0]).days / 365.25
    ppy = len(r) / years
    assert m.periods_per_year == pytest.approx(ppy)
    assert m.cagr == pytest.approx((s.iloc[-1] / s.iloc[0]) ** (1 / years) - 1)
    assert m.sharpe == pytest.approx(r.mean() / r.std() * math.sqrt(ppy))
    assert m.sortino == pytest.approx(
        r.mean() / math.sqrt((r.clip(upper=0) ** 2).mean()) * math.sqrt(ppy)
    )
    drawdown = 1 - s / s.cummax()
    assert m.max_drawdown == pytest.approx(drawdown.max())
    assert m.max_drawdown_amount == pytest.approx((s.cummax() - s).max())
    # Longest stretch below the running high, peak bar to recovery bar (or to the end).
    under = (s < s.cummax()).to_numpy()
    longest, run = 0, 0
    for flag in under:
        run = run + 1 if flag else 0
        longest = max(longest, run)
    ends_under = under[-1] and run == longest
    assert m.longest_drawdown_bars == longest + (0 if ends_under else 1)
    assert m.turnover == pytest.approx(curve.traded_notional.sum() / s.mean() / years)


@pytest.mark.parametrize("seed", [4, 5])
def test_daily_and_monthly_returns_match_pandas_resampling(seed):
    curve = _random_curve(seed, n=400)
    s = pd.Series(curve.equity, index=pd.to_datetime(curve.ts, utc=True).tz_localize(None))
    for unit, rule in (("D", "D"), ("M", "ME")):
        table = mt.period_returns(curve, unit)
        closes = s.resample(rule).last().dropna()
        expected = closes / closes.shift(1, fill_value=s.iloc[0]) - 1
        np.testing.assert_allclose(table.returns, expected.to_numpy(), rtol=1e-12)
        assert np.prod(1 + table.returns) == pytest.approx(curve.equity[-1] / curve.equity[0])
    grid = mt.monthly_table(curve)
    monthly = s.resample("ME").last().dropna()
    first = monthly.index[0]
    assert grid.years[0] == first.year
    row = grid.returns[0]
    assert math.isnan(row[first.month - 2]) if first.month > 1 else True
    assert row[first.month - 1] == pytest.approx(monthly.iloc[0] / s.iloc[0] - 1)
    yearly = s.resample("YE").last()
    base = np.concatenate([[s.iloc[0]], yearly.to_numpy()[:-1]])
    np.testing.assert_allclose(grid.annual, yearly.to_numpy() / base - 1, rtol=1e-9)


# ---------------------------------------------------------------- bootstrap


def _iid_equity(n: int, seed: int, drift: float = 0.0005, vol: float = 0.01) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 1e6 * np.concatenate([[1.0], np.cumprod(1 + rng.normal(drift, vol, n))])


def test_bootstrap_is_reproducible_with_the_same_seed():
    eq = _iid_equity(300, seed=7)
    a = bs.bootstrap_metrics(eq, np.random.default_rng(42), periods_per_year=252, n_resamples=300)
    b = bs.bootstrap_metrics(eq, np.random.default_rng(42), periods_per_year=252, n_resamples=300)
    c = bs.bootstrap_metrics(eq, np.random.default_rng(43), periods_per_year=252, n_resamples=300)
    assert a == b
    assert a.sharpe != c.sharpe


def test_bootstrap_interval_contains_the_estimate_and_matches_theory():
    n = 1000
    eq = _iid_equity(n, seed=11)
    res = bs.bootstrap_metrics(
        eq, np.random.default_rng(3), periods_per_year=252, n_resamples=2000, mean_block_length=5
    )
    assert res.sharpe.lower < res.sharpe.estimate < res.sharpe.upper
    assert res.max_drawdown.lower < res.max_drawdown.estimate < res.max_drawdown.upper
    # For i.i.d. returns the Sharpe estimate's standard error is ~sqrt((1 + SR_p^2 / 2) / n)
    # per period (Lo, 2002); a 95% interval is ~2 * 1.96 of that, annualised by sqrt(252).
    sr_p = res.sharpe.estimate / math.sqrt(252)
    expected_width = 2 * 1.96 * math.sqrt((1 + sr_p**2 / 2) / n) * math.sqrt(252)
    assert res.sharpe.upper - res.sharpe.lower == pytest.approx(expected_width, rel=0.15)


def test_bootstrap_intervals_narrow_with_more_data():
    widths = []
    for n in (250, 2000):
        res = bs.bootstrap_metrics(
            _iid_equity(n, seed=5), np.random.default_rng(9), periods_per_year=252,
            n_resamples=1000,
        )  # fmt: skip
        widths.append(res.sharpe.upper - res.sharpe.lower)
    # Width scales ~1/sqrt(n): sqrt(250/2000) = 0.35; allow generous slack.
    assert widths[1] < 0.5 * widths[0]


def test_bootstrap_refuses_bad_settings():
    eq = _iid_equity(50, seed=1)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="confidence must be in"):
        bs.bootstrap_metrics(eq, rng, periods_per_year=252, confidence=1.5)
    with pytest.raises(ValueError, match="mean_block_length must be in"):
        bs.bootstrap_metrics(eq, rng, periods_per_year=252, mean_block_length=0.5)
    with pytest.raises(ValueError, match="at least 3 finite returns"):
        bs.bootstrap_metrics(eq[:2], rng, periods_per_year=252)


@settings(max_examples=50, deadline=None)
@given(steps=st.lists(st.floats(-0.2, 0.2), min_size=2, max_size=40))
def test_drawdown_fraction_is_bounded_and_zero_only_on_a_never_falling_curve(steps):
    equity = 100 * np.cumprod(1 + np.array([0.0, *steps]))
    dd = mt.drawdowns(equity, T0 + DAY * np.arange(equity.shape[0], dtype=np.int64))
    assert 0 <= dd.max_fraction < 1
    assert (dd.max_fraction == 0) == bool(np.all(np.diff(equity) >= 0))
    assert dd.max_bars <= equity.shape[0] - 1
    assert dd.longest_bars >= dd.max_bars or dd.max_fraction == 0


def test_bootstrap_kernel_matches_a_numpy_reference_on_the_same_draws():
    from contango.engine.kernels.metrics_nb import stationary_bootstrap_nb

    rng = np.random.default_rng(21)
    r = rng.normal(0.001, 0.02, 30)
    new_block = rng.random((4, 30)) < 0.3
    starts = rng.integers(0, 30, (4, 30))
    got = stationary_bootstrap_nb(r, r, new_block, starts, 252.0)
    for b in range(4):
        # Reference: index = start of the current block + steps since it began, modulo n.
        new_block[b, 0] = True
        began = np.maximum.accumulate(np.where(new_block[b], np.arange(30), 0))
        idx = (starts[b, began] + np.arange(30) - began) % 30
        sample = r[idx]
        wealth = np.concatenate([[1.0], np.cumprod(1 + sample)])
        assert got[b, 0] == pytest.approx(sample.mean() / sample.std(ddof=1) * math.sqrt(252))
        assert got[b, 1] == pytest.approx(np.max(1 - wealth / np.maximum.accumulate(wealth)))


def test_traded_notional_sums_fills_per_bar_with_point_values():
    fills = np.array(
        [(1, 0, 2.0, 4000.0, 1.0), (1, 1, -3.0, 75.0, 1.0), (3, 0, -2.0, 4010.0, 1.0)],
        dtype=[("bar", "i8"), ("market", "i8"), ("qty", "f8"), ("price", "f8"), ("fx", "f8")],
    )
    got = mt.traded_notional_from_fills(fills, np.array([50.0, 1000.0]), n_bars=5)
    # bar 1: 2 ES x 4000 x $50 = 400,000 plus 3 CL x 75 x $1,000 = 225,000
    # bar 3: 2 ES x 4010 x $50 = 401,000
    np.testing.assert_allclose(got, [0, 625_000, 0, 401_000, 0])


def test_json_dict_replaces_undefined_figures_by_none(five_bar):
    plain = mt.compute_metrics(_curve([100, 101, 102]), NO_TRADES, ("ES",)).as_json_dict()
    assert plain["win_rate"] is None  # no trades: NaN
    assert plain["per_market"][0]["win_rate"] is None
    text = json.dumps(plain, allow_nan=False)  # would raise on a NaN left behind
    assert '"market": "ES"' in text
    assert five_bar.as_json_dict()["max_drawdown"] == pytest.approx(0.10)
