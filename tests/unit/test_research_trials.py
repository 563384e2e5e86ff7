"""The trial registry: cumulative distinct trials per strategy, markets and data versions."""

from __future__ import annotations

import math

import numpy as np

from contango.research.trials import TrialKey, TrialLog, TrialRecord, trial_id
from contango.services.trials import load_trial_log, record_trials, trials_folder
from contango.settings import get_settings


def _record(fast: int, sharpe_per_bar: float, period: str = "2020") -> TrialRecord:
    params = {"fast_window": fast, "slow_window": 100}
    return TrialRecord(
        trial_id=trial_id(params, {"start": period}),
        params=params,
        sharpe=sharpe_per_bar * math.sqrt(252),
        sharpe_per_bar=sharpe_per_bar,
        n_obs=500,
        sweep_id="s1",
        recorded_at="2026-01-02T00:00:00+00:00",
    )


def test_key_is_canonical_whatever_the_order_of_markets_and_datasets() -> None:
    a = TrialKey.of("ma_crossover", ["ES", "CL"], {"ES.1d": "v1", "CL.1d": "v2"})
    b = TrialKey.of("ma_crossover", ["CL", "ES"], {"CL.1d": "v2", "ES.1d": "v1"})
    assert a == b
    assert a.key_id == b.key_id
    assert (
        TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "v2"}).key_id
        != TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "v1"}).key_id
    )  # new data, new count


def test_the_same_backtest_twice_counts_once_but_another_period_counts() -> None:
    key = TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "v1"})
    log = TrialLog(key=key).with_trials([_record(5, 0.01), _record(10, 0.02)])
    log = log.with_trials([_record(5, 0.01), _record(5, 0.03, period="2021")])
    assert log.n_trials == 3
    np.testing.assert_array_equal(log.sharpes_per_bar(), [0.01, 0.02, 0.03])


def test_log_survives_json_including_undefined_sharpe() -> None:
    key = TrialKey.of("carry", ["CL"], {"CL.1d": "abc"})
    log = TrialLog(key=key).with_trials([_record(5, float("nan")), _record(6, 0.5)])
    back = TrialLog.from_json(log.to_json())
    assert back.key == key
    assert back.n_trials == 2
    assert math.isnan(back.records[0].sharpe_per_bar)
    assert back.records[1] == log.records[1]


def test_registry_accumulates_across_sweeps_under_the_data_folder() -> None:
    key = TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "v1"})
    assert load_trial_log(key).n_trials == 0
    record_trials(key, [_record(5, 0.01), _record(10, 0.02)])
    log = record_trials(key, [_record(10, 0.02), _record(20, 0.04)])
    assert log.n_trials == 3
    assert load_trial_log(key).n_trials == 3
    assert trials_folder() == get_settings().data_dir / "research" / "trials"
    files = list(trials_folder().glob("*.json"))
    assert [f.name for f in files] == [f"ma_crossover-{key.key_id}.json"]
