"""The trial registry: cumulative distinct trials per strategy, markets and data versions."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contango.research.trials import (
    TrialColumns,
    TrialKey,
    TrialLog,
    TrialRecord,
    canonical_texts,
    trial_id,
    trial_ids,
)
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


# A log as the registry wrote it before the columns: one indented object per trial.
_FORMAT_1_LOG = """{
 "key": {"strategy": "ma_crossover", "markets": ["ES"], "data_versions": [["ES.1d", "v1"]]},
 "records": [
  {
   "trial_id": "%s",
   "params": {"fast_window": 5, "slow_window": 100},
   "sharpe": null,
   "sharpe_per_bar": null,
   "n_obs": 500,
   "sweep_id": "s0",
   "recorded_at": "2025-12-01T00:00:00+00:00"
  },
  {
   "trial_id": "%s",
   "params": {"fast_window": 10, "slow_window": 100},
   "sharpe": 0.3175,
   "sharpe_per_bar": 0.02,
   "n_obs": 500,
   "sweep_id": "s0",
   "recorded_at": "2025-12-01T00:00:00+00:00"
  }
 ]
}
"""


def test_a_log_of_the_earlier_format_is_read_and_rewritten_in_columns() -> None:
    key = TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "v1"})
    old = _FORMAT_1_LOG % (_record(5, 0.0).trial_id, _record(10, 0.02).trial_id)
    path = trials_folder() / f"ma_crossover-{key.key_id}.json"
    path.parent.mkdir(parents=True)
    path.write_text(old, encoding="utf-8")
    log = load_trial_log(key)
    assert log.n_trials == 2
    assert math.isnan(log.records[0].sharpe)
    assert log.records[1].params == {"fast_window": 10, "slow_window": 100}
    assert log.records[1].sharpe == 0.3175
    # fast 10 again (already there) and fast 20 (new): 3 trials, the old ones first
    log = record_trials(key, [_record(10, 0.02), _record(20, 0.04)])
    assert [r.params["fast_window"] for r in log.records] == [5, 10, 20]
    assert [r.sweep_id for r in log.records] == ["s0", "s0", "s1"]
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == 2
    back = load_trial_log(key)
    assert back.records[1:] == log.records[1:]  # the first holds NaN, which equals nothing
    assert back.records[0].trial_id == log.records[0].trial_id
    assert math.isnan(back.records[0].sharpe_per_bar)


def test_an_identical_rerun_leaves_the_file_untouched() -> None:
    key = TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "v1"})
    record_trials(key, [_record(5, 0.01), _record(10, 0.02)])
    path = trials_folder() / f"ma_crossover-{key.key_id}.json"
    before = path.stat().st_mtime_ns, path.read_bytes()
    log = record_trials(key, [_record(10, 0.02), _record(5, 0.01)])
    assert log.n_trials == 2
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before


def test_a_log_of_a_newer_format_is_refused() -> None:
    text = json.dumps({"format": 99, "key": {}, "trials": {}})
    with pytest.raises(ValueError, match="format 99 is newer"):
        TrialLog.from_json(text)


def test_a_log_round_trips_with_many_trials_in_order() -> None:
    key = TrialKey.of("carry", ["CL", "ES"], {"CL.1d": "a", "ES.1d": "b"})
    records = [_record(f, f / 1000 if f % 7 else float("nan")) for f in range(1, 300)]
    log = TrialLog(key=key).with_trials(records)
    back = TrialLog.from_json(log.to_json())
    assert back.key == key
    assert [r.trial_id for r in back.records] == [r.trial_id for r in records]
    np.testing.assert_array_equal(back.sharpes_per_bar(), log.sharpes_per_bar())  # NaN == NaN


_PARAM_VALUES = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
    st.lists(st.integers(0, 9), max_size=3),
)


@settings(max_examples=50, deadline=None)
@given(
    params=st.lists(st.dictionaries(st.text(min_size=1, max_size=6), _PARAM_VALUES), max_size=5),
    context=st.dictionaries(st.text(min_size=1, max_size=6), _PARAM_VALUES, max_size=4),
)
def test_batch_trial_ids_equal_one_by_one_ids(
    params: list[dict[str, object]], context: dict[str, object]
) -> None:
    assert trial_ids(params, context) == [trial_id(p, context) for p in params]


def test_trial_id_is_the_hash_of_the_sorted_compact_json() -> None:
    # sha256 of the exact text, keys sorted at every level, no spaces
    text = '{"context":{"end":"None","start":"2020-01-01"},"params":{"fast":5,"slow":100}}'
    expected = hashlib.sha256(text.encode()).hexdigest()
    context = {"start": "2020-01-01", "end": "None"}
    assert trial_id({"slow": 100, "fast": 5}, context) == expected
    assert trial_ids([{"slow": 100, "fast": 5}], context) == [expected]


_APPEND_ONE_BY_ONE = """
import math, sys
from pathlib import Path
from contango.research.trials import TrialKey, TrialRecord, trial_id
from contango.services.trials import record_trials
import time
folder, first = Path(sys.argv[1]), int(sys.argv[2])
key = TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "v1"})
(folder / f"ready-{first}").touch()
while not (folder / "go").exists():  # both start appending at the same moment
    time.sleep(0.001)
for fast in range(first, first + 100):
    params = {"fast_window": fast, "slow_window": 100}
    record = TrialRecord(trial_id=trial_id(params, {}), params=params, sharpe=0.1,
                         sharpe_per_bar=0.1 / math.sqrt(252), n_obs=500, sweep_id=str(first),
                         recorded_at="2026-01-02T00:00:00+00:00")
    record_trials(key, [record], folder)
"""


def test_two_processes_recording_the_same_key_at_once_lose_no_trial(tmp_path: Path) -> None:
    """Each process appends 100 trials one at a time; unlocked, a write that read the log
    before the other's rename would drop the other's trials."""
    children = [
        subprocess.Popen([sys.executable, "-c", _APPEND_ONE_BY_ONE, str(tmp_path), str(first)])
        for first in (0, 1000)
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-{first}").exists() for first in (0, 1000)):
        assert time.monotonic() < deadline, "the recording processes did not start"
        assert all(child.poll() is None for child in children), "a recording process died"
        time.sleep(0.01)
    (tmp_path / "go").touch()
    assert [child.wait(timeout=120) for child in children] == [0, 0]
    log = load_trial_log(TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "v1"}), tmp_path)
    fasts = sorted(r.params["fast_window"] for r in log.records)
    assert fasts == [*range(100), *range(1000, 1100)]


_SCALAR = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.0, -0.0, 1.0, 0.1, 252.0, math.inf, -math.inf, math.nan]),
    st.booleans(),
    st.none(),
    st.sampled_from(["sma", "ema", "é", 'a"b']),
    st.lists(st.integers(0, 2), max_size=2),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from(["fast", "slow", "kind", "x", "é"]), _SCALAR, max_size=5),
        max_size=12,
    )
)
def test_canonical_texts_are_json_dumps_sorted_and_compact(payloads: list[dict]) -> None:
    # Independent of the module's encoder: the standard library's dumps with the same rules.
    expected = [json.dumps(p, sort_keys=True, separators=(",", ":")) for p in payloads]
    assert canonical_texts(payloads) == expected


def test_canonical_texts_tell_equal_keys_of_other_types_apart() -> None:
    # 1 == 1.0 == True and 0.0 == -0.0 as dict keys; their texts differ.
    payloads = [{"v": 1}, {"v": 1.0}, {"v": True}, {"v": 0.0}, {"v": -0.0}, {"v": 0}, {"v": False}]
    texts = ["1", "1.0", "true", "0.0", "-0.0", "0", "false"]
    assert canonical_texts(payloads) == ['{"v":' + t + "}" for t in texts]


# ---------------------------------------------------------------- columns

_TEXT = st.one_of(
    st.sampled_from(["ab12", "2026-01-02T00:00:00+00:00", "s1"]),
    # what the encoder escapes: quotes, backslashes, control characters, DEL, non-ASCII
    st.text(alphabet=st.sampled_from('a1 ,"\\\x1f\x7fé'), max_size=4),
    st.text(max_size=4),
)
_SHARPE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3), st.sampled_from([-0.0])
)
_PARAMS = st.dictionaries(st.sampled_from(["fast", "slow", "é", 'a"b']), _SCALAR, max_size=4)
_RECORD = st.builds(
    TrialRecord,
    trial_id=_TEXT,
    params=_PARAMS,
    sharpe=_SHARPE,
    sharpe_per_bar=_SHARPE,
    n_obs=st.integers(0, 10**6),
    sweep_id=_TEXT,
    recorded_at=_TEXT,
)


def _written_the_plain_way(log: TrialLog) -> str:
    """The log's file as one ``json.dumps`` of its columns (NaN and infinities as null)."""

    def finite(value: float) -> float | None:
        return value if math.isfinite(value) else None

    r = log.records
    columns = {
        "trial_id": [x.trial_id for x in r],
        "params": [x.params for x in r],
        "sharpe": [finite(x.sharpe) for x in r],
        "sharpe_per_bar": [finite(x.sharpe_per_bar) for x in r],
        "n_obs": [x.n_obs for x in r],
        "sweep_id": [x.sweep_id for x in r],
        "recorded_at": [x.recorded_at for x in r],
    }
    key = {"strategy": log.key.strategy, "markets": list(log.key.markets),
           "data_versions": [list(d) for d in log.key.data_versions]}  # fmt: skip
    return json.dumps({"format": 2, "key": key, "trials": columns})


def _same_records(a: tuple[TrialRecord, ...], b: tuple[TrialRecord, ...]) -> bool:
    return [repr(x) for x in a] == [repr(x) for x in b]  # NaN equal to NaN, 1 not 1.0


@settings(max_examples=80, deadline=None)
@given(records=st.lists(_RECORD, max_size=8), with_texts=st.booleans())
def test_a_log_is_written_as_dumping_its_columns_and_read_back(
    records: list[TrialRecord], with_texts: bool
) -> None:
    columns = TrialColumns.of_records(records)
    if with_texts:  # as a sweep's parameter sets bring them
        columns = dataclasses.replace(columns, params_json=tuple(map(json.dumps, columns.params)))
    log = TrialLog(key=TrialKey.of("carry", ["CL"], {"CL.1d": "a"})).with_trials(columns)
    text = log.to_json()
    assert text == _written_the_plain_way(log)
    back = TrialLog.from_json(text)
    read = [
        dataclasses.replace(
            r,
            sharpe=float(r.sharpe) if math.isfinite(r.sharpe) else math.nan,
            sharpe_per_bar=float(r.sharpe_per_bar) if math.isfinite(r.sharpe_per_bar) else math.nan,
            params=json.loads(json.dumps(r.params)),
        )
        for r in log.records
    ]
    assert _same_records(back.records, tuple(read))


def test_columns_are_a_sequence_of_records() -> None:
    records = [_record(5, 0.01), _record(10, float("nan")), _record(20, 0.03)]
    columns = TrialColumns.of_records(records)
    assert len(columns) == 3
    assert list(columns) == [records[0], *columns[1:2], records[2]]
    assert columns[2] == records[2]
    assert _same_records(tuple(columns[1:]), tuple(records[1:]))
    key = TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "v1"})
    assert TrialLog(key=key, records=records) == TrialLog(key=key, trials=columns)
    with pytest.raises(ValueError, match="different lengths"):
        dataclasses.replace(columns, n_obs=(1, 2))


def test_trials_recorded_already_or_twice_in_one_batch_are_added_once() -> None:
    key = TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "v1"})
    log = TrialLog(key=key).with_trials([_record(5, 0.01), _record(10, 0.02)])
    batch = TrialColumns.of_records([_record(10, 0.5), _record(20, 0.04), _record(20, 0.9)])
    grown = log.with_trials(batch)
    assert [r.params["fast_window"] for r in grown.records] == [5, 10, 20]
    np.testing.assert_array_equal(grown.sharpes_per_bar(), [0.01, 0.02, 0.04])
    assert grown.with_trials(batch) is grown


def test_the_registry_reads_its_file_again_when_the_file_changed(tmp_path: Path) -> None:
    key = TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "v1"})
    infinite = dataclasses.replace(_record(6, 0.02), sharpe=math.inf)
    written = record_trials(key, [_record(5, 0.01), infinite], tmp_path)
    path = tmp_path / f"ma_crossover-{key.key_id}.json"
    assert written.records[1].sharpe == math.inf  # as recorded; the file holds null
    again = record_trials(key, [_record(5, 0.01)], tmp_path)
    parsed = TrialLog.from_json(path.read_text(encoding="utf-8"))
    assert _same_records(again.records, parsed.records)  # NaN, as read from the file
    assert _same_records(load_trial_log(key, tmp_path).records, parsed.records)
    # another writer's log in its place: read, not the one this process knew
    other = TrialLog(key=key).with_trials([_record(7, 0.5)])
    path.write_text(other.to_json(), encoding="utf-8")
    assert _same_records(load_trial_log(key, tmp_path).records, other.records)
    assert record_trials(key, [_record(8, 0.1)], tmp_path).n_trials == 2


def test_a_sweep_records_its_sets_with_their_own_texts(tmp_path: Path) -> None:
    from contango.engine.templates import MACrossoverParams
    from contango.research.config import SweepConfig
    from contango.research.sweep import build_param_sets
    from contango.services.trials import trial_records

    grid = {"fast_window": {"grid": [5, 10]}, "slow_window": {"grid": [20, 40]}}
    sweep = SweepConfig.model_validate({"params": grid})
    sets = build_param_sets(MACrossoverParams, {}, sweep, np.random.default_rng(0))
    ids = trial_ids(sets.values, {"start": "2020"})
    sharpe = np.array([0.5, np.nan, 1.0, -np.inf])
    batch = trial_records(sets, ids, sharpe, sharpe / 16, n_obs=300, sweep_id="s")
    assert batch.params_json == tuple(json.dumps(v) for v in sets.values)
    assert batch[1].params == sets.values[1]
    key = TrialKey.of("ma_crossover", ["ES"], {"ES.1d": "v1"})
    log = record_trials(key, batch, tmp_path)
    path = tmp_path / f"ma_crossover-{key.key_id}.json"
    text = path.read_text(encoding="utf-8")
    assert text == _written_the_plain_way(log)
    assert log.records[3].sharpe == -math.inf  # as recorded; the file holds null
    again = record_trials(key, batch, tmp_path)  # an identical re-run
    assert _same_records(again.records, TrialLog.from_json(text).records)  # NaN, as read
    assert path.read_text(encoding="utf-8") == text


# A log in columns with integers and nulls for Sharpe ratios, as another writer might leave it.
_FORMAT_2_LOG = """{"format": 2,
 "key": {"strategy": "carry", "markets": ["CL"], "data_versions": [["CL.1d", "a"]]},
 "trials": {"trial_id": ["x", "y"], "params": [{"f": 1}, {"f": 2.5}], "sharpe": [1, null],
            "sharpe_per_bar": [0.5, null], "n_obs": [10, 11], "sweep_id": ["s", "s"],
            "recorded_at": ["t0", "t1"]}}"""


def test_a_log_in_columns_written_elsewhere_is_read() -> None:
    log = TrialLog.from_json(_FORMAT_2_LOG)
    assert log.n_trials == 2
    first, second = log.records
    assert (first.trial_id, first.params, first.sharpe, first.n_obs) == ("x", {"f": 1}, 1.0, 10)
    assert type(first.sharpe) is float
    assert math.isnan(second.sharpe)
    assert second.recorded_at == "t1"
    np.testing.assert_array_equal(log.sharpes_per_bar(), [0.5, np.nan])
