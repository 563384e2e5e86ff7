"""Bad inputs are refused at the edge with the market, bar and field named; configs hash
stably."""

from __future__ import annotations

import math

import numpy as np
import pytest
from engine_twins import ES, FESX, make_bars

from contango.engine.bars import ContractPanel
from contango.engine.config import SimulationConfig, canonical_json, config_hash
from contango.engine.run import StrategyError, run_backtest

NAN = math.nan


def test_roll_without_the_outgoing_price_names_market_and_bar() -> None:
    bars = make_bars([70.0, 70.1, 70.2], markets=("CL",))
    panel = ContractPanel(
        contract=np.array([[0], [0], [1]]),
        roll_price=np.full((3, 1), NAN),
        expiry_bar=np.array([[9], [9], [9]]),
    )
    with pytest.raises(ValueError, match=r"roll into contract 1 at market CL, bar 2"):
        run_backtest(
            bars,
            [ES.model_copy(update={"name": "CL"})],
            targets=np.zeros((3, 1)),
            config=SimulationConfig(contract_mode="contracts"),
            contracts=panel,
        )


def test_contract_active_after_its_expiry_is_refused() -> None:
    bars = make_bars([70.0, 70.1], markets=("CL",))
    panel = ContractPanel(
        contract=np.array([[0], [0]]),
        roll_price=np.full((2, 1), NAN),
        expiry_bar=np.array([[0], [0]]),
    )
    with pytest.raises(ValueError, match="active after its expiry bar 0 at market CL, bar 1"):
        run_backtest(
            bars,
            [ES.model_copy(update={"name": "CL"})],
            targets=np.zeros((2, 1)),
            config=SimulationConfig(contract_mode="contracts"),
            contracts=panel,
        )


def test_foreign_currency_market_needs_an_fx_series() -> None:
    bars = make_bars([4000.0, 4001.0], markets=("FESX",))
    with pytest.raises(ValueError, match="no EUR->USD FX series"):
        run_backtest(bars, [FESX], targets=np.zeros((2, 1)))
    with pytest.raises(ValueError, match="bar 1 holds nan"):
        run_backtest(bars, [FESX], targets=np.zeros((2, 1)), fx={"EUR": np.array([1.1, NAN])})


def test_targets_of_the_wrong_shape_or_infinite_are_refused() -> None:
    bars = make_bars([4000.0, 4001.0])
    with pytest.raises(ValueError, match=r"targets have shape \(3, 1\)"):
        run_backtest(bars, [ES], targets=np.zeros((3, 1)))
    with pytest.raises(ValueError, match="targets are infinite at bar 1, market ES"):
        run_backtest(bars, [ES], targets=np.array([[0.0], [np.inf]]))


def test_timestamps_must_increase() -> None:
    bars = make_bars([4000.0, 4001.0], days=[3, 2])
    with pytest.raises(ValueError, match="strictly increasing; bar 1"):
        run_backtest(bars, [ES], targets=np.zeros((2, 1)))


def test_market_specs_must_match_the_bars() -> None:
    bars = make_bars([4000.0, 4001.0])
    with pytest.raises(ValueError, match="do not match the bars' markets"):
        run_backtest(bars, [FESX], targets=np.zeros((2, 1)))


def test_config_hash_is_the_sha256_of_canonical_json() -> None:
    import hashlib

    config = SimulationConfig(capital=123.0, slippage_ticks=1.0)
    text = canonical_json(config)
    assert text == canonical_json(SimulationConfig(slippage_ticks=1.0, capital=123.0))
    assert config_hash(config) == hashlib.sha256(text.encode()).hexdigest()
    assert config_hash(config) != config_hash(config.model_copy(update={"capital": 124.0}))


def test_result_records_config_seed_versions_and_engine_version() -> None:
    import contango

    bars = make_bars([4000.0, 4001.0])
    res = run_backtest(
        bars, [ES], targets=np.zeros((2, 1)), seed=7, data_versions={"ES.1d": "abc123"}
    )
    assert res.seed == 7
    assert res.data_versions == {"ES.1d": "abc123"}
    assert res.engine_version == contango.__version__
    assert res.config_hash == config_hash(res.config)


def test_a_vectorized_strategy_that_raises_is_reported_with_its_traceback() -> None:
    from typing import ClassVar

    from pydantic import BaseModel

    class NoParams(BaseModel):
        pass

    class Broken:
        name: ClassVar[str] = "broken"
        Params: ClassVar[type[BaseModel]] = NoParams

        def targets(self, bars: object, params: object, sizing: object) -> object:
            raise ZeroDivisionError("division by zero in the signal")

    bars = make_bars([4000.0, 4001.0])
    with pytest.raises(StrategyError, match="'broken' raised ZeroDivisionError") as info:
        run_backtest(bars, [ES], strategy=Broken())  # type: ignore[arg-type]
    assert "division by zero in the signal" in info.value.traceback_text
