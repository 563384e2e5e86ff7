"""Hand-worked futures examples, each run through the numba kernel AND the Python reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from engine_twins import CL, ES, FESX, TWINS, Twin, make_bars

from contango.engine.bars import ContractPanel
from contango.engine.config import MarginCallConfig, MarketSpec, SimulationConfig

NAN = math.nan
CAPITAL = 1_000_000.0


@pytest.fixture(params=sorted(TWINS))
def twin(request: pytest.FixtureRequest) -> Twin:
    return TWINS[request.param]


def test_es_two_contracts_4000_to_4010_25_make_1025_gross(twin: Twin) -> None:
    # Signal on bar 0 buys 2 at bar 1's open (4000.00); signal on bar 2 sells at bar 3's open.
    bars = make_bars([4000.0, 4000.0, 4005.0, 4010.25, 4011.0])
    spec = ES.model_copy(update={"commission": 2.0, "exchange_fee": 1.5})
    out = twin(bars, [spec], [2, NAN, 0, NAN, NAN], SimulationConfig(capital=CAPITAL))
    (trade,) = out.trades
    assert trade["entry_price"] == 4000.0
    assert trade["exit_price"] == 4010.25
    assert trade["pnl_gross"] == pytest.approx(2 * 10.25 * 50)  # 1,025
    # fees: 2 contracts x (2.00 + 1.50) per side x 2 sides = 14
    assert trade["fees"] == pytest.approx(14.0)
    assert trade["pnl_net"] == pytest.approx(1025.0 - 14.0)
    assert out.equity[-1] == pytest.approx(CAPITAL + 1011.0)
    assert [f["bar"] for f in out.fills] == [1, 3]
    assert trade["exit_reason"] == "signal"


def test_equity_is_marked_to_each_close(twin: Twin) -> None:
    bars = make_bars([4000.0, 4000.0, 4010.0], close=[4000.0, 4004.0, 3990.0])
    out = twin(bars, [ES], [1, NAN, NAN], SimulationConfig(capital=CAPITAL))
    # bar 1: bought at 4000, close 4004 -> +4 x 50 = 200; bar 2: close 3990 -> -10 x 50 = -500
    np.testing.assert_allclose(out.equity, [CAPITAL, CAPITAL + 200.0, CAPITAL - 500.0])
    np.testing.assert_allclose(out.cash, CAPITAL)  # nothing realised yet
    assert out.trades[0]["is_open"] == 1
    assert out.trades[0]["pnl_gross"] == pytest.approx(-500.0)


def test_one_tick_slippage_costs_12_50_per_contract_per_side(twin: Twin) -> None:
    bars = make_bars([4000.0, 4000.0, 4005.0, 4010.25])
    config = SimulationConfig(capital=CAPITAL, slippage_ticks=1.0)
    out = twin(bars, [ES], [2, NAN, 0, NAN], config)
    assert [f["price"] for f in out.fills] == [4000.25, 4010.0]
    # 2 contracts x 2 sides x 0.25 points x $50 = $50 less than the 1,025 without slippage
    assert out.trades[0]["pnl_gross"] == pytest.approx(1025.0 - 4 * 12.50)
    assert sum(f["slippage"] for f in out.fills) == pytest.approx(50.0)


def test_short_position_profits_when_price_falls(twin: Twin) -> None:
    bars = make_bars([4000.0, 4000.0, 3990.0, 3980.0])
    out = twin(bars, [ES], [-1, NAN, 0, NAN], SimulationConfig(capital=CAPITAL))
    assert out.trades[0]["direction"] == -1
    assert out.trades[0]["pnl_gross"] == pytest.approx((4000.0 - 3980.0) * 50)


def test_flip_from_long_to_short_closes_then_opens(twin: Twin) -> None:
    bars = make_bars([4000.0, 4000.0, 4010.0, 4000.0])
    spec = ES.model_copy(update={"commission": 1.0})
    out = twin(bars, [spec], [1, -2, NAN, NAN], SimulationConfig(capital=CAPITAL))
    first, second = out.trades
    assert first["pnl_gross"] == pytest.approx(10 * 50)
    assert first["fees"] == pytest.approx(2.0)  # 1 in, 1 of the 3 contracts of the flip
    assert second["direction"] == -1
    assert second["quantity"] == 2
    assert second["fees"] == pytest.approx(2.0)  # 2 of the 3 contracts of the flip
    assert second["pnl_gross"] == pytest.approx(2 * 10 * 50)  # short 2 from 4010, mark 4000


def test_fill_delay_zero_fills_at_the_signal_bars_close(twin: Twin) -> None:
    bars = make_bars([4000.0, 4010.0], close=[4002.0, 4012.0])
    out = twin(bars, [ES], [1, NAN], SimulationConfig(capital=CAPITAL, fill_delay=0))
    assert out.fills[0]["bar"] == 0
    assert out.fills[0]["price"] == 4002.0
    assert out.equity[-1] == pytest.approx(CAPITAL + 10 * 50)


def test_fill_delay_two_waits_two_bars(twin: Twin) -> None:
    bars = make_bars([4000.0, 4001.0, 4002.0])
    out = twin(bars, [ES], [1, NAN, NAN], SimulationConfig(capital=CAPITAL, fill_delay=2))
    assert out.fills[0]["bar"] == 2
    assert out.fills[0]["price"] == 4002.0


def test_no_fill_on_a_bar_without_data_the_order_waits(twin: Twin) -> None:
    bars = make_bars([4000.0, NAN, 4003.0], close=[4000.0, NAN, 4003.0])
    out = twin(bars, [ES], [1, NAN, NAN], SimulationConfig(capital=CAPITAL))
    assert [(f["bar"], f["price"]) for f in out.fills] == [(2, 4003.0)]
    np.testing.assert_array_equal(out.positions[:, 0], [0, 0, 1])


def test_cl_roll_closes_expiring_opens_next_and_charges_both_legs(twin: Twin) -> None:
    # CLF (index 0) until bar 1, CLG (index 1) from bar 2; CLF opens at 70.40 on the roll bar.
    bars = make_bars(
        [70.00, 70.20, 70.90, 71.10], close=[70.10, 70.30, 71.00, 71.20], markets=("CL",)
    )
    panel = ContractPanel(
        contract=np.array([[0], [0], [1], [1]]),
        roll_price=np.array([[NAN], [NAN], [70.40], [NAN]]),
        expiry_bar=np.array([[5], [5], [30], [30]]),
    )
    spec = CL.model_copy(update={"commission": 2.50})
    config = SimulationConfig(capital=CAPITAL, contract_mode="contracts")
    out = twin(bars, [spec], [1, NAN, NAN, NAN], config, contracts=panel)
    old, new = out.trades
    assert (old["contract"], old["entry_price"], old["exit_price"]) == (0, 70.20, 70.40)
    assert old["exit_reason"] == "roll"
    assert old["pnl_gross"] == pytest.approx(0.20 * 1_000)  # 200
    assert old["fees"] == pytest.approx(5.0)  # entry + roll exit
    assert (new["contract"], new["entry_price"], new["is_open"]) == (1, 70.90, 1)
    assert new["pnl_gross"] == pytest.approx(0.30 * 1_000)  # 71.20 - 70.90
    (roll,) = out.rolls
    assert (roll["from_contract"], roll["to_contract"], roll["qty"]) == (0, 1, 1.0)
    assert roll["fees"] == pytest.approx(5.0)  # both legs of the roll
    assert roll["closed_pnl"] == pytest.approx(200.0)
    assert out.equity[-1] == pytest.approx(CAPITAL + 200.0 + 300.0 - 7.5)


def test_position_is_closed_at_the_close_of_the_expiry_bar(twin: Twin) -> None:
    bars = make_bars([70.0, 70.2, 70.9, 71.1], close=[70.1, 70.5, 71.0, 71.2], markets=("CL",))
    panel = ContractPanel(
        contract=np.array([[0], [0], [1], [1]]),
        roll_price=np.full((4, 1), 70.3),
        expiry_bar=np.array([[1], [1], [30], [30]]),
    )
    config = SimulationConfig(capital=CAPITAL, contract_mode="contracts")
    out = twin(bars, [CL], [1, NAN, NAN, NAN], config, contracts=panel)
    (trade,) = out.trades
    assert (trade["exit_bar"], trade["exit_price"], trade["exit_reason"]) == (1, 70.5, "expiry")
    np.testing.assert_array_equal(out.positions[:, 0], [0, 0, 0, 0])
    assert out.rolls == []


def test_margin_call_liquidates_all_at_next_open(twin: Twin) -> None:
    # 20,000 capital, 1 ES (maintenance 11,000). Close 3815: equity 20,000 - 185 x 50 = 10,750.
    bars = make_bars([4000.0, 4000.0, 3810.0, 3800.0], close=[4000.0, 3815.0, 3805.0, 3800.0])
    out = twin(bars, [ES], [1, NAN, NAN, NAN], SimulationConfig(capital=20_000.0))
    (call,) = out.calls
    assert (call["bar"], call["equity"], call["maintenance"]) == (1, 10_750.0, 11_000.0)
    (trade,) = out.trades
    assert (trade["exit_bar"], trade["exit_price"], trade["exit_reason"]) == (
        2,
        3810.0,
        "margin_call",
    )
    assert out.equity[-1] == pytest.approx(20_000.0 - 190 * 50)


def test_margin_call_at_close_liquidates_at_that_close(twin: Twin) -> None:
    bars = make_bars([4000.0, 4000.0, 3810.0], close=[4000.0, 3815.0, 3805.0])
    config = SimulationConfig(capital=20_000.0, margin_call=MarginCallConfig(at="close"))
    out = twin(bars, [ES], [1, NAN, NAN], config)
    assert out.trades[0]["exit_bar"] == 1
    assert out.trades[0]["exit_price"] == 3815.0
    assert out.equity[-1] == pytest.approx(10_750.0)


def test_margin_call_restore_initial_keeps_what_equity_covers(twin: Twin) -> None:
    # 2 ES from 4000; close 3800 -> equity 40,000 - 2 x 200 x 50 = 20,000 < 22,000 maintenance.
    # Initial for 2 is 24,000; 20,000 / 24,000 x 2 = 1.67 -> keep 1 contract.
    bars = make_bars([4000.0, 4000.0, 3800.0], close=[4000.0, 3800.0, 3800.0])
    config = SimulationConfig(
        capital=40_000.0, margin_call=MarginCallConfig(action="restore_initial")
    )
    out = twin(bars, [ES], [2, NAN, NAN], config)
    assert out.calls[0]["initial"] == 24_000.0
    assert out.positions[-1, 0] == 1.0
    assert out.fills[-1]["qty"] == -1.0
    assert out.fills[-1]["reason"] == "margin_call"


def test_order_breaching_initial_margin_is_trimmed_and_recorded(twin: Twin) -> None:
    bars = make_bars([4000.0, 4000.0])
    out = twin(bars, [ES], [5, NAN], SimulationConfig(capital=30_000.0))
    # 30,000 / 12,000 = 2.5 -> 2 contracts
    assert out.positions[-1, 0] == 2.0
    (rej,) = out.rejects
    assert (rej["requested"], rej["allowed"], rej["reason"]) == (5.0, 2.0, "initial_margin")


def test_order_breaching_initial_margin_is_refused_with_reject_policy(twin: Twin) -> None:
    bars = make_bars([4000.0, 4000.0])
    config = SimulationConfig(capital=30_000.0, order_limits="reject")
    out = twin(bars, [ES], [5, NAN], config)
    assert out.positions[-1, 0] == 0.0
    assert out.fills == []
    assert out.rejects[0]["allowed"] == 0.0


def test_max_contracts_and_leverage_limits(twin: Twin) -> None:
    bars = make_bars([4000.0, 4000.0])
    capped = ES.model_copy(update={"max_contracts": 3.0})
    out = twin(bars, [capped], [5, NAN], SimulationConfig(capital=CAPITAL))
    assert out.positions[-1, 0] == 3.0
    assert out.rejects[0]["reason"] == "max_contracts"
    # leverage 1: notional 4000 x 50 = 200,000 per contract -> 5 contracts on 1,000,000
    out = twin(bars, [ES], [10, NAN], SimulationConfig(capital=CAPITAL, max_leverage=1.0))
    assert out.positions[-1, 0] == 5.0
    assert out.rejects[0]["reason"] == "max_leverage"


def test_reducing_a_position_is_never_refused(twin: Twin) -> None:
    bars = make_bars([4000.0, 4000.0, 3000.0, 3000.0], close=[4000.0, 3000.0, 3000.0, 3000.0])
    config = SimulationConfig(capital=60_000.0, margin_call=MarginCallConfig(at="close"))
    out = twin(bars, [ES.model_copy(update={"maintenance_margin": 0.0})], [2, 1, NAN, NAN], config)
    # equity after the fall is 60,000 - 2 x 1000 x 50 = -40,000, still the cut to 1 goes through
    assert out.positions[-1, 0] == 1.0
    assert out.rejects == []


def test_participation_cap_carries_the_remainder(twin: Twin) -> None:
    bars = make_bars([4000.0] * 5, volume=[10.0] * 5)
    config = SimulationConfig(capital=CAPITAL, participation=0.2)  # 2 contracts per bar
    out = twin(bars, [ES], [5, NAN, NAN, NAN, NAN], config)
    assert [f["qty"] for f in out.fills] == [2.0, 2.0, 1.0]
    assert [f["bar"] for f in out.fills] == [1, 2, 3]


def test_participation_cap_cancels_the_remainder(twin: Twin) -> None:
    bars = make_bars([4000.0] * 4, volume=[10.0] * 4)
    config = SimulationConfig(capital=CAPITAL, participation=0.2, remainder="cancel")
    out = twin(bars, [ES], [5, NAN, NAN, NAN], config)
    assert [f["qty"] for f in out.fills] == [2.0]


def test_fesx_pnl_in_eur_is_converted_with_eurusd(twin: Twin) -> None:
    bars = make_bars(
        [4000.0, 4000.0, 4020.0, 4050.0], close=[4000.0, 4010.0, 4030.0, 4050.0], markets=("FESX",)
    )
    eurusd = np.array([1.10, 1.10, 1.20, 1.25])
    spec = FESX.model_copy(update={"commission": 2.0})  # EUR per contract per side
    out = twin(
        bars, [spec], [1, NAN, 0, NAN], SimulationConfig(capital=CAPITAL), fx={"EUR": eurusd}
    )
    # bar 2 close: open P&L (4030 - 4000) x 10 EUR x 1.20 = 360 USD; entry fee 2 x 1.10 = 2.20
    assert out.equity[2] == pytest.approx(CAPITAL + 360.0 - 2.20)
    # exit at 4050: 50 x 10 = 500 EUR x 1.25 = 625 USD; exit fee 2 x 1.25 = 2.50
    assert out.trades[0]["pnl_gross"] == pytest.approx(625.0)
    assert out.equity[-1] == pytest.approx(CAPITAL + 625.0 - 4.70)
    assert out.margin[2] == pytest.approx(3_500.0 * 1.20)


def test_interest_accrues_on_cash_by_calendar_days(twin: Twin) -> None:
    bars = make_bars([4000.0, 4000.0, 4000.0], days=[0, 1, 3])  # a weekend between bars 1, 2
    config = SimulationConfig(capital=CAPITAL, interest_rate=0.05)
    out = twin(bars, [ES], [NAN, NAN, NAN], config)
    day1 = CAPITAL * 0.05 * 1 / 365  # 136.986...
    day3 = (CAPITAL + day1) * 0.05 * 2 / 365
    np.testing.assert_allclose(out.cash, [CAPITAL, CAPITAL + day1, CAPITAL + day1 + day3])
    assert out.interest == pytest.approx(day1 + day3)


def test_delta_orders_add_to_the_position(twin: Twin) -> None:
    bars = make_bars([4000.0, 4000.0, 4000.0, 4000.0])
    config = SimulationConfig(capital=CAPITAL, order_size="delta")
    out = twin(bars, [ES], [1, 2, -3, NAN], config)
    np.testing.assert_array_equal(out.positions[:, 0], [0, 1, 3, 0])


def test_two_markets_share_one_account(twin: Twin) -> None:
    bars = make_bars(
        np.array([[4000.0, 70.0], [4000.0, 70.0], [4010.0, 71.0]]), markets=("ES", "CL")
    )
    out = twin(
        bars,
        [ES, CL],
        np.array([[1, -1], [NAN, NAN], [NAN, NAN]]),
        SimulationConfig(capital=CAPITAL),
    )
    # ES +10 x 50 = 500, CL short 1 from 70 to 71 = -1,000
    assert out.equity[-1] == pytest.approx(CAPITAL + 500.0 - 1_000.0)
    assert out.margin[-1] == pytest.approx(12_000.0 + 6_000.0)
    assert out.exposure[-1] == pytest.approx(4010.0 * 50 + 71.0 * 1_000)


def test_atr_slippage_uses_the_previous_bars_atr() -> None:
    from contango.engine.run import run_backtest

    bars = make_bars([4000.0, 4000.0, 4000.0])
    atr = np.array([[4.0], [8.0], [8.0]])
    res = run_backtest(
        bars,
        [ES],
        targets=np.array([[1.0], [NAN], [NAN]]),
        atr=atr,
        config=SimulationConfig(capital=CAPITAL, slippage_atr=0.1),
    )
    assert res.fills["price"][0] == pytest.approx(4000.0 + 0.1 * 4.0)


def test_market_spec_refuses_maintenance_above_initial() -> None:
    with pytest.raises(ValueError, match="maintenance_margin"):
        MarketSpec(
            name="ES", point_value=50, tick_size=0.25, initial_margin=1.0, maintenance_margin=2.0
        )
