"""Cross-check of Contango's engine against PyBroker on the moving-average crossover.

Both engines must produce the same closed trades (dates, direction, contracts, prices), the same
P&L and fees to the cent, the same position after every bar and the same equity curve; a small
series is also worked through by hand. Settings: fills at the next bar's open, per-contract
fees, no slippage, capital far above the notional and the margin held.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pybroker_markets import CL, ES

from contango.data.samples.load import load_samples
from contango.domain.rolls import Adjustment, CalendarRoll
from contango.engine.bars import Bars
from contango.engine.config import SimulationConfig
from contango.engine.templates.ma_crossover import MACrossoverParams
from contango.integrations.pybroker_crosscheck import (
    CENT,
    cross_check_from_store,
    cross_check_ma_crossover,
    ma_crossover_execution,
)

RICH = SimulationConfig(capital=10_000_000.0)


def _params(fast: int, slow: int, *, contracts: int = 1, short: bool = True) -> MACrossoverParams:
    return MACrossoverParams(
        fast_window=fast, slow_window=slow, sizing="fixed", contracts=contracts, allow_short=short
    )


def _bars(name: str, open_: np.ndarray, close: np.ndarray, spread: float) -> Bars:
    n = close.shape[0]
    ts = pd.bdate_range("2024-01-02", periods=n, tz="UTC").as_unit("ns").asi8
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    column = [a.reshape(n, 1).astype(np.float64) for a in (open_, high, low, close)]
    return Bars(ts, (name,), *column, volume=np.full((n, 1), 1_000.0))


def _random_walk(seed: int, n: int, start: float, step: float, tick: float) -> Bars:
    """A tick-aligned random walk with an open gapped away from the previous close."""
    rng = np.random.default_rng(seed)
    close = np.round((start + np.cumsum(rng.normal(0.0, step, n))) / tick) * tick
    open_ = np.round((np.roll(close, 1) + rng.normal(0.0, step / 3, n)) / tick) * tick
    open_[0] = close[0]
    return _bars("ES", open_, close, spread=4 * tick)


# ------------------------------------------------------------------ worked by hand

# Closes 100, 101, 102, 101, 99, 98, 99, 101, 103, 104; each open is the previous close + 0.25.
# SMA(2) vs SMA(3) from bar 2: long at bars 2-3 (101.5 > 101, 101.5 > 101.33), short at 4-6
# (100 < 100.67, 98.5 < 99.33, 98.5 < 98.67), long at 7-9 (100 > 99.33, 102 > 101, 103.5 >
# 102.67). Fills at the next open (previous close + 0.25): long at bar 3 @ 102.25, reverse at
# bar 5 @ 99.25, reverse at bar 8 @ 101.25, still long at the end (close 104).
HAND_CLOSE = np.array([100, 101, 102, 101, 99, 98, 99, 101, 103, 104], dtype=np.float64)
HAND_OPEN = np.concatenate(([100.0], HAND_CLOSE[:-1] + 0.25))


def test_hand_worked_crossover_gives_the_same_trades_in_both_engines() -> None:
    bars = _bars("ES", HAND_OPEN, HAND_CLOSE, spread=0.5)
    check = cross_check_ma_crossover(bars, ES, _params(2, 3), SimulationConfig(capital=1e6))

    assert check.mismatches() == []
    trades = check.pybroker_trades
    assert trades["entry_bar"].tolist() == [3, 5]
    assert trades["exit_bar"].tolist() == [5, 8]
    assert trades["direction"].tolist() == [1, -1]
    assert trades["entry_price"].tolist() == [102.25, 99.25]
    assert trades["exit_price"].tolist() == [99.25, 101.25]
    # (99.25 - 102.25) x $50 = -$150; (99.25 - 101.25) x $50 = -$100; $2.50 per side each.
    assert trades["pnl_gross"].tolist() == [-150.0, -100.0]
    assert trades["fees"].tolist() == [5.0, 5.0]
    assert trades["pnl_net"].tolist() == [-155.0, -105.0]
    # Open long from 101.25 marked at 104: +$137.50. Fees: 1 contract bought at bar 3, then
    # 2 contracts at each reversal (bars 5 and 8): (1 + 2 + 2) x $2.50 = $12.50.
    # 1,000,000 - 150 - 100 + 137.50 - 12.50 = 999,875.00
    assert check.pybroker.equity[-1] == pytest.approx(999_875.0, abs=CENT)
    assert check.contango.equity[-1] == pytest.approx(999_875.0, abs=CENT)
    assert check.pybroker.positions[:, 0].tolist() == [0, 0, 0, 1, 1, -1, -1, -1, 1, 1]


def test_hand_worked_crossover_long_only_goes_flat_instead_of_short() -> None:
    bars = _bars("ES", HAND_OPEN, HAND_CLOSE, spread=0.5)
    check = cross_check_ma_crossover(
        bars, ES, _params(2, 3, short=False), SimulationConfig(capital=1e6)
    )

    assert check.mismatches() == []
    assert check.pybroker_trades["direction"].tolist() == [1]
    assert check.pybroker_trades["pnl_net"].tolist() == [-155.0]
    # 1,000,000 - 155 (first trade) + 137.50 (open long) - 2.50 (its entry fee) = 999,980.00
    assert check.pybroker.equity[-1] == pytest.approx(999_980.0, abs=CENT)
    assert check.pybroker.positions[:, 0].tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 1, 1]


# ------------------------------------------------------------------ synthetic series


@pytest.mark.parametrize("short", [True, False])
def test_two_years_of_es_give_identical_trades_pnl_and_equity(short: bool) -> None:
    bars = _random_walk(7, 500, 4_500.0, 25.0, 0.25)
    check = cross_check_ma_crossover(bars, ES, _params(10, 50, short=short), RICH)

    assert check.mismatches() == []
    assert len(check.contango_trades) >= 5
    assert check.largest_equity_difference() < CENT
    assert check.contango.rejections.shape[0] == 0  # margin never trimmed an order
    assert check.contango.margin_calls.shape[0] == 0
    assert all(d < 1e-9 for d in check.metric_differences().values())
    # Independent of both engines: closed P&L + open P&L - fees = final equity - capital.
    theirs = check.pybroker_trades
    held = check.pybroker.positions[-1, 0]
    last_entry = check.pybroker.fills["price"].iloc[-1]
    open_pnl = held * (bars.close[-1, 0] - last_entry) * ES.point_value
    open_fee = abs(held) * 2.5
    total = theirs["pnl_net"].sum() + open_pnl - open_fee
    assert check.pybroker.equity[-1] - RICH.capital == pytest.approx(total, abs=CENT)


def test_several_contracts_and_reversals_agree() -> None:
    bars = _random_walk(11, 300, 4_200.0, 30.0, 0.25)
    check = cross_check_ma_crossover(bars, ES, _params(5, 20, contracts=3), RICH)

    assert check.mismatches() == []
    assert set(check.pybroker_trades["quantity"]) == {3.0}
    # A reversal trades 6 contracts in one PyBroker order: 6 x $2.50 = $15 of fees.
    reversal = check.pybroker.fills["qty"].abs() == 6
    assert reversal.any()
    assert check.pybroker.fills.loc[reversal, "fees"].eq(15.0).all()


def test_negative_back_adjusted_prices_are_lifted_and_still_agree() -> None:
    # A CL-like series that trades through zero to -37 (April 2020) and back.
    path = np.concatenate([np.linspace(25, -37, 60), np.linspace(-37, 30, 90)])
    rng = np.random.default_rng(3)
    close = np.round(path + rng.normal(0, 1.5, path.shape[0]), 2)
    open_ = np.round(np.roll(close, 1) + rng.normal(0, 0.5, close.shape[0]), 2)
    open_[0] = close[0]
    bars = _bars("CL", open_, close, spread=0.4)
    check = cross_check_ma_crossover(bars, CL, _params(5, 20), RICH)

    assert bars.low.min() < -37.0
    offset = check.pybroker.price_offsets["CL"]
    assert offset == np.ceil(-bars.low.min()) + 1
    assert check.mismatches() == []
    assert check.pybroker.fills["price"].min() < 0  # converted back to real points


def test_a_cash_account_smaller_than_one_contracts_notional_is_reported() -> None:
    # $100,000 covers ES margin ($15,000) but not the notional of 4,500 x $50 = $225,000 that
    # PyBroker's cash account must pay: PyBroker cannot buy, Contango can.
    bars = _random_walk(7, 200, 4_500.0, 25.0, 0.25)
    check = cross_check_ma_crossover(bars, ES, _params(10, 50), SimulationConfig(capital=1e5))
    problems = check.mismatches()
    assert problems
    assert problems[0].startswith("closed trades: Contango")


def test_only_fixed_simple_average_crossovers_are_reproduced() -> None:
    with pytest.raises(ValueError, match="sizing='vol_target'"):
        ma_crossover_execution(MACrossoverParams(fast_window=10, slow_window=50))


@settings(max_examples=6, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 10_000),
    fast=st.integers(2, 15),
    extra=st.integers(1, 40),
    contracts=st.integers(1, 4),
    short=st.booleans(),
)
def test_any_seeded_series_and_windows_agree_to_the_cent(
    seed: int, fast: int, extra: int, contracts: int, short: bool
) -> None:
    bars = _random_walk(seed, 250, 4_000.0, 20.0, 0.25)
    check = cross_check_ma_crossover(
        bars, ES, _params(fast, fast + extra, contracts=contracts, short=short), RICH
    )
    assert check.mismatches() == []


# ------------------------------------------------------------------ the bundled sample data


def test_bundled_es_sample_through_the_store_agrees_in_both_engines() -> None:
    (loaded,) = load_samples(markets=["ES"], years=2, minute_markets=[])
    check, versions = cross_check_from_store(
        "ES",
        _params(10, 50),
        RICH,
        rule=CalendarRoll(business_days_before=5),
        adjustment=Adjustment.DIFFERENCE,
        version=loaded.version.id,
        commission=2.0,
        exchange_fee=0.5,
    )
    assert versions == {"ES.1d": loaded.version.id}
    assert check.mismatches() == []
    assert len(check.contango_trades) >= 3
    assert check.largest_equity_difference() < CENT
