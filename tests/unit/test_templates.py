"""Strategy templates on hand-built price paths, look-ahead checks and parameter validation.

Sizing context: ES ($50/point, tick 0.25, $15,000 initial margin) and CL ($1,000/point,
tick 0.01, $7,000 initial margin) on $1,000,000.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contango.engine.bars import Bars
from contango.engine.strategy import SizingContext
from contango.engine.templates import (
    CalendarSpreadParams,
    CarryParams,
    DonchianBreakoutParams,
    MACrossoverParams,
    MeanReversionParams,
    TSMomentumParams,
    get_template,
    list_templates,
)
from contango.engine.templates.carry import annual_roll_yield

NAN = np.nan
DAY = 86_400 * 10**9
SPECS = {"ES": (50.0, 0.25, 15_000.0), "CL": (1_000.0, 0.01, 7_000.0)}
CAPITAL = 1_000_000.0


def _sizing(markets: tuple[str, ...]) -> SizingContext:
    spec = [SPECS["CL" if m.startswith("CL") else "ES"] for m in markets]
    pv, tick, margin = (np.array(col) for col in zip(*spec, strict=True))
    return SizingContext(capital=CAPITAL, point_value=pv, tick_size=tick, initial_margin=margin)


def _bars(close, markets=("ES",), spread=1.0, high=None, low=None, next_close=None) -> Bars:
    close = np.asarray(close, dtype=np.float64)
    if close.ndim == 1:
        close = close[:, None]
    n = close.shape[0]
    return Bars(
        ts=np.datetime64("2024-01-02", "ns").astype(np.int64) + DAY * np.arange(n),
        markets=tuple(markets),
        open=close.copy(),
        high=close + spread if high is None else np.asarray(high, np.float64).reshape(close.shape),
        low=close - spread if low is None else np.asarray(low, np.float64).reshape(close.shape),
        close=close,
        volume=np.full_like(close, 1_000.0),
        next_close=None
        if next_close is None
        else np.asarray(next_close, np.float64).reshape(n, -1),
    )


def _run(name: str, bars: Bars, **params) -> np.ndarray:
    strategy = get_template(name)
    return strategy.targets(bars, strategy.Params(**params), _sizing(bars.markets))


# ---------------------------------------------------------------- moving-average crossover

MA_PATH = [100, 100, 100, 100, 101, 102, 103, 102, 100, 98]


def test_ma_crossover_goes_long_above_and_short_below():
    # SMA2 vs SMA4:
    # t3: 100 vs 100 -> equal, flat        t4: 100.5 vs 100.25 -> long
    # t7: (103+102)/2 = 102.5 vs (101+102+103+102)/4 = 102 -> still long
    # t8: (102+100)/2 = 101 vs (102+103+102+100)/4 = 101.75 -> short
    # t9: 99 vs (103+102+100+98)/4 = 100.75 -> short; t0..t2: slow SMA not ready -> NaN
    got = _run("ma_crossover", _bars(MA_PATH), fast_window=2, slow_window=4, sizing="fixed",
               contracts=2)  # fmt: skip
    np.testing.assert_array_equal(got[:, 0], [NAN, NAN, NAN, 0, 2, 2, 2, 2, -2, -2])


def test_ma_crossover_long_only_stays_flat_instead_of_short():
    got = _run("ma_crossover", _bars(MA_PATH), fast_window=2, slow_window=4, sizing="fixed",
               allow_short=False)  # fmt: skip
    np.testing.assert_array_equal(got[:, 0], [NAN, NAN, NAN, 0, 1, 1, 1, 1, 0, 0])


def test_ma_crossover_vol_target_size_matches_an_independent_computation():
    rng = np.random.default_rng(3)
    close = 4000 * np.exp(np.cumsum(rng.normal(0, 0.01, 80)))
    got = _run("ma_crossover", _bars(close), fast_window=5, slow_window=20, target_vol=0.2,
               vol_window=10)  # fmt: skip
    s = pd.Series(close)
    direction = np.sign(s.rolling(5).mean() - s.rolling(20).mean()).to_numpy()
    vol = np.log(s).diff().rolling(10).std().to_numpy() * math.sqrt(252)
    # ES: contracts = 0.2 * 1,000,000 / (price * $50 * vol), toward zero, capped at 100
    size = np.minimum(np.trunc(0.2 * CAPITAL / (close * 50.0 * vol)), 100)
    np.testing.assert_array_equal(got[:19, 0], NAN)  # the slow SMA needs 20 bars
    np.testing.assert_array_equal(got[19:, 0], direction[19:] * size[19:])
    assert np.all(np.abs(got[19:, 0]) >= 1)


# ---------------------------------------------------------------- Donchian breakout

# High = close + 1, low = close - 1. True ranges: 2,2,2,2, then bar 4 gaps from 100 to 105:
# max(106-104, |106-100|, |104-100|) = 6; bar 5: 2; bar 6: 2;
# bar 7: max(2, |105-107|, |103-107|) = 4; bar 8: max(2, |102-104|, |100-104|) = 4.
# Wilder ATR(2): 2, 2, 2, then 2 + (6-2)/2 = 4, 4 + (2-4)/2 = 3, 2.5, 3.25, 3.625.
DONCHIAN_PATH = [100, 100, 100, 100, 105, 106, 107, 104, 101]


def test_donchian_enters_on_breakout_exits_on_the_short_channel_and_reverses():
    got = _run("donchian_breakout", _bars(DONCHIAN_PATH), entry_window=3, exit_window=2,
               atr_window=2, risk_fraction=0.01, stop_atr_multiple=2.0)  # fmt: skip
    # t4: close 105 > max(high[1..3]) = 101 -> long. Size: 1% of 1,000,000 = 10,000 at risk;
    #     stop 2 * ATR 4 = 8 points * $50 = $400 per contract -> 25 contracts; stop 105-8 = 97.
    # t7: close 104 < min(low[5..6]) = min(105, 106) = 105 -> exit long.
    #     Then 104 vs entry channel low min(low[4..6]) = 104: not below -> flat.
    # t8: close 101 < min(low[5..7]) = 103 -> short. ATR 3.625: 10,000 / (2 * 3.625 * 50) = 27.6
    got_es = got[:, 0]
    np.testing.assert_array_equal(got_es, [0, 0, 0, 0, 25, 25, 25, 0, -27])


def test_donchian_stop_exits_before_the_channel_does():
    # Same entry at t4 but a tight stop: 0.5 ATR = 2 points -> 105 - 2 = 103.
    # Size 10,000 / (0.5 * 4 * 50 = 100) = 100 contracts, within the 100 cap.
    # t5: close 103 <= stop 103 -> out, although the exit channel low is min(99, 104) = 99.
    got = _run("donchian_breakout", _bars([100, 100, 100, 100, 105, 103]), entry_window=3,
               exit_window=2, atr_window=2, stop_atr_multiple=0.5)  # fmt: skip
    np.testing.assert_array_equal(got[:, 0], [0, 0, 0, 0, 100, 0])


def test_donchian_without_shorts_stays_flat_on_a_downside_break():
    got = _run("donchian_breakout", _bars(DONCHIAN_PATH), entry_window=3, exit_window=2,
               atr_window=2, allow_short=False)  # fmt: skip
    assert got[8, 0] == 0


def test_donchian_sizes_cl_with_its_own_point_value():
    # The same path on CL: $400 per contract becomes 2 * 4 * $1,000 = $8,000 -> 1 contract.
    bars = _bars(DONCHIAN_PATH, markets=("CL",))
    got = _run("donchian_breakout", bars, entry_window=3, exit_window=2, atr_window=2)
    assert got[4, 0] == 1  # floor(10,000 / 8,000)


# ---------------------------------------------------------------- time-series momentum


def test_ts_momentum_follows_the_sign_of_the_lookback_move():
    close = [100, 102, 101, 103, 104, 102, 100, 99, 101]
    got = _run("ts_momentum", _bars(close), lookback=3, vol_window=2, target_vol=0.05)
    # t3: 103-100 > 0 long; t4: 104-102 long; t5: 102-101 long;
    # t6: 100-103 short; t7: 99-104 short; t8: 101-102 short
    np.testing.assert_array_equal(np.sign(got[:, 0]), [NAN, NAN, NAN, 1, 1, 1, -1, -1, -1])
    # Size: 0.05 * 1,000,000 / (close * $50 * annualised std of the last 2 log returns)
    vol = np.log(pd.Series(close, dtype=float)).diff().rolling(2).std() * math.sqrt(252)
    size = np.minimum(np.trunc(0.05 * CAPITAL / (np.array(close) * 50 * vol.to_numpy())), 100)
    np.testing.assert_array_equal(np.abs(got[3:, 0]), size[3:])


def test_ts_momentum_portfolio_sizing_uses_the_diversification_multiplier():
    rng = np.random.default_rng(8)
    close = np.column_stack([4000 * np.exp(np.cumsum(rng.normal(0, 0.01, 60))),
                             75 * np.exp(np.cumsum(rng.normal(0, 0.02, 60)))])  # fmt: skip
    bars = _bars(close, markets=("ES", "CL"))
    got = _run("ts_momentum", bars, lookback=20, vol_window=20, average_correlation=0.0)
    # Two uncorrelated markets, half the budget each: multiplier 1/sqrt(0.5) = sqrt(2).
    vol = np.log(pd.DataFrame(close)).diff().rolling(20).std().to_numpy() * math.sqrt(252)
    budget = 0.10 * CAPITAL * 0.5 * math.sqrt(2)
    size = np.minimum(np.trunc(budget / (close * np.array([50.0, 1000.0]) * vol)), 100)
    np.testing.assert_allclose(np.abs(got[20:]), size[20:])


# ---------------------------------------------------------------- mean reversion


def test_rsi_mean_reversion_by_hand():
    # RSI(2) of 10,12,11,14,13 is 66.7, 88.9, 61.5 (see test_indicators); then
    # t5 close 10: gain 1+(0-1)/2 = 0.5, loss 0.625+(3-0.625)/2 = 1.8125 -> RSI 21.6
    # t6 close 11: gain 0.75, loss 0.90625 -> RSI 45.3
    # t7 close 13: gain 1.375, loss 0.453 -> RSI 75.2
    # t3: 88.9 > 70 short; t4: 61.5 still above the exit 50, hold;
    # t5: 21.6 <= 50 closes the short and < 30 opens a long; t6: 45.3 < 50 hold;
    # t7: 75.2 >= 50 closes the long and > 70 opens a short.
    got = _run("mean_reversion", _bars([10, 12, 11, 14, 13, 10, 11, 13]), rsi_window=2,
               sizing="fixed", contracts=3)  # fmt: skip
    np.testing.assert_array_equal(got[:, 0], [NAN, NAN, 0, -3, -3, 3, 3, -3])


def test_bollinger_mean_reversion_by_hand():
    # window 3, width 1 population std:
    # t2 [10,11,12]: mid 11, std 0.816 -> upper 11.82; close 12 above -> short
    # t3 [11,12,8]: mid 10.33, std 1.700 -> lower 8.63; close 8 <= mid closes the short and
    #     is below the lower band -> long
    # t4 [12,8,10]: mid 10; close 10 >= mid closes the long; inside the bands -> flat
    # t5 [8,10,13]: mid 10.33, std 2.055 -> upper 12.39; close 13 above -> short
    got = _run("mean_reversion", _bars([10, 11, 12, 8, 10, 13]), indicator="bollinger",
               bb_window=3, bb_width=1.0, sizing="fixed")  # fmt: skip
    np.testing.assert_array_equal(got[:, 0], [NAN, NAN, -1, 1, 0, -1])


# ---------------------------------------------------------------- carry


def test_roll_yield_is_annualised_by_the_months_between_contracts():
    assert annual_roll_yield(np.array([80.0]), np.array([79.0]), 1)[0] == pytest.approx(
        math.log(80 / 79) * 12
    )
    assert annual_roll_yield(np.array([80.0]), np.array([79.0]), 3)[0] == pytest.approx(
        math.log(80 / 79) * 4
    )


def test_carry_is_long_backwardation_and_short_contango():
    # Front alternates 80/81; first 5 bars next = front - 1 (backwardation), then front + 2.
    front = np.array([80, 81, 80, 81, 80, 81, 80, 81], dtype=float)
    next_ = np.concatenate([front[:5] - 1, front[5:] + 2])
    bars = _bars(front, markets=("CL",), next_close=next_)
    got = _run("carry", bars, smoothing_window=1, vol_window=2, target_vol=0.05)
    # t0, t1: vol (2 returns) not ready -> NaN; then long while backwardated, short after.
    np.testing.assert_array_equal(np.sign(got[:, 0]), [NAN, NAN, 1, 1, 1, -1, -1, -1])


def test_carry_dead_band_depends_on_months_between():
    front = np.array([80, 81, 80, 81, 80], dtype=float)
    bars = _bars(front, markets=("CL",), next_close=front - 1)
    # ln(80/79) * 12 = 0.151 (monthly) but only 0.050 for contracts 3 months apart.
    monthly = _run("carry", bars, smoothing_window=1, vol_window=2, min_annual_yield=0.1)
    quarterly = _run("carry", bars, smoothing_window=1, vol_window=2, min_annual_yield=0.1,
                     months_between=3)  # fmt: skip
    assert np.all(monthly[2:, 0] > 0)
    np.testing.assert_array_equal(quarterly[2:, 0], 0)


def test_carry_without_the_next_contract_says_what_is_missing():
    with pytest.raises(ValueError, match=r"needs the next contract's close \(Bars.next_close\)"):
        _run("carry", _bars([80, 81, 82]))


# ---------------------------------------------------------------- calendar spread


def test_calendar_spread_trades_the_z_score_with_equal_legs():
    # CL2 = 70 flat; CL1 = 70 + spread. Sample std over 3 bars:
    # t2 [1, 1.2, 1.0]: z = -0.58 -> nothing;  t3 [1.2, 1.0, 1.1]: z = 0
    # t4 [1.0, 1.1, 3.0]: mean 1.7, std 1.127, z = 1.15 > 1 -> short the spread
    # t5 [1.1, 3.0, 3.2]: mean 2.433, std 1.159, z = 0.66 > 0.5 -> hold
    # t6 [3.0, 3.2, 1.0]: mean 2.4, std 1.217, z = -1.15: closes the short and buys the spread
    spread = np.array([1.0, 1.2, 1.0, 1.1, 3.0, 3.2, 1.0])
    close = np.column_stack([70 + spread, np.full(7, 70.0), np.full(7, 4000.0)])
    bars = _bars(close, markets=("CL1", "CL2", "ES"))
    got = _run("calendar_spread", bars, front_market="CL1", back_market="CL2", z_window=3,
               entry_z=1.0, exit_z=0.5, contracts=2)  # fmt: skip
    np.testing.assert_array_equal(got[:, 0], [NAN, NAN, 0, 0, -2, -2, 2])
    np.testing.assert_array_equal(got[:, 1], [NAN, NAN, 0, 0, 2, 2, -2])
    np.testing.assert_array_equal(got[:, 2], 0)  # the other market is held flat


def test_calendar_spread_refuses_a_leg_outside_the_panel():
    with pytest.raises(ValueError, match="leg 'CL3' is not a market of the panel"):
        _run("calendar_spread", _bars(np.ones((5, 2)), markets=("CL1", "CL2")),
             front_market="CL1", back_market="CL3")  # fmt: skip


def test_calendar_spread_refuses_legs_of_different_roots():
    with pytest.raises(ValueError, match=r"different point values \(50\.0 vs 1000\.0\)"):
        _run("calendar_spread", _bars(np.ones((5, 2)), markets=("ES", "CL")),
             front_market="ES", back_market="CL")  # fmt: skip


# ---------------------------------------------------------------- no look-ahead


def _random_panel(seed: int, n: int = 120) -> Bars:
    rng = np.random.default_rng(seed)
    front = np.column_stack([4000 * np.exp(np.cumsum(rng.normal(0, 0.01, n))),
                             75 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))])  # fmt: skip
    front[rng.random(front.shape) < 0.03] = NAN  # holidays
    back = front * np.exp(rng.normal(0, 0.01, front.shape))
    spread = np.abs(rng.normal(0, 0.01, front.shape)) * front
    return _bars(front, markets=("CL1", "CL2"), high=front + spread, low=front - spread,
                 next_close=back)  # fmt: skip


SMALL_PARAMS = {
    "ma_crossover": MACrossoverParams(fast_window=3, slow_window=10, vol_window=5),
    "donchian_breakout": DonchianBreakoutParams(entry_window=10, exit_window=5, atr_window=5),
    "ts_momentum": TSMomentumParams(lookback=10, vol_window=5, min_move_atr=0.5),
    "mean_reversion": MeanReversionParams(indicator="rsi", rsi_window=5, vol_window=5),
    "carry": CarryParams(smoothing_window=5, vol_window=5, average_correlation=0.3),
    "calendar_spread": CalendarSpreadParams(front_market="CL1", back_market="CL2", z_window=10),
}


@pytest.mark.parametrize("name", sorted(SMALL_PARAMS))
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cut=st.integers(1, 119))
def test_targets_up_to_a_bar_do_not_change_when_later_bars_are_removed(name, seed, cut):
    bars = _random_panel(seed)
    strategy = get_template(name)
    sizing = _sizing(bars.markets)
    full = strategy.targets(bars, SMALL_PARAMS[name], sizing)
    head = Bars(*(a[:cut] if isinstance(a, np.ndarray) else a for a in bars))
    part = strategy.targets(head, SMALL_PARAMS[name], sizing)
    np.testing.assert_array_equal(full[:cut], part)


MORE_VARIANTS = [
    ("mean_reversion", MeanReversionParams(indicator="bollinger", bb_window=10, vol_window=5)),
    ("ma_crossover", MACrossoverParams(fast_window=3, slow_window=8, ma_kind="ema",
                                       rebalance_buffer=0.2, allow_short=False)),
    ("donchian_breakout", DonchianBreakoutParams(entry_window=5, exit_window=2, atr_window=3,
                                                 stop_atr_multiple=0.5)),
    ("carry", CarryParams(smoothing_window=1, min_annual_yield=0.05, months_between=3)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "params"), MORE_VARIANTS)
@pytest.mark.parametrize("cut", [7, 15, 60, 119])
def test_other_variants_have_no_look_ahead_either(name, params, cut):
    bars = _random_panel(99)
    strategy = get_template(name)
    full = strategy.targets(bars, params, _sizing(bars.markets))
    head = Bars(*(a[:cut] if isinstance(a, np.ndarray) else a for a in bars))
    np.testing.assert_array_equal(full[:cut], strategy.targets(head, params, _sizing(bars.markets)))


# ---------------------------------------------------------------- parameters and registry


def test_registry_lists_every_template_with_a_documented_schema():
    infos = list_templates()
    assert [i.name for i in infos] == [
        "ma_crossover", "donchian_breakout", "ts_momentum", "mean_reversion", "carry",
        "calendar_spread",
    ]  # fmt: skip
    for info in infos:
        assert info.title
        assert info.description
        props = info.params_schema["properties"]
        undocumented = [k for k, v in props.items() if not v.get("description")]
        assert not undocumented, f"{info.name}: {undocumented}"
        assert get_template(info.name).name == info.name


def test_unknown_template_names_the_known_ones():
    with pytest.raises(
        ValueError, match="unknown strategy template 'turtle'; known templates: ma_"
    ):
        get_template("turtle")


@pytest.mark.parametrize(
    ("model", "values", "message"),
    [
        (MACrossoverParams, {"fast_window": 50, "slow_window": 20}, "fast_window \\(50\\) must be"),
        (MACrossoverParams, {"fast_windw": 5}, "Extra inputs are not permitted"),
        (MACrossoverParams, {"target_vol": -0.1}, "greater than 0"),
        (DonchianBreakoutParams, {"entry_window": 20, "exit_window": 20}, "exit_window \\(20\\)"),
        (MeanReversionParams, {"rsi_lower": 60}, "rsi_lower < rsi_exit < rsi_upper"),
        (CalendarSpreadParams, {"front_market": "CL1", "back_market": "CL1"}, "are both 'CL1'"),
        (CalendarSpreadParams, {"front_market": "CL1", "back_market": "CL2", "exit_z": 3.0},
         "exit_z \\(3.0\\) must be smaller"),
        (CarryParams, {"months_between": 0}, "greater than or equal to 1"),
    ],
)  # fmt: skip
def test_bad_parameters_are_refused_with_a_clear_message(model, values, message):
    with pytest.raises(ValidationError, match=message):
        model(**values)


def test_params_are_frozen_and_must_be_the_templates_own_model():
    params = MACrossoverParams()
    with pytest.raises(ValidationError, match="frozen"):
        params.fast_window = 5  # type: ignore[misc]
    with pytest.raises(TypeError, match="'ma_crossover' takes MACrossoverParams, got CarryParams"):
        get_template("ma_crossover").targets(_bars(MA_PATH), CarryParams(), _sizing(("ES",)))


def test_a_panel_and_sizing_context_that_disagree_are_refused():
    with pytest.raises(
        ValueError, match=r"SizingContext.point_value has shape \(1,\), expected \(2,\)"
    ):
        get_template("ma_crossover").targets(
            _bars(np.ones((5, 2)), markets=("ES", "CL")), MACrossoverParams(), _sizing(("ES",))
        )


def test_rebalance_buffer_ignores_small_size_changes():
    from contango.engine.kernels.templates_nb import buffer_targets_nb

    wanted = np.array([[NAN, 20, 22, 19, 25, -10, -10.5, 0, 5]]).T
    # 10% of the new target: 22 is within 2.2 of 20 and 19 within 1.9 -> hold 20;
    # 25 is 5 > 2.5 away -> trade to 25; the sign flip to -10 always trades;
    # -10.5 is within 1.05 of -10 -> hold; flat (0) always trades; 5 from flat trades.
    got = buffer_targets_nb(wanted, 0.10)
    np.testing.assert_array_equal(got[:, 0], [NAN, 20, 20, 20, 25, -10, -10, 0, 5])


def test_rebalance_buffer_param_reduces_trading_in_a_template():
    bars = _random_panel(5, n=200)
    strategy = get_template("ts_momentum")
    exact = strategy.targets(bars, TSMomentumParams(lookback=20), _sizing(bars.markets))
    calm = strategy.targets(
        bars, TSMomentumParams(lookback=20, rebalance_buffer=0.2), _sizing(bars.markets)
    )
    changes = [np.nansum(np.abs(np.diff(np.nan_to_num(t), axis=0))) for t in (exact, calm)]
    assert changes[1] < changes[0]
    np.testing.assert_array_equal(np.sign(exact), np.sign(calm))  # same side, only size damped
