"""Indicators: hand-calculated bars, pandas on random panels with holes, and invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contango.engine import indicators as ind

NAN = np.nan


def _close(values: list[float]) -> np.ndarray:
    return np.array(values, dtype=np.float64)


# ---------------------------------------------------------------- hand-calculated examples


def test_sma_of_three_bars_is_the_plain_mean():
    # (2+4+6)/3 = 4, (4+6+2)/3 = 4, (6+2+10)/3 = 6
    got = ind.sma(_close([2, 4, 6, 2, 10]), 3)
    np.testing.assert_allclose(got, [NAN, NAN, 4.0, 4.0, 6.0])


def test_ema_is_seeded_with_the_sma_then_recurses_with_alpha_two_over_n_plus_one():
    # alpha = 2/(3+1) = 0.5; seed = mean(2,4,6) = 4; 4 + 0.5*(2-4) = 3; 3 + 0.5*(10-3) = 6.5
    got = ind.ema(_close([2, 4, 6, 2, 10]), 3)
    np.testing.assert_allclose(got, [NAN, NAN, 4.0, 3.0, 6.5])


def test_rolling_std_is_the_sample_std_by_default():
    # [2,4,6]: squared deviations 4+0+4 = 8, /2 -> var 4, std 2
    # [4,6,2]: mean 4, 0+4+4 = 8 -> 2;  [6,2,10]: mean 6, 0+16+16 = 32, /2 = 16 -> 4
    got = ind.rolling_std(_close([2, 4, 6, 2, 10]), 3)
    np.testing.assert_allclose(got, [NAN, NAN, 2.0, 2.0, 4.0])


HIGH = _close([10, 12, 11, 15, 13])
LOW = _close([8, 9, 7, 12, 11])
CLOSE = _close([9, 11, 8, 14, 12])


def test_true_range_uses_the_previous_close_for_gaps():
    # bar0: 10-8 = 2 (no previous close)
    # bar1: max(12-9, |12-9|, |9-9|) = 3
    # bar2: max(11-7, |11-11|, |7-11|) = 4
    # bar3: max(15-12, |15-8|, |12-8|) = 7   (gap up over the previous close of 8)
    # bar4: max(13-11, |13-14|, |11-14|) = 3
    np.testing.assert_allclose(ind.true_range(HIGH, LOW, CLOSE), [2, 3, 4, 7, 3])


def test_atr_is_wilder_smoothing_of_true_range():
    # window 2: seed (2+3)/2 = 2.5; 2.5 + (4-2.5)/2 = 3.25; 3.25 + (7-3.25)/2 = 5.125;
    # 5.125 + (3-5.125)/2 = 4.0625
    got = ind.atr(HIGH, LOW, CLOSE, 2)
    np.testing.assert_allclose(got, [NAN, 2.5, 3.25, 5.125, 4.0625])


def test_rsi_with_wilder_averages_by_hand():
    # closes 10,12,11,14,13 -> changes +2,-1,+3,-1; gains 2,0,3,0; losses 0,1,0,1
    # bar2: gain (2+0)/2 = 1, loss (0+1)/2 = 0.5 -> 100*1/1.5
    # bar3: gain 1+(3-1)/2 = 2, loss 0.5+(0-0.5)/2 = 0.25 -> 100*2/2.25
    # bar4: gain 2+(0-2)/2 = 1, loss 0.25+(1-0.25)/2 = 0.625 -> 100*1/1.625
    got = ind.rsi(_close([10, 12, 11, 14, 13]), 2)
    np.testing.assert_allclose(got, [NAN, NAN, 100 / 1.5, 200 / 2.25, 100 / 1.625])


def test_rsi_is_100_without_losses_and_50_without_moves():
    np.testing.assert_allclose(ind.rsi(_close([1, 2, 3, 4]), 2), [NAN, NAN, 100.0, 100.0])
    np.testing.assert_allclose(ind.rsi(_close([5, 5, 5, 5]), 2), [NAN, NAN, 50.0, 50.0])


def test_donchian_channel_excludes_the_current_bar():
    # window 2: upper[2] = max(10,12) = 12, upper[3] = max(12,11) = 12, upper[4] = max(11,15)
    # lower[2] = min(8,9) = 8, lower[3] = min(9,7) = 7, lower[4] = min(7,12) = 7
    ch = ind.donchian(HIGH, LOW, 2)
    np.testing.assert_allclose(ch.upper, [NAN, NAN, 12, 12, 15])
    np.testing.assert_allclose(ch.lower, [NAN, NAN, 8, 7, 7])
    np.testing.assert_allclose(ch.middle, [NAN, NAN, 10, 9.5, 11])
    # Bar 3 closes at 14 above the channel top of 12: a breakout known at bar 3's close.
    assert CLOSE[3] > ch.upper[3]


def test_bollinger_uses_population_std():
    # [2,4,6]: mean 4, population variance 8/3
    bands = ind.bollinger(_close([2, 4, 6]), window=3, width=2.0)
    half = 2.0 * math.sqrt(8.0 / 3.0)
    np.testing.assert_allclose(bands.middle, [NAN, NAN, 4.0])
    np.testing.assert_allclose(bands.upper, [NAN, NAN, 4.0 + half])
    np.testing.assert_allclose(bands.lower, [NAN, NAN, 4.0 - half])


def test_momentum_and_price_change_by_hand():
    close = _close([10, 12, 11, 14, 13])
    # 11/10-1 = 0.1, 14/12-1, 13/11-1
    np.testing.assert_allclose(ind.momentum(close, 2), [NAN, NAN, 0.1, 14 / 12 - 1, 13 / 11 - 1])
    np.testing.assert_allclose(ind.price_change(close, 2), [NAN, NAN, 1, 2, 2])


def test_momentum_is_undefined_on_a_non_positive_base_price():
    # Back-adjusted series can cross zero; a return on -1 is meaningless.
    np.testing.assert_allclose(ind.momentum(_close([-1, 2, 3]), 1), [NAN, NAN, 0.5])


def test_realized_volatility_annualises_the_sample_std_of_log_returns():
    close = _close([100, 110, 99, 108.9])
    up, down = math.log(1.1), math.log(0.9)
    # window 2 at bar 2: returns (up, down); sample std = |up - down| / sqrt(2)
    first = abs(up - down) / math.sqrt(2) * math.sqrt(252)
    got = ind.realized_volatility(close, 2, bars_per_year=252)
    np.testing.assert_allclose(got, [NAN, NAN, first, first])


def test_holes_are_skipped_per_market_not_filled():
    # Market 0 has every bar; market 1 misses bar 2 (a holiday on its exchange).
    panel = np.array([[1, 1], [2, 2], [3, NAN], [4, 4], [5, 5]], dtype=np.float64)
    got = ind.sma(panel, 2)
    np.testing.assert_allclose(got[:, 0], [NAN, 1.5, 2.5, 3.5, 4.5])
    # Market 1's window at bar 3 is its two last real closes, 2 and 4.
    np.testing.assert_allclose(got[:, 1], [NAN, 1.5, NAN, 3.0, 4.5])


def test_bad_windows_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="window must be a whole number of bars >= 1, got 0"):
        ind.sma(_close([1, 2]), 0)
    with pytest.raises(ValueError, match="ddof must be in"):
        ind.rolling_std(_close([1, 2]), 2, ddof=2)
    with pytest.raises(ValueError, match="differ in shape"):
        ind.atr(_close([1, 2]), _close([1]), _close([1, 2]), 1)
    with pytest.raises(ValueError, match="window >= 2"):
        ind.realized_volatility(_close([1, 2, 3]), 1)


# ---------------------------------------------------------------- pandas on random panels


def _random_panel(seed: int, n: int = 300, m: int = 3, hole_share: float = 0.05) -> dict:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, m)), axis=0))
    spread = np.abs(rng.normal(0, 0.5, (n, m)))
    high = close + spread
    low = close - np.abs(rng.normal(0, 0.5, (n, m)))
    holes = rng.random((n, m)) < hole_share
    for a in (close, high, low):
        a[holes] = NAN
    return {"close": close, "high": high, "low": low}


def _columns(panel: np.ndarray) -> list[tuple[np.ndarray, pd.Series]]:
    """Each market's valid rows and its gap-free pandas series."""
    out = []
    for j in range(panel.shape[1]):
        rows = np.flatnonzero(np.isfinite(panel[:, j]))
        out.append((rows, pd.Series(panel[rows, j])))
    return out


def _seeded_ewm(s: pd.Series, window: int, alpha: float) -> pd.Series:
    """Pandas' recursive EWM after replacing the first `window` values by their mean."""
    seeded = pd.concat([pd.Series([s.iloc[:window].mean()]), s.iloc[window:]], ignore_index=True)
    tail = seeded.ewm(alpha=alpha, adjust=False).mean()
    return pd.concat([pd.Series([NAN] * (window - 1), dtype=np.float64), tail], ignore_index=True)


@pytest.mark.parametrize("window", [1, 5, 20])
def test_window_indicators_match_pandas_on_random_panels(window):
    data = _random_panel(seed=window)
    close = data["close"]
    checks = {
        "sma": (ind.sma(close, window), lambda s: s.rolling(window).mean()),
        "ema": (ind.ema(close, window), lambda s: _seeded_ewm(s, window, 2 / (window + 1))),
        "std0": (ind.rolling_std(close, window, ddof=0), lambda s: s.rolling(window).std(ddof=0)),
        "mom": (ind.momentum(close, window), lambda s: s / s.shift(window) - 1),
        "chg": (ind.price_change(close, window), lambda s: s - s.shift(window)),
    }
    if window > 1:
        checks["std"] = (ind.rolling_std(close, window), lambda s: s.rolling(window).std())
        checks["rv"] = (
            ind.realized_volatility(close, window, bars_per_year=260),
            lambda s: np.log(s).diff().rolling(window).std() * math.sqrt(260),
        )
    for name, (got, reference) in checks.items():
        for j, (rows, s) in enumerate(_columns(close)):
            np.testing.assert_allclose(
                got[rows, j], reference(s).to_numpy(dtype=np.float64), rtol=1e-9, err_msg=name
            )
            assert np.isnan(np.delete(got[:, j], rows)).all(), f"{name}: holes must stay NaN"


@pytest.mark.parametrize("window", [2, 14])
def test_atr_rsi_and_donchian_match_pandas_on_random_panels(window):
    data = _random_panel(seed=100 + window)
    high, low, close = data["high"], data["low"], data["close"]
    got_atr = ind.atr(high, low, close, window)
    got_rsi = ind.rsi(close, window)
    got_ch = ind.donchian(high, low, window)
    for j in range(close.shape[1]):
        rows = np.flatnonzero(np.isfinite(close[:, j]))
        h, lo, c = (pd.Series(a[rows, j]) for a in (high, low, close))
        tr = pd.concat([h - lo, (h - c.shift()).abs(), (lo - c.shift()).abs()], axis=1).max(axis=1)
        np.testing.assert_allclose(got_atr[rows, j], _seeded_ewm(tr, window, 1 / window), rtol=1e-9)

        change = c.diff().iloc[1:].reset_index(drop=True)
        gain = _seeded_ewm(change.clip(lower=0), window, 1 / window)
        loss = _seeded_ewm((-change).clip(lower=0), window, 1 / window)
        expected_rsi = np.concatenate([[NAN], (100 - 100 / (1 + gain / loss)).to_numpy()])
        np.testing.assert_allclose(got_rsi[rows, j], expected_rsi, rtol=1e-9)

        np.testing.assert_allclose(got_ch.upper[rows, j], h.rolling(window).max().shift(1))
        np.testing.assert_allclose(got_ch.lower[rows, j], lo.rolling(window).min().shift(1))


# ---------------------------------------------------------------- invariants


prices = st.lists(st.floats(min_value=1.0, max_value=1e4, allow_nan=False), min_size=2, max_size=60)


@settings(max_examples=60, deadline=None)
@given(values=prices, window=st.integers(1, 10), cut=st.integers(1, 59))
def test_no_indicator_value_changes_when_later_bars_are_removed(values, window, cut):
    close = np.array(values)
    high, low = close * 1.01, close * 0.99
    cut = min(cut, len(values))
    full = _all_indicators(high, low, close, window)
    part = _all_indicators(high[:cut], low[:cut], close[:cut], window)
    for name in full:
        np.testing.assert_array_equal(full[name][:cut], part[name], err_msg=name)


def _all_indicators(high, low, close, window) -> dict[str, np.ndarray]:
    bands = ind.bollinger(close, window)
    ch = ind.donchian(high, low, window)
    return {
        "sma": ind.sma(close, window),
        "ema": ind.ema(close, window),
        "atr": ind.atr(high, low, close, window),
        "rsi": ind.rsi(close, window),
        "bb_up": bands.upper,
        "dc_up": ch.upper,
        "dc_lo": ch.lower,
        "mom": ind.momentum(close, window),
        "rv": ind.realized_volatility(close, max(window, 2)),
    }


@settings(max_examples=60, deadline=None)
@given(values=prices, window=st.integers(1, 10))
def test_channels_are_ordered_and_rsi_is_bounded(values, window):
    close = np.array(values)
    high, low = close * 1.02, close * 0.98
    for bands in (ind.bollinger(close, window), ind.donchian(high, low, window)):
        ok = np.isfinite(bands.middle)
        assert np.all(bands.lower[ok] <= bands.middle[ok] + 1e-9)
        assert np.all(bands.middle[ok] <= bands.upper[ok] + 1e-9)
    r = ind.rsi(close, window)
    r = r[np.isfinite(r)]
    assert np.all((r >= 0) & (r <= 100))


# ---------------------------------------------------------------- kernels vs plain loops


def test_rolling_kernels_make_a_window_with_a_nan_nan():
    from contango.engine.kernels.indicators_nb import (
        rolling_extreme_nb,
        rolling_mean_nb,
        rolling_std_nb,
    )

    x = _close([1, 2, NAN, 4, 5, 3])
    np.testing.assert_allclose(rolling_mean_nb(x, 2), [NAN, 1.5, NAN, NAN, 4.5, 4.0])
    np.testing.assert_allclose(rolling_extreme_nb(x, 2, True), [NAN, 2, NAN, NAN, 5, 5])
    np.testing.assert_allclose(rolling_extreme_nb(x, 2, False), [NAN, 1, NAN, NAN, 4, 3])
    # sample std of (4, 5) and (5, 3): |a - b| / sqrt(2)
    np.testing.assert_allclose(
        rolling_std_nb(x, 2, 1), [NAN, 1 / math.sqrt(2), NAN, NAN, 1 / math.sqrt(2), math.sqrt(2)]
    )


def test_running_sum_does_not_drift_over_a_long_series():
    from contango.engine.kernels.indicators_nb import rolling_extreme_nb, rolling_mean_nb

    rng = np.random.default_rng(12)
    # Large level, small moves: the case where an uncompensated running sum loses digits.
    x = 1e6 + rng.normal(0, 1e-3, 50_000).cumsum()
    window = 37
    windows = np.lib.stride_tricks.sliding_window_view(x, window)
    np.testing.assert_allclose(rolling_mean_nb(x, window)[window - 1 :], windows.mean(axis=1),
                               rtol=1e-13)  # fmt: skip
    np.testing.assert_array_equal(rolling_extreme_nb(x, window, True)[window - 1 :],
                                  windows.max(axis=1))  # fmt: skip
    np.testing.assert_array_equal(rolling_extreme_nb(x, window, False)[window - 1 :],
                                  windows.min(axis=1))  # fmt: skip


def test_one_gapless_market_gives_what_the_per_market_gather_gives() -> None:
    # A single market without a gap skips the gather and scatter: the same values as the
    # same series computed as one column of a panel (which takes the general route), and an
    # array of its own, never the input.
    rng = np.random.default_rng(11)
    close = 100.0 + np.cumsum(rng.normal(0.0, 1.0, 300))
    high, low = close + 1.0, close - 1.0
    panel = np.column_stack([close, close])
    cases = [
        (ind.sma(close, 20), ind.sma(panel, 20)[:, 0]),
        (ind.ema(close[:, None], 10)[:, 0], ind.ema(panel, 10)[:, 0]),
        (
            ind.atr(high, low, close, 14),
            ind.atr(high[:, None] + panel * 0, low[:, None] + panel * 0, panel, 14)[:, 0],
        ),
    ]
    for alone, in_panel in cases:
        assert np.array_equal(alone, in_panel, equal_nan=True)
    out = ind.sma(close, 1)
    assert np.array_equal(out, close)
    assert not np.shares_memory(out, close)
