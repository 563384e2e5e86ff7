"""Sizing and limits, by hand with real specs: ES $50/point, CL $1,000/point (1,000 bbl)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from contango.engine import sizing

ES_POINT_VALUE = 50.0
CL_POINT_VALUE = 1_000.0
POINT_VALUES = np.array([ES_POINT_VALUE, CL_POINT_VALUE])
CAPITAL = 1_000_000.0


def test_fixed_contracts_truncates_toward_zero():
    np.testing.assert_array_equal(sizing.fixed_contracts((2, 2), 3.9), np.full((2, 2), 3.0))
    with pytest.raises(ValueError, match="fixed contracts must be >= 0"):
        sizing.fixed_contracts((1,), -1)


def test_vol_target_sizes_es_and_cl_by_hand():
    price = np.array([[4000.0, 75.0]])
    vol = np.array([[0.16, 0.40]])
    # ES: 0.10 * 1,000,000 / (4000 * 50 * 0.16 = 32,000) = 3.125 -> 3
    # CL: 0.10 * 1,000,000 / (75 * 1000 * 0.40 = 30,000) = 3.33 -> 3
    got = sizing.vol_target_contracts(
        price, vol, point_value=POINT_VALUES, capital=CAPITAL, target_vol=0.10
    )
    np.testing.assert_array_equal(got, [[3.0, 3.0]])
    # 20% target: ES 6.25 -> 6, CL 6.67 -> 6, then the cap of 5 contracts binds.
    got = sizing.vol_target_contracts(
        price, vol, point_value=POINT_VALUES, capital=CAPITAL, target_vol=0.20, max_contracts=5
    )
    np.testing.assert_array_equal(got, [[5.0, 5.0]])


def test_vol_target_is_nan_without_a_usable_volatility():
    got = sizing.vol_target_contracts(
        np.array([4000.0, 4000.0, np.nan]),
        np.array([0.0, np.nan, 0.2]),
        point_value=ES_POINT_VALUE,
        capital=CAPITAL,
        target_vol=0.1,
    )
    assert np.isnan(got).all()


def test_diversification_multiplier_for_equal_weights():
    # rho = 0 with 4 markets: 1/sqrt(4 * (1/4)^2) = 2
    assert sizing.diversification_multiplier(0.0, np.full(4, 0.25)) == pytest.approx(2.0)
    # rho = 1: no diversification at all
    assert sizing.diversification_multiplier(1.0, np.full(3, 1 / 3)) == pytest.approx(1.0)
    # rho = 0 with 9 markets would be 3, capped at 2.5
    assert sizing.diversification_multiplier(0.0, np.full(9, 1 / 9)) == pytest.approx(2.5)
    # a 2x2 identity correlation matrix, equal weights: 1/sqrt(0.5) = sqrt(2)
    assert sizing.diversification_multiplier(np.eye(2)) == pytest.approx(math.sqrt(2))


def test_diversification_multiplier_refuses_bad_inputs():
    with pytest.raises(ValueError, match="average correlation must be in"):
        sizing.diversification_multiplier(1.5, np.full(2, 0.5))
    with pytest.raises(ValueError, match="sum to 1"):
        sizing.diversification_multiplier(0.5, np.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="does not match"):
        sizing.diversification_multiplier(np.eye(3), np.full(2, 0.5))


def test_portfolio_vol_target_splits_the_budget_and_applies_the_multiplier():
    price = np.array([[4000.0, 75.0]])
    vol = np.array([[0.16, 0.40]])
    # multiplier = 1/sqrt(0.5^2 + 0.5^2 + 2 * 0.5 * 0.5 * 0.2) = 1/sqrt(0.6) = 1.290994
    # budget per market = 0.20 * 1e6 * 0.5 * 1.290994 = 129,099.4
    # ES 129,099.4 / 32,000 = 4.03 -> 4;  CL 129,099.4 / 30,000 = 4.30 -> 4
    got = sizing.portfolio_vol_target_contracts(
        price,
        vol,
        point_value=POINT_VALUES,
        capital=CAPITAL,
        target_vol=0.20,
        average_correlation=0.2,
    )
    np.testing.assert_array_equal(got, [[4.0, 4.0]])


def test_atr_risk_sizes_es_and_cl_by_hand():
    # risk 1% of 1,000,000 = 10,000 per trade; stop 2 ATR away
    # ES ATR 50 points: 2 * 50 * $50 = $5,000 per contract -> 2 contracts
    # CL ATR $2.10:     2 * 2.10 * $1,000 = $4,200 per contract -> 2.38 -> 2 contracts
    got = sizing.atr_risk_contracts(
        np.array([50.0, 2.10]),
        point_value=POINT_VALUES,
        capital=CAPITAL,
        risk_fraction=0.01,
        atr_multiple=2.0,
    )
    np.testing.assert_array_equal(got, [2.0, 2.0])
    # 3% risk: ES 30,000/5,000 = 6 exactly; CL 30,000/4,200 = 7.14 -> 7
    got = sizing.atr_risk_contracts(
        np.array([50.0, 2.10]),
        point_value=POINT_VALUES,
        capital=CAPITAL,
        risk_fraction=0.03,
        atr_multiple=2.0,
    )
    np.testing.assert_array_equal(got, [6.0, 7.0])
    with pytest.raises(ValueError, match="risk_fraction must be in"):
        sizing.atr_risk_contracts(
            np.array([1.0]), point_value=50.0, capital=1e6, risk_fraction=2.0, atr_multiple=2.0
        )


def test_kelly_is_mean_over_variance_capped_then_fractioned():
    # mean 0.025; deviations ±0.075 -> sample variance 4 * 0.005625 / 3 = 0.0075
    # full Kelly 0.025 / 0.0075 = 3.333; half Kelly = 1.6667
    r = np.array([0.10, -0.05, 0.10, -0.05])
    assert sizing.kelly_fraction(r, cap=5.0, fraction=0.5) == pytest.approx(0.025 / 0.0075 / 2)
    # capped at 2 first, then halved -> 1.0
    assert sizing.kelly_fraction(r, cap=2.0, fraction=0.5) == pytest.approx(1.0)
    # losing strategy: negative Kelly (go the other way), capped symmetrically
    assert sizing.kelly_fraction(-r, cap=2.0, fraction=1.0) == pytest.approx(-2.0)
    with pytest.raises(ValueError, match="at least 2 finite returns"):
        sizing.kelly_fraction(np.array([0.1, np.nan]))


def test_leverage_contracts_by_hand():
    # ES notional 4000 * 50 = 200,000: leverage 1.0 of 1,000,000 -> 5; -0.5 -> -2.5 -> -2
    got = sizing.leverage_contracts(
        np.array([1.0, -0.5]), np.array([4000.0, 4000.0]), 50.0, CAPITAL
    )
    np.testing.assert_array_equal(got, [5.0, -2.0])


def test_cap_contracts_per_market():
    got = sizing.cap_contracts(np.array([[7.0, -9.0], [1.0, -1.0]]), np.array([5.0, 3.0]))
    np.testing.assert_array_equal(got, [[5.0, -3.0], [1.0, -1.0]])


def test_gross_leverage_cap_scales_pro_rata():
    price = np.array([[4000.0, 75.0], [4000.0, 75.0]])
    targets = np.array([[10.0, -4.0], [2.0, 1.0]])
    # row 0: gross 10*200,000 + 4*75,000 = 2,300,000 > 2 * 1,000,000
    #        factor 2.0/2.3 -> 8.70 -> 8 ES, -3.48 -> -3 CL (gross 1,825,000)
    # row 1: gross 475,000 is within budget, unchanged
    got = sizing.cap_gross_leverage(targets, price, POINT_VALUES, CAPITAL, max_leverage=2.0)
    np.testing.assert_array_equal(got, [[8.0, -3.0], [2.0, 1.0]])


def test_margin_cap_scales_pro_rata():
    margin = np.array([15_000.0, 7_000.0])  # ES and CL initial margin per contract
    targets = np.array([[4.0, -6.0]])
    # used 4*15,000 + 6*7,000 = 102,000 > 0.4 * 200,000 = 80,000
    # factor 80/102: 3.14 -> 3 ES, -4.71 -> -4 CL; used 45,000 + 28,000 = 73,000
    got = sizing.cap_margin_usage(targets, margin, capital=200_000.0, max_margin_fraction=0.4)
    np.testing.assert_array_equal(got, [[3.0, -4.0]])


@settings(max_examples=100, deadline=None)
@given(
    targets=arrays(np.float64, (5, 3), elements=st.floats(-50, 50)),
    margin=arrays(np.float64, 3, elements=st.floats(1_000, 30_000)),
    fraction=st.floats(0.0, 1.0),
)
def test_margin_cap_holds_and_never_grows_or_flips_a_position(targets, margin, fraction):
    capital = 250_000.0
    got = sizing.cap_margin_usage(targets, margin, capital, fraction)
    assert np.all((np.abs(got) * margin).sum(axis=1) <= fraction * capital + 1e-6)
    assert np.all(np.abs(got) <= np.abs(targets))
    assert np.all(got * targets >= 0)


def test_correlation_matrix_matches_pandas_pairwise_with_holes():
    rng = np.random.default_rng(4)
    common = rng.normal(0, 0.01, 300)
    r = np.column_stack([common + rng.normal(0, 0.01, 300) for _ in range(3)])
    r[rng.random(r.shape) < 0.1] = np.nan
    got = sizing.correlation_matrix(r)
    np.testing.assert_allclose(got, pd.DataFrame(r).corr(min_periods=20).to_numpy(), rtol=1e-12)
    # Each pair shares the common factor: correlation ~ 0.5 (equal variance halves)
    assert sizing.average_correlation(got) == pytest.approx(0.5, abs=0.1)


def test_average_correlation_by_hand_and_without_estimates():
    corr = np.array([[1.0, 0.2, 0.4], [0.2, 1.0, np.nan], [0.4, np.nan, 1.0]])
    assert sizing.average_correlation(corr) == pytest.approx(0.3)  # (0.2 + 0.4 + 0.2 + 0.4) / 4
    with pytest.raises(ValueError, match="no pair of markets"):
        sizing.average_correlation(np.array([[1.0, np.nan], [np.nan, 1.0]]))
