"""Invariants on random markets, targets and settings; the kernel must equal the reference."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from engine_twins import CL, ES, FESX, make_bars, run_kernel, run_reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contango.engine.bars import Bars, ContractPanel
from contango.engine.config import MarginCallConfig, MarketSpec, SimulationConfig

SPECS = (
    ES.model_copy(update={"commission": 2.0, "exchange_fee": 1.2}),
    CL.model_copy(update={"commission": 2.5}),
    FESX.model_copy(update={"commission": 1.0}),
)


class Scenario:
    """One random backtest: bars, specs, targets, config and the roll panel."""

    def __init__(self, seed: int, n: int, m: int, options: dict[str, Any]) -> None:
        rng = np.random.default_rng(seed)
        base = np.array([4000.0, 70.0, 4000.0])[:m]
        step = np.array([20.0, 1.0, 25.0])[:m] * options["volatility"]
        close = base + np.cumsum(rng.normal(0.0, 1.0, (n, m)) * step, axis=0)
        open_ = close + rng.normal(0.0, 0.3, (n, m)) * step
        high = np.maximum(open_, close) + rng.uniform(0, 1, (n, m)) * step
        low = np.minimum(open_, close) - rng.uniform(0, 1, (n, m)) * step
        holes = rng.random((n, m)) < options["holes"]
        self.contract_mode = options["contracts"]
        self.panel = None
        if self.contract_mode:
            holes[:] = False  # roll bars need prices; holes are tested in continuous mode
            period = options["roll_every"]
            contract = np.repeat(np.arange(n // period + 1), period)[:n]
            contract = np.tile(contract[:, None], (1, m)).astype(np.int64)
            expiry = (contract + 1) * period - 1 + options["expiry_slack"]
            roll_price = np.where(
                np.diff(contract, axis=0, prepend=-1) != 0,
                open_ - rng.normal(0, 1, (n, m)) * step,
                np.nan,
            )
            self.panel = ContractPanel(
                contract=contract, roll_price=roll_price, expiry_bar=expiry.astype(np.int64)
            )
        for a in (open_, high, low, close):
            a[holes] = np.nan
        volume = rng.integers(0, 12, (n, m)).astype(np.float64)
        self.bars = make_bars(open_, high, low, close, volume, markets=[s.name for s in SPECS[:m]])
        self.specs = list(SPECS[:m])
        raw = rng.integers(-3, 4, (n, m)).astype(np.float64)
        raw[rng.random((n, m)) < 0.5] = np.nan
        self.targets = raw
        self.fx = {"EUR": 1.1 + 0.05 * np.sin(np.arange(n))} if m == 3 else None
        self.config = SimulationConfig(
            capital=options["capital"],
            fill_delay=options["delay"],
            slippage_ticks=options["ticks"],
            participation=options["participation"],
            remainder=options["remainder"],
            order_limits=options["limits"],
            max_leverage=options["leverage"],
            interest_rate=options["interest"],
            margin_call=MarginCallConfig(action=options["action"], at=options["at"]),
            contract_mode="contracts" if self.contract_mode else "continuous",
        )

    def run(self, twin: Any) -> Any:
        return twin(
            self.bars, self.specs, self.targets, self.config, contracts=self.panel, fx=self.fx
        )


OPTIONS = st.fixed_dictionaries(
    {
        "holes": st.sampled_from([0.0, 0.15]),
        "volatility": st.sampled_from([1.0, 6.0]),
        "contracts": st.booleans(),
        "roll_every": st.integers(3, 8),
        "expiry_slack": st.integers(0, 2),
        "capital": st.sampled_from([15_000.0, 60_000.0, 1_000_000.0]),
        "delay": st.sampled_from([0, 1, 2]),
        "ticks": st.sampled_from([0.0, 1.0]),
        "participation": st.sampled_from([None, 0.3]),
        "remainder": st.sampled_from(["carry", "cancel"]),
        "limits": st.sampled_from(["reduce", "reject"]),
        "leverage": st.sampled_from([None, 4.0]),
        "interest": st.sampled_from([0.0, 0.04]),
        "action": st.sampled_from(["liquidate_all", "restore_initial"]),
        "at": st.sampled_from(["next_open", "close"]),
    }
)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scenario_strategy() -> st.SearchStrategy[Scenario]:
    return st.builds(
        Scenario, st.integers(0, 2**32 - 1), st.integers(2, 40), st.integers(1, 3), OPTIONS
    )


def _fill_keys(fills: list[dict[str, Any]]) -> list[tuple[int, int, float, str]]:
    return [(f["bar"], f["market"], f["qty"], f["reason"]) for f in fills]


@SETTINGS
@given(scenario_strategy())
def test_kernel_equals_reference(sc: Scenario) -> None:
    fast, slow = sc.run(run_kernel), sc.run(run_reference)
    assert _fill_keys(fast.fills) == _fill_keys(slow.fills)
    np.testing.assert_allclose(
        [f["price"] for f in fast.fills], [f["price"] for f in slow.fills], rtol=1e-12
    )
    for name in ("equity", "cash", "margin", "exposure", "positions"):
        np.testing.assert_allclose(
            getattr(fast, name), getattr(slow, name), rtol=1e-9, atol=1e-6, err_msg=name
        )
    assert len(fast.trades) == len(slow.trades)
    for a, b in zip(fast.trades, slow.trades, strict=True):
        assert (a["market"], a["entry_bar"], a["exit_bar"], a["exit_reason"]) == (
            b["market"],
            b["entry_bar"],
            b["exit_bar"],
            b["exit_reason"],
        )
        for key in ("pnl_gross", "fees", "pnl_net", "mae", "mfe", "entry_price"):
            assert a[key] == pytest.approx(b[key], rel=1e-9, abs=1e-6), key
    assert len(fast.rolls) == len(slow.rolls)
    assert len(fast.calls) == len(slow.calls)
    assert len(fast.rejects) == len(slow.rejects)


@SETTINGS
@given(scenario_strategy())
def test_trade_pnl_less_costs_plus_interest_is_the_change_in_equity(sc: Scenario) -> None:
    out = sc.run(run_kernel)
    total = sum(t["pnl_net"] for t in out.trades) + out.interest
    assert total == pytest.approx(out.equity[-1] - sc.config.capital, rel=1e-9, abs=1e-5)


@SETTINGS
@given(scenario_strategy())
def test_equity_is_cash_plus_open_pnl_on_every_bar(sc: Scenario) -> None:
    out = sc.run(run_kernel)
    # Replay the fills independently: average entry per market, marked to the close.
    pos = np.zeros(len(sc.specs))
    avg = np.zeros(len(sc.specs))
    mark = np.full(len(sc.specs), np.nan)
    fills = iter(out.fills)
    pending = next(fills, None)
    for t in range(sc.bars.n_bars):
        while pending is not None and pending["bar"] == t:
            j, q, px = pending["market"], pending["qty"], pending["price"]
            if pos[j] == 0 or np.sign(q) == np.sign(pos[j]):
                avg[j] = (abs(pos[j]) * avg[j] + abs(q) * px) / (abs(pos[j]) + abs(q))
            elif abs(q) > abs(pos[j]):
                avg[j] = px
            pos[j] += q
            pending = next(fills, None)
        close = sc.bars.close[t]
        mark = np.where(np.isnan(close), mark, close)
        fx = np.ones(len(sc.specs))
        if sc.fx is not None:
            fx[2] = sc.fx["EUR"][t]
        pv = np.array([s.point_value for s in sc.specs])
        open_pnl = np.nansum(np.where(pos != 0, pos * (mark - avg) * pv * fx, 0.0))
        np.testing.assert_array_equal(out.positions[t], pos)
        assert out.equity[t] == pytest.approx(out.cash[t] + open_pnl, rel=1e-9, abs=1e-6)


@SETTINGS
@given(scenario_strategy())
def test_no_fill_without_data_and_no_position_past_expiry(sc: Scenario) -> None:
    out = sc.run(run_kernel)
    for f in out.fills:
        t, j = f["bar"], f["market"]
        at_close = (
            sc.config.fill_delay == 0
            or f["reason"] == "expiry"
            or (f["reason"] == "margin_call" and sc.config.margin_call.at == "close")
        )
        price = sc.bars.close[t, j] if at_close else sc.bars.open[t, j]
        assert math.isfinite(price) or f["reason"] in ("expiry", "margin_call")
    if sc.panel is not None:
        held = out.positions != 0
        assert not (held & (np.arange(sc.bars.n_bars)[:, None] >= sc.panel.expiry_bar)).any()


@SETTINGS
@given(scenario_strategy())
def test_same_inputs_give_identical_results_bit_for_bit(sc: Scenario) -> None:
    first, second = sc.run(run_kernel), sc.run(run_kernel)
    for name in ("equity", "cash", "positions"):
        assert getattr(first, name).tobytes() == getattr(second, name).tobytes()
    assert first.fills == second.fills
    assert first.trades == second.trades


def test_scenario_helper_builds_bars() -> None:
    sc = Scenario(
        1,
        10,
        3,
        {
            "holes": 0.0,
            "volatility": 1.0,
            "contracts": True,
            "roll_every": 3,
            "expiry_slack": 0,
            "capital": 1e6,
            "delay": 1,
            "ticks": 0.0,
            "participation": None,
            "remainder": "carry",
            "limits": "reduce",
            "leverage": None,
            "interest": 0.0,
            "action": "liquidate_all",
            "at": "next_open",
        },
    )
    assert isinstance(sc.bars, Bars)
    assert sc.panel is not None
    assert isinstance(sc.specs[0], MarketSpec)
