"""Sweep configuration, parameter sets, independent chunks and ranking."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from typing import Any, Literal, get_args, get_origin

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError, field_serializer, model_validator
from pydantic.fields import FieldInfo

from contango.engine.backtest_config import ConfigError
from contango.engine.bars import Bars
from contango.engine.batch import SweepResult, run_sweep
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.templates import MACrossoverParams, get_template
from contango.research.config import GridRange, SweepConfig, parse_research_config
from contango.research.sweep import (
    ParamSets,
    build_param_sets,
    grid_values,
    merge_chunks,
    plan_chunks,
    rank_trials,
    run_chunk,
    run_chunked_sweep,
)
from contango.research.trials import canonical_json

BASE = """\
name: s
markets:
  - root: ES
strategy:
  name: ma_crossover
  params: {sizing: fixed}
"""


def _sweep(block: dict[str, object]) -> SweepConfig:
    return SweepConfig.model_validate(block)


# ---------------------------------------------------------------- configuration


def test_config_mistakes_name_the_field_and_the_line() -> None:
    text = BASE + (
        "sweep:\n"  # line 7
        "  objective: sharpe\n"
        "  params:\n"
        "    fast_window:\n"  # line 10
        "      grid: {start: 50, stop: 20, step: 10}\n"  # line 11
        "    target_vol:\n"
        "      random: {low: 0.1}\n"  # line 13
        "walkforward:\n"
        "  in_sample_bars: 3\n"  # line 15
    )
    with pytest.raises(ConfigError) as info:
        parse_research_config(text, "s.yaml")
    problems = info.value.problems
    assert any(
        p.startswith("s.yaml line 11: sweep.params.fast_window.grid = ") and "below start" in p
        for p in problems
    ), problems
    assert "s.yaml line 13: sweep.params.target_vol.random.high: Field required" in problems
    assert any(p.startswith("s.yaml line 15: walkforward.in_sample_bars = 3") for p in problems)


def test_backtest_mistakes_keep_their_lines_and_a_missing_sweep_is_reported() -> None:
    text = "name: s\nmarkets:\n  - root: ES\n    mode: contract\nstrategy:\n  name: x\n"
    with pytest.raises(ConfigError) as info:
        parse_research_config(text, "s.yaml")
    assert any(
        p.startswith("s.yaml line 4: markets[0].mode = 'contract'") for p in info.value.problems
    )
    assert any("a sweep: block is required" in p for p in info.value.problems)


def test_unknown_objective_and_samples_without_random_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown objective 'sharp'"):
        _sweep({"objective": "sharp", "params": {"fast_window": {"grid": [5]}}})
    with pytest.raises(ValueError, match="no parameter is random"):
        _sweep({"samples": 3, "params": {"fast_window": {"grid": [5]}}})


def test_grid_range_is_inclusive_and_integer_when_whole() -> None:
    assert grid_values(GridRange(start=50, stop=200, step=50)) == [50, 100, 150, 200]
    assert grid_values(GridRange(start=0.05, stop=0.2, step=0.05)) == [0.05, 0.1, 0.15, 0.2]


# ---------------------------------------------------------------- parameter sets


def test_grid_is_the_product_and_refused_sets_are_counted() -> None:
    sweep = _sweep(
        {"params": {"fast_window": {"grid": [10, 50, 100]}, "slow_window": {"grid": [50, 200]}}}
    )
    sets = build_param_sets(MACrossoverParams, {}, sweep, np.random.default_rng(0))
    pairs = [(p.fast_window, p.slow_window) for p in sets.params]  # type: ignore[attr-defined]
    # 3 x 2 = 6 combinations; fast >= slow is refused by the model: (50, 50), (100, 50)
    assert pairs == [(10, 50), (10, 200), (50, 200), (100, 200)]
    assert len(sets.rejected) == 2
    assert "fast_window=50, slow_window=50" in sets.rejected[0]


def test_random_draws_are_seeded_and_within_bounds() -> None:
    sweep = _sweep(
        {
            "samples": 20,
            "params": {
                "fast_window": {"grid": [5, 10]},
                "target_vol": {"random": {"low": 0.05, "high": 0.2, "log": True}},
                "vol_window": {"random": {"low": 10, "high": 60, "integer": True}},
                "ma_kind": {"random": {"choices": ["sma", "ema"]}},
            },
        }
    )
    a = build_param_sets(MACrossoverParams, {}, sweep, np.random.default_rng(42))
    b = build_param_sets(MACrossoverParams, {}, sweep, np.random.default_rng(42))
    assert a.params == b.params
    assert len(a.params) == 40  # 2 grid points x 20 draws, no duplicates expected
    assert all(0.05 <= p.target_vol <= 0.2 for p in a.params)  # type: ignore[attr-defined]
    assert all(isinstance(p.vol_window, int) for p in a.params)  # type: ignore[attr-defined]
    assert {p.ma_kind for p in a.params} == {"sma", "ema"}  # type: ignore[attr-defined]


def test_duplicate_sets_run_once_and_unknown_parameters_are_refused() -> None:
    sweep = _sweep({"samples": 10, "params": {"ma_kind": {"random": {"choices": ["sma"]}}}})
    sets = build_param_sets(MACrossoverParams, {}, sweep, np.random.default_rng(0))
    assert len(sets.params) == 1
    with pytest.raises(ValueError, match=r"names \['fast_windw'\]"):
        build_param_sets(
            MACrossoverParams,
            {},
            _sweep({"params": {"fast_windw": {"grid": [5]}}}),
            np.random.default_rng(0),
        )


# ---------------------------------------------------------------- chunks and ranking


def _fake_result(k: int, seed: int) -> SweepResult:
    """A sweep result with arbitrary figures (merging must not care what they are)."""
    rng = np.random.default_rng(seed)
    values = {}
    for f in dataclasses.fields(SweepResult):
        if f.name == "params":
            values[f.name] = tuple(
                MACrossoverParams(fast_window=i + 1, slow_window=500) for i in range(k)
            )
        elif f.name == "ts":
            values[f.name] = np.arange(30, dtype=np.int64)
        elif f.name == "returns":
            values[f.name] = np.asfortranarray(rng.normal(size=(30, k)))
        elif f.name == "n_trades":
            values[f.name] = rng.integers(0, 50, k)
        elif f.name == "periods_per_year":
            values[f.name] = 252.0
        elif f.name == "fast_path":
            values[f.name] = False
        else:
            values[f.name] = rng.normal(size=k)
    return SweepResult(**values)


def _take(result: SweepResult, lo: int, hi: int) -> SweepResult:
    values = {}
    for f in dataclasses.fields(SweepResult):
        v = getattr(result, f.name)
        if f.name == "params":
            values[f.name] = v[lo:hi]
        elif f.name == "returns":
            values[f.name] = np.asfortranarray(v[:, lo:hi])
        elif f.name in ("ts", "periods_per_year", "fast_path"):
            values[f.name] = v
        else:
            values[f.name] = v[lo:hi]
    return SweepResult(**values)


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 40), size=st.integers(1, 50), order_seed=st.integers(0, 1000))
def test_chunks_merged_in_any_order_give_back_the_whole_sweep(
    k: int, size: int, order_seed: int
) -> None:
    from contango.research.sweep import ChunkResult

    whole = _fake_result(k, seed=k)
    chunks = plan_chunks(whole.params, size)
    assert [len(c.params) for c in chunks][:-1] == [size] * (len(chunks) - 1)
    assert sum(len(c.params) for c in chunks) == k
    parts = [
        ChunkResult(index=c.index, start=c.start, result=_take(whole, c.start, c.start + size))
        for c in chunks
    ]
    np.random.default_rng(order_seed).shuffle(parts)  # workers finish in any order
    merged = merge_chunks(parts)
    for f in dataclasses.fields(SweepResult):
        a, b = getattr(merged, f.name), getattr(whole, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b


def test_merge_refuses_a_missing_chunk() -> None:
    from contango.research.sweep import ChunkResult

    whole = _fake_result(6, seed=1)
    parts = [
        ChunkResult(index=0, start=0, result=_take(whole, 0, 2)),
        ChunkResult(index=2, start=4, result=_take(whole, 4, 6)),
    ]
    with pytest.raises(ValueError, match="chunk 2 starts at trial 4, expected 2"):
        merge_chunks(parts)


def test_ranking_is_best_first_nan_last_lower_first_for_drawdown() -> None:
    result = _fake_result(4, seed=2)
    result = dataclasses.replace(
        result,
        sharpe=np.array([0.5, np.nan, 1.5, 0.5]),
        max_drawdown=np.array([0.3, 0.1, 0.2, np.nan]),
    )
    assert rank_trials(result, "sharpe").tolist() == [2, 0, 3, 1]  # tie 0/3 keeps sweep order
    assert rank_trials(result, "max_drawdown").tolist() == [1, 2, 0, 3]


# ---------------------------------------------------------------- with the engine

ES = MarketSpec(name="ES", point_value=50.0, tick_size=0.25, initial_margin=12_000.0)


def _es_bars(n: int = 300, seed: int = 4) -> Bars:
    rng = np.random.default_rng(seed)
    close = 4500.0 + np.cumsum(rng.normal(0, 20.0, n))
    close = np.round(close / 0.25) * 0.25
    open_ = np.concatenate([[close[0]], close[:-1]])
    col = lambda a: a[:, None]  # noqa: E731
    return Bars(
        ts=np.arange(n, dtype=np.int64) * 86_400 * 10**9 + 1_600_000_000 * 10**9,
        markets=("ES",),
        open=col(open_),
        high=col(np.maximum(open_, close) + 2.0),
        low=col(np.minimum(open_, close) - 2.0),
        close=col(close),
        volume=col(np.full(n, 1000.0)),
    )


def test_a_chunked_sweep_equals_the_single_run_bit_for_bit() -> None:
    bars = _es_bars()
    strategy = get_template("ma_crossover")
    params = [
        MACrossoverParams(fast_window=f, slow_window=s, sizing="fixed")
        for f in (5, 10, 20)
        for s in (40, 80)
    ]
    config = SimulationConfig(capital=250_000.0)
    whole = run_sweep(bars, [ES], strategy=strategy, params_list=params, config=config)
    chunked = run_chunked_sweep(
        bars, [ES], strategy=strategy, params_list=params, config=config, chunk_size=4
    )
    np.testing.assert_array_equal(chunked.returns, whole.returns)
    np.testing.assert_array_equal(chunked.sharpe, whole.sharpe)
    assert chunked.params == whole.params
    # and one chunk alone is the same as that slice of the sweep
    last = plan_chunks(params, 4)[1]
    alone = run_chunk(last, bars, [ES], strategy=strategy, config=config)
    np.testing.assert_array_equal(alone.result.returns, whole.returns[:, 4:])


# ---------------------------------------------------------------- column by column

_TEMPLATES = ("ma_crossover", "mean_reversion", "donchian_breakout", "ts_momentum", "carry",
              "calendar_spread")  # fmt: skip
# Grid values for any field: valid and refused ones, and the traps of building texts column
# by column (1 == 1.0 == True, 0.0 == -0.0, NaN, ints given to float fields, strings).
_VALUE = st.one_of(
    st.integers(-2, 300),
    st.sampled_from([0.0, -0.0, 0.05, 0.1, 0.5, 1.0, 2.0, 2.5, 30.0, 252.0, math.nan, math.inf]),
    st.booleans(),
    st.none(),
    st.sampled_from(["sma", "ema", "fixed", "vol_target", "rsi", "bollinger", "ES", "NQ", "7"]),
)


def _plain_sets(
    model: type[BaseModel], base: dict[str, Any], grid: dict[str, list[Any]]
) -> tuple[list[BaseModel], list[str], list[dict[str, Any]], list[str]]:
    """The parameter sets the obvious way: per grid point, model_validate, model_dump and
    canonical_json, duplicates (same text) left out where they come again."""
    kept: dict[str, tuple[BaseModel, dict[str, Any]]] = {}
    rejected = []
    for combo in itertools.product(*grid.values()):
        values = {**base, **dict(zip(grid, combo, strict=True))}
        try:
            params = model.model_validate(values)
        except ValidationError as exc:
            short = ", ".join(f"{k}={values[k]!r}" for k in grid)
            rejected.append(f"{short}: {exc.errors()[0]['msg']}")
            continue
        dumped = params.model_dump(mode="json")
        kept.setdefault(canonical_json(dumped), (params, dumped))
    models = [m for m, _ in kept.values()]
    return models, rejected, [d for _, d in kept.values()], list(kept)


def _typed(payload: dict[str, Any]) -> list[tuple[str, type, str]]:
    return [(k, type(v), repr(v)) for k, v in payload.items()]  # NaN, -0.0 and 1 vs 1.0 told


def _assert_same_sets(
    model: type[BaseModel], base: dict[str, Any], grid: dict[str, list[Any]]
) -> ParamSets:
    sweep = _sweep({"params": {k: {"grid": v} for k, v in grid.items()}, "max_trials": 10**6})
    sets = build_param_sets(model, base, sweep, np.random.default_rng(0))
    models, rejected, values, texts = _plain_sets(model, base, grid)
    assert [type(p) for p in sets.params] == [type(p) for p in models]
    assert [_typed(p.__dict__) for p in sets.params] == [_typed(p.__dict__) for p in models]
    assert [p.model_fields_set for p in sets.params] == [p.model_fields_set for p in models]
    assert list(sets.rejected) == rejected
    assert [_typed(v) for v in sets.values] == [_typed(v) for v in values]
    assert list(sets.texts) == texts
    if sets.value_texts:  # the registry's texts, when the sets came column by column
        assert list(sets.value_texts) == [json.dumps(v) for v in values]
    return sets


def _field_values(field: FieldInfo, anything: bool = True) -> st.SearchStrategy[Any]:
    """Values for one field: mostly near its default (so that many sets are valid), in
    other spellings (ints for floats, ``2.0`` or ``"2"`` for ints), and any value at all."""
    kind, default = field.annotation, field.default
    if get_origin(kind) is Literal:
        near = [*get_args(kind), "other"]
    elif kind is bool:
        near = [True, False, 1, 0]
    elif kind is int:
        near = [default, default + 1, 2 * default, float(default), str(default)]
    elif kind is float:
        near = [default, default / 2, 1.5 * default, round(default), 0.0, -0.0]
    elif kind is str:
        near = ["ES", "NQ", "CL"]
    else:  # an optional float
        near = [None, 0.3, -0.5, 0.0, -0.0, 1]
    return st.one_of(*[st.sampled_from(near)] * 3, _VALUE) if anything else st.sampled_from(near)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), name=st.sampled_from(_TEMPLATES))
def test_sets_built_column_by_column_are_the_plain_ones_for_every_template(
    data: st.DataObject, name: str
) -> None:
    model = get_template(name).Params
    fields = model.model_fields
    swept = data.draw(st.lists(st.sampled_from(list(fields)), min_size=1, max_size=3, unique=True))
    fixed = data.draw(st.lists(st.sampled_from(list(fields)), max_size=3, unique=True))
    base = {k: data.draw(_field_values(fields[k], anything=False)) for k in fixed}
    if name == "calendar_spread":  # markets have no default
        base = {"front_market": "ES", "back_market": "NQ", **base}
    values = {k: st.lists(_field_values(fields[k]), min_size=1, max_size=5) for k in swept}
    _assert_same_sets(model, base, {k: data.draw(v) for k, v in values.items()})


def test_every_template_dumps_column_by_column_and_writes_the_registry_texts() -> None:
    grids: dict[str, dict[str, list[Any]]] = {
        "ma_crossover": {"fast_window": [5, 10], "slow_window": [20, 40], "target_vol": [0.1, 1]},
        "mean_reversion": {"rsi_lower": [20, 30.0], "indicator": ["rsi", "bollinger"]},
        "donchian_breakout": {"entry_window": [20, 55], "exit_window": [10, 20]},
        "ts_momentum": {"lookback": [20, 252], "average_correlation": [None, 0.3]},
        "carry": {"months_between": [1, 2], "allow_short": [True, False]},
        "calendar_spread": {"entry_z": [1, 2.0], "exit_z": [0.5, 1]},
    }  # fmt: skip
    for name, grid in grids.items():
        base = {"front_market": "ES", "back_market": "NQ"} if name == "calendar_spread" else {}
        sets = _assert_same_sets(get_template(name).Params, base, grid)
        assert len(sets.value_texts) == len(sets.params) > 0, name
    # -0.0 and 0.0 are one dict key but two parameter sets
    sets = _assert_same_sets(MACrossoverParams, {}, {"rebalance_buffer": [0.0, -0.0, 0.0]})
    assert sets.texts[0] != sets.texts[1]
    assert len(sets.params) == 2


class _Serialised(BaseModel):
    """Not a flat record of its fields' values: its dump goes through a serializer."""

    model_config = ConfigDict(frozen=True)
    a: int = 1
    b: float = 0.5

    @field_serializer("b")
    def _twice(self, b: float) -> float:
        return 2 * b if self.a > 1 else b


class _Meddling(BaseModel):
    """A validator that changes a field no set varies (into an equal value of another type,
    or a zero of the other sign) in some sets."""

    a: int = 1
    b: float = 2.0
    c: float = 0.0
    d: int | float | bool = 0

    @model_validator(mode="after")
    def _meddle(self) -> _Meddling:
        if self.a == 3:
            self.b = 2
        if self.a == 4:
            self.c = -0.0
        return self


def test_models_whose_dumps_are_not_plain_columns_are_dumped_one_by_one() -> None:
    from contango.research.param_columns import dump_columns

    models = [_Serialised(a=a) for a in (1, 2)]
    assert dump_columns(_Serialised, models, {"a"}) is None
    _assert_same_sets(_Serialised, {}, {"a": [1, 2, 1]})
    for a in (3, 4):
        meddled = [_Meddling(a=1), _Meddling(a=a)]
        assert dump_columns(_Meddling, meddled, {"a"}) is None
        _assert_same_sets(_Meddling, {}, {"a": [1, 2, a]})
    # 1, 1.0 and True are three sets, and so are 0, 0.0 and -0.0; NaN twice is one set
    d = [1, 1.0, True, 0, -0.0, 0.0, False]
    sets = _assert_same_sets(_Meddling, {}, {"d": d})
    assert [t.rsplit('"d":', 1)[1] for t in sets.texts] == [
        "1}", "1.0}", "true}", "0}", "-0.0}", "0.0}", "false}"
    ]  # fmt: skip
    assert dump_columns(_Meddling, sets.params, {"d"}) is not None
    assert len(_assert_same_sets(_Meddling, {}, {"b": [math.nan, math.nan, 1.0]}).params) == 2


def test_optional_per_trial_arrays_merge_only_when_every_chunk_has_them() -> None:
    from contango.research.sweep import ChunkResult

    @dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
    class WithBlocks(SweepResult):
        block_totals: np.ndarray | None = None  # (k, S), optional like the return moments

    whole = _fake_result(5, seed=3)
    moments = np.arange(20.0).reshape(5, 4)
    blocks = np.arange(15.0).reshape(5, 3)

    def part(lo: int, hi: int, with_blocks: bool = True) -> SweepResult:
        extra = {"block_totals": blocks[lo:hi] if with_blocks else None}
        if "return_moments" in {f.name for f in dataclasses.fields(SweepResult)}:
            extra["return_moments"] = moments[lo:hi]
        taken = _take(whole, lo, hi)
        values = {f.name: getattr(taken, f.name) for f in dataclasses.fields(SweepResult)}
        return WithBlocks(**{**values, **extra})

    later, earlier = (
        ChunkResult(index=1, start=2, result=part(2, 5)),
        ChunkResult(index=0, start=0, result=part(0, 2)),
    )
    merged = merge_chunks([later, earlier])
    assert isinstance(merged, WithBlocks)
    np.testing.assert_array_equal(merged.block_totals, blocks)  # stacked by trial, (5, 3)
    if hasattr(merged, "return_moments"):
        np.testing.assert_array_equal(merged.return_moments, moments)
    np.testing.assert_array_equal(merged.returns, whole.returns)
    without = ChunkResult(index=1, start=2, result=part(2, 5, with_blocks=False))
    one_without = merge_chunks([earlier, without])
    assert isinstance(one_without, WithBlocks)
    assert one_without.block_totals is None
