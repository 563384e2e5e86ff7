"""The PyBroker bridge: point-value scaling, price offsets, settings mapping, isolation, and the
store-backed data source."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pybroker_markets import CL, ES

from contango.data.continuous_store import ContinuousRequestError
from contango.data.samples.load import load_samples
from contango.domain.rolls import Adjustment, CalendarRoll
from contango.engine.config import SimulationConfig
from contango.integrations.pybroker_bridge import (
    PerContractFees,
    PointValueScaling,
    UnsupportedSettingError,
    auto_price_offset,
    equivalent_config,
    isolated_scope,
    pybroker_frame,
    utc_naive,
    utc_ns,
)
from contango.integrations.pybroker_bridge import pybroker as pb
from contango.integrations.pybroker_source import ContangoDataSource, load_continuous_bars


def _ts(n: int) -> np.ndarray:
    return pd.bdate_range("2024-01-02", periods=n, tz="UTC").as_unit("ns").asi8


# ------------------------------------------------------------------ scaling and frames


def test_one_pybroker_share_is_one_contract_priced_in_dollars() -> None:
    scaling = PointValueScaling(point_value=50.0)
    # ES 4,500.25 points x $50 = $225,012.50 per contract; a 1-point move is $50.
    assert scaling.to_pybroker(np.array([4500.25]))[0] == 225_012.50
    assert scaling.to_pybroker(np.array([4501.25]))[0] - 225_012.50 == 50.0
    assert scaling.to_points(np.array([225_012.50]))[0] == 4500.25


def test_the_offset_lifts_prices_but_leaves_price_differences_unchanged() -> None:
    scaling = PointValueScaling(point_value=1_000.0, price_offset=39.0)
    lifted = scaling.to_pybroker(np.array([-37.63, 10.01]))
    # (-37.63 + 39) x 1000 = 1,370; (10.01 + 39) x 1000 = 49,010; difference 47.64 x 1000.
    assert lifted == pytest.approx([1_370.0, 49_010.0], abs=1e-9)
    assert lifted[1] - lifted[0] == pytest.approx(47_640.0, abs=1e-9)
    assert scaling.to_points(lifted) == pytest.approx([-37.63, 10.01], abs=1e-12)


def test_auto_offset_is_zero_for_positive_prices_and_whole_points_otherwise() -> None:
    assert auto_price_offset(np.array([0.01, 5.0])) == 0.0
    # CL's April 2020 low of -40.32: ceil(40.32) + 1 = 42 points lifts it to 1.68.
    assert auto_price_offset(np.array([-40.32, 18.0])) == 42.0
    assert auto_price_offset(np.array([0.0, 3.0])) == 1.0


def test_scaling_refuses_a_non_positive_point_value() -> None:
    with pytest.raises(ValueError, match="point_value must be a positive number"):
        PointValueScaling(point_value=0.0)


def test_frame_has_pybrokers_columns_and_naive_utc_dates() -> None:
    ts = _ts(2)
    ohlcv = np.array([[4500.0, 4510.0, 4490.0, 4505.25, 1200.0], [4505.0, 4506, 4480, 4481, 900]])
    frame = pybroker_frame("ES", ts, ohlcv, PointValueScaling(point_value=50.0))
    assert list(frame.columns) == ["symbol", "date", "open", "high", "low", "close", "volume"]
    assert frame["date"].dt.tz is None
    assert frame["date"].iloc[0] == pd.Timestamp("2024-01-02")
    assert frame["close"].tolist() == [225_262.5, 224_050.0]  # 4505.25 x 50, 4481 x 50
    assert frame["volume"].tolist() == [1200.0, 900.0]  # volume is contracts: not scaled
    assert utc_ns(frame["date"]).tolist() == ts.tolist()


def test_frame_refuses_a_missing_price_naming_the_bar() -> None:
    ohlcv = np.array([[1.0, 2.0, 0.5, 1.5, 10.0], [1.5, np.nan, 1.0, 1.2, 10.0]])
    with pytest.raises(ValueError, match="ES: bar 1 has a missing or infinite price"):
        pybroker_frame("ES", _ts(2), ohlcv, PointValueScaling(point_value=50.0))


def test_frame_refuses_a_non_positive_price_and_points_to_the_offset() -> None:
    ohlcv = np.array([[1.0, 2.0, 0.5, 1.5, 10.0], [-1.0, 0.5, -2.0, 0.2, 10.0]])
    with pytest.raises(ValueError, match=r"CL: bar 1 has low -2\.0 points.*auto_price_offset"):
        pybroker_frame("CL", _ts(2), ohlcv, PointValueScaling(point_value=1_000.0))


def test_naive_dates_round_trip_to_nanoseconds() -> None:
    ts = _ts(3)
    assert utc_ns(utc_naive(ts)).tolist() == ts.tolist()


# ------------------------------------------------------------------ settings


def test_equal_per_contract_fees_map_to_pybrokers_per_share_fee() -> None:
    config = equivalent_config(SimulationConfig(capital=5e6), [ES])
    # $2.00 commission + $0.50 exchange fee per contract per side.
    assert config.fee_mode == pb.common.FeeMode.PER_SHARE
    assert config.fee_amount == 2.5
    assert (config.buy_delay, config.sell_delay) == (1, 1)
    assert config.initial_cash == 5e6
    assert not config.round_fill_price
    assert not config.round_test_result
    assert not config.enable_fractional_shares
    assert not config.exit_on_last_bar


def test_different_fees_per_market_become_a_fee_function_per_symbol() -> None:
    config = equivalent_config(SimulationConfig(), [ES, CL])
    assert isinstance(config.fee_mode, PerContractFees)
    info = pb.common.FeeInfo(
        symbol="CL", shares=Decimal(2), fill_price=Decimal(70_000), order_type="buy"
    )
    assert config.fee_mode(info) == Decimal("6.2")  # 2 contracts x ($2.50 + $0.60)


def test_no_fees_turn_pybrokers_fees_off() -> None:
    free = ES.model_copy(update={"commission": 0.0, "exchange_fee": 0.0})
    assert equivalent_config(SimulationConfig(), [free]).fee_mode is None


def test_long_only_maps_to_pybrokers_long_only_mode() -> None:
    config = equivalent_config(SimulationConfig(), [ES], long_only=True)
    assert config.position_mode == pb.common.PositionMode.LONG_ONLY


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ({"slippage_ticks": 1.0}, "slippage_ticks"),
        ({"slippage_atr": 0.1}, "slippage_atr"),
        ({"fill_delay": 0}, "fill_delay=0"),
        ({"participation": 0.1}, "participation"),
        ({"max_leverage": 3.0}, "max_leverage"),
        ({"interest_rate": 0.02}, "interest_rate"),
        ({"contract_mode": "contracts"}, "cannot roll actual contracts"),
    ],
)
def test_settings_pybroker_cannot_express_are_refused_by_name(
    setting: dict[str, object], named: str
) -> None:
    with pytest.raises(UnsupportedSettingError, match=named):
        equivalent_config(SimulationConfig.model_validate(setting), [ES])


def test_a_market_in_another_currency_is_refused() -> None:
    fesx = ES.model_copy(update={"name": "FESX", "currency": "EUR"})
    with pytest.raises(UnsupportedSettingError, match=r"\['FESX'\].*account currency USD"):
        equivalent_config(SimulationConfig(), [fesx])


# ------------------------------------------------------------------ isolation


def test_isolated_scope_is_fresh_cache_free_and_restores_the_callers_scope() -> None:
    scope_class = pb.scope.StaticScope
    before = scope_class.instance()
    with isolated_scope():
        inside = scope_class.instance()
        assert inside is not before
        assert inside.data_source_cache is None
        assert inside.indicator_cache is None
        assert inside.model_cache is None
    assert scope_class.instance() is before


# ------------------------------------------------------------------ store-backed data source


@pytest.fixture
def es_store_version() -> str:
    """Two years of the bundled ES sample chain in this test's own data folder."""
    (result,) = load_samples(markets=["ES"], years=2, minute_markets=[])
    return result.version.id


def test_data_source_serves_the_continuous_series_in_dollars_per_contract(
    es_store_version: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    rule = CalendarRoll(business_days_before=5)
    with isolated_scope():
        source = ContangoDataSource(rule=rule, versions={"ES": es_store_version})
        frame = source.query("ES", "2024-01-01", "2025-12-31")
    expected = load_continuous_bars("ES", rule=rule, adjustment=Adjustment.DIFFERENCE)
    assert source.data_versions == {"ES.1d": es_store_version}
    assert source.scalings["ES"] == PointValueScaling(point_value=50.0, price_offset=0.0)
    assert len(frame) == expected.ts.shape[0]
    np.testing.assert_array_equal(frame["close"].to_numpy(), expected.ohlcv[:, 3] * 50.0)
    assert utc_ns(frame["date"]).tolist() == expected.ts.tolist()
    assert list(tmp_path.iterdir()) == []  # no cache folder in the working directory or home


def test_data_source_applies_pybrokers_inclusive_date_range(es_store_version: str) -> None:
    with isolated_scope():
        source = ContangoDataSource(versions={"ES": es_store_version})
        frame = source.query("ES", "2025-03-03", "2025-03-07")
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2025-03-03",
        "2025-03-04",
        "2025-03-05",
        "2025-03-06",
        "2025-03-07",
    ]


def test_data_source_refuses_an_unknown_version_naming_the_dataset(
    es_store_version: str,
) -> None:
    with isolated_scope():
        source = ContangoDataSource(versions={"ES": "000000000000"})
        with pytest.raises(ContinuousRequestError, match=r"ES\.1d"):
            source.query("ES", "2024-01-01", "2025-12-31")
    assert es_store_version != "000000000000"


def test_pybrokers_adjust_argument_selects_the_adjustment(es_store_version: str) -> None:
    rule = CalendarRoll(business_days_before=5)
    with isolated_scope():
        source = ContangoDataSource(rule=rule, adjustment=Adjustment.DIFFERENCE)
        raw = source.query("ES", "2024-01-01", "2025-12-31", adjust=Adjustment.NONE)
    unadjusted = load_continuous_bars("ES", rule=rule, adjustment=Adjustment.NONE)
    adjusted = load_continuous_bars("ES", rule=rule, adjustment=Adjustment.DIFFERENCE)
    np.testing.assert_array_equal(raw["close"].to_numpy(), unadjusted.ohlcv[:, 3] * 50.0)
    assert not np.array_equal(unadjusted.ohlcv[:, 3], adjusted.ohlcv[:, 3])  # rolls had gaps
    assert source.data_versions == {"ES.1d": es_store_version}
