"""Parameter sweeps: the parameter sets of a sweep, independent chunks, ranking.

A sweep is a list of parameter sets. It is cut into chunks that each run alone (on this
machine, or later on a queue worker) and merged back in chunk order, so the merged result is
the same bit for bit whatever ran where and in which order. Planning is deterministic (the
seeded parameter sets, then :func:`plan_chunks`), so a worker needs only the configuration and
a chunk index to rebuild its chunk: no parameter objects travel. Parameter sets come from a grid
(the product of every grid parameter's values) times ``samples`` seeded random draws of the
random parameters; sets the strategy's parameter model refuses (e.g. a fast average slower
than the slow one) are left out and counted, and duplicates are run once.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ValidationError

from contango.engine.bars import Bars, ContractPanel
from contango.engine.batch import Progress, SweepResult, run_sweep
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.strategy import VectorStrategy
from contango.research.config import LOWER_IS_BETTER, OBJECTIVES, GridRange, SweepConfig, Uniform
from contango.research.param_columns import dump_columns
from contango.research.trials import canonical_texts

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class ParamSets:
    """The parameter sets to run and the ones the strategy's model refused (with why)."""

    params: tuple[BaseModel, ...]
    rejected: tuple[str, ...]
    # Per set, as recorded in the trial registry: ``model_dump(mode="json")`` and its
    # canonical JSON text (the duplicate check and the trial id both use the text).
    values: tuple[dict[str, Any], ...] = ()
    texts: tuple[str, ...] = ()
    # Per set, ``json.dumps`` of its ``values`` as the registry's file holds it; empty when
    # the sets were dumped one by one (the registry then encodes ``values`` itself).
    value_texts: tuple[str, ...] = ()


def grid_values(grid: list[Any] | GridRange) -> list[Any]:
    """A grid's values; an inclusive range gives integers when start and step are whole."""
    if isinstance(grid, list):
        return list(grid)
    count = math.floor((grid.stop - grid.start) / grid.step + 1e-9) + 1
    values = [grid.start + i * grid.step for i in range(count)]
    if float(grid.start).is_integer() and float(grid.step).is_integer():
        return [round(v) for v in values]
    return [round(v, 12) for v in values]  # 0.1 + 2 * 0.05 prints as 0.2, not 0.20000000000000004


def _draw(spec: Any, rng: np.random.Generator) -> Any:
    if not isinstance(spec, Uniform):
        return spec.choices[int(rng.integers(len(spec.choices)))]
    if spec.log:
        value = math.exp(rng.uniform(math.log(spec.low), math.log(spec.high)))
    else:
        value = float(rng.uniform(spec.low, spec.high))
    return round(value) if spec.integer else value


def build_param_sets(
    params_model: type[BaseModel],
    base: dict[str, Any],
    sweep: SweepConfig,
    rng: np.random.Generator,
) -> ParamSets:
    """Every parameter set of ``sweep`` over the fixed ``base`` values, validated by the
    strategy's ``params_model``. Draws come from ``rng`` in a fixed order (grid point by grid
    point, parameter by parameter as listed), so a seed gives the same sets every time.

    Each set is validated on its own; the dumps and texts of the valid ones are then built
    column by column (:func:`dump_columns`), or one set at a time where that is not exact."""
    unknown = sorted(set(sweep.params) - set(params_model.model_fields))
    if unknown:
        raise ValueError(
            f"sweep.params names {unknown}, not parameters of the strategy; it takes "
            f"{', '.join(params_model.model_fields)}"
        )
    grid = {k: grid_values(v.grid) for k, v in sweep.params.items() if v.grid is not None}
    randoms = {k: v.random for k, v in sweep.params.items() if v.random is not None}
    n_sets = math.prod(len(values) for values in grid.values()) * (sweep.samples or 1)
    if n_sets > sweep.max_trials:
        raise ValueError(
            f"the sweep has {n_sets:,} parameter sets, more than max_trials "
            f"({sweep.max_trials:,}); narrow it or raise max_trials"
        )
    models, rejected = _validate(
        params_model, base=dict(base), grid=grid, randoms=randoms, sweep=sweep, rng=rng
    )
    dumped = dump_columns(params_model, models, set(sweep.params))
    if dumped is None:
        values = [model.model_dump(mode="json") for model in models]
        dumped = (values, canonical_texts(values), [])
    return _distinct(models, rejected, *dumped)


def _validate(
    params_model: type[BaseModel],
    *,
    base: dict[str, Any],
    grid: dict[str, list[Any]],
    randoms: dict[str, Any],
    sweep: SweepConfig,
    rng: np.random.Generator,
) -> tuple[list[BaseModel], list[str]]:
    """The model of each set the model accepts, in sweep order, and why it refused the rest."""
    validate: Callable[[dict[str, Any]], BaseModel] = params_model.model_validate
    if getattr(validate, "__func__", None) is getattr(BaseModel.model_validate, "__func__", 0):
        # What model_validate calls, without its per-call keyword checks: a sweep's sets
        # are thousands of small validations.
        validate = params_model.__pydantic_validator__.validate_python
    names = list(grid)
    draws = range(sweep.samples or 1)
    models: list[BaseModel] = []
    rejected: list[str] = []
    for combo in itertools.product(*grid.values()):
        for _ in draws:
            values = base.copy()  # as {**base, **point, **draws}: keys in that order
            values.update(zip(names, combo, strict=True))
            if randoms:
                values.update([(k, _draw(s, rng)) for k, s in randoms.items()])
            try:
                models.append(validate(values))
            except ValidationError as exc:
                first = exc.errors(include_url=False, include_context=False, include_input=False)[0]
                rejected.append(f"{_short(values, sweep)}: {first['msg']}")
    return models, rejected


def _distinct(
    models: list[BaseModel],
    rejected: list[str],
    values: list[dict[str, Any]],
    texts: list[str],
    value_texts: list[str],
) -> ParamSets:
    """The sets with a duplicate (same canonical text) run once, where it first came."""
    first = dict(zip(reversed(texts), range(len(texts) - 1, -1, -1), strict=True))  # text -> 1st
    if len(first) < len(texts):
        keep = sorted(first.values())
        models = [models[i] for i in keep]
        values = [values[i] for i in keep]
        texts = [texts[i] for i in keep]
        value_texts = [value_texts[i] for i in keep] if value_texts else []
    return ParamSets(
        params=tuple(models),
        rejected=tuple(rejected),
        values=tuple(values),
        texts=tuple(texts),
        value_texts=tuple(value_texts),
    )


def _short(values: dict[str, Any], sweep: SweepConfig) -> str:
    return ", ".join(f"{k}={values[k]!r}" for k in sweep.params)


# ---------------------------------------------------------------- chunks


@dataclass(frozen=True, kw_only=True)
class SweepChunk:
    """Parameter sets ``start .. start + len(params)`` of a sweep; runnable on its own."""

    index: int
    start: int
    params: tuple[BaseModel, ...]


@dataclass(frozen=True, kw_only=True)
class ChunkResult:
    """What one chunk produced; ``merge_chunks`` puts chunks back in sweep order."""

    index: int
    start: int
    result: SweepResult


def plan_chunks(params_list: Sequence[BaseModel], chunk_size: int) -> tuple[SweepChunk, ...]:
    """Cut a sweep into chunks of at most ``chunk_size`` consecutive parameter sets."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    return tuple(
        SweepChunk(index=i, start=start, params=tuple(params_list[start : start + chunk_size]))
        for i, start in enumerate(range(0, len(params_list), chunk_size))
    )


def run_chunk(
    chunk: SweepChunk,
    bars: Bars,
    specs: Sequence[MarketSpec],
    *,
    strategy: VectorStrategy,
    config: SimulationConfig,
    workers: int | None = None,
    progress: Progress | None = None,
    contracts: ContractPanel | None = None,
    fx: Mapping[str, F64] | None = None,
    return_blocks: npt.NDArray[np.int64] | None = None,
    keep_returns: bool = True,
) -> ChunkResult:
    """Run one chunk: depends on nothing but its own inputs (``return_blocks`` and
    ``keep_returns``: see :func:`~contango.engine.batch.run_sweep`)."""
    result = run_sweep(
        bars,
        specs,
        strategy=strategy,
        params_list=chunk.params,
        config=config,
        workers=workers,
        progress=progress,
        contracts=contracts,
        fx=fx,
        return_blocks=return_blocks,
        keep_returns=keep_returns,
    )
    return ChunkResult(index=chunk.index, start=chunk.start, result=result)


def merge_chunks(chunks: Sequence[ChunkResult]) -> SweepResult:
    """One sweep result from its chunks, in any order given: sorted by chunk index, checked to
    cover the sweep without gap or overlap, trials concatenated in sweep order.

    Per-trial arrays are stacked along their first axis (trials); an optional one (``None``
    when not asked for) is kept only when every chunk has it, else the merged one is None."""
    if not chunks:
        raise ValueError("no chunks to merge")
    ordered = sorted(chunks, key=lambda c: c.index)
    expected = 0
    for c in ordered:
        if c.start != expected:
            raise ValueError(
                f"chunk {c.index} starts at trial {c.start}, expected {expected}: "
                "a chunk is missing or repeated"
            )
        expected += c.result.n_trials
    first = ordered[0].result
    if len(ordered) == 1:
        return first  # the whole sweep: nothing to stack (its returns are 30 MB for 1,590 sets)
    for c in ordered[1:]:
        if not np.array_equal(c.result.ts, first.ts):
            raise ValueError(f"chunk {c.index} ran on other bars than chunk {ordered[0].index}")
    values = {
        f.name: _merged(f.name, [getattr(c.result, f.name) for c in ordered]) for f in fields(first)
    }
    return type(first)(**values)


def _merged(name: str, parts: list[Any]) -> Any:
    """One field of the merged result from its chunks' values, in sweep order."""
    if name == "params":
        return tuple(p for part in parts for p in part)
    if name in ("ts", "periods_per_year"):
        return parts[0]
    if name == "fast_path":
        return all(parts)
    if any(part is None for part in parts):  # not gathered (or kept) by every chunk
        return None
    if name == "returns":
        return np.asfortranarray(np.concatenate(parts, axis=1))
    return np.concatenate(parts, axis=0)


def run_chunked_sweep(
    bars: Bars,
    specs: Sequence[MarketSpec],
    *,
    strategy: VectorStrategy,
    params_list: Sequence[BaseModel],
    config: SimulationConfig,
    chunk_size: int = 64,
    workers: int | None = None,
    progress: Progress | None = None,
    contracts: ContractPanel | None = None,
    fx: Mapping[str, F64] | None = None,
    return_blocks: npt.NDArray[np.int64] | None = None,
    keep_returns: bool = True,
) -> SweepResult:
    """Plan, run every chunk here, merge: the local twin of a distributed sweep."""
    total = len(params_list)
    done: list[ChunkResult] = []
    for chunk in plan_chunks(params_list, chunk_size):

        def step(finished: int, _: int, offset: int = chunk.start) -> None:
            if progress is not None:
                progress(offset + finished, total)

        done.append(
            run_chunk(
                chunk,
                bars,
                specs,
                strategy=strategy,
                config=config,
                workers=workers,
                progress=step,
                contracts=contracts,
                fx=fx,
                return_blocks=return_blocks,
                keep_returns=keep_returns,
            )
        )
    return merge_chunks(done)


# ---------------------------------------------------------------- ranking


def metric_values(result: SweepResult, metric: str) -> F64:
    """One metric per trial, as floats."""
    if metric not in OBJECTIVES:
        raise ValueError(f"unknown metric {metric!r}; one of {', '.join(OBJECTIVES)}")
    return np.asarray(getattr(result, metric), dtype=np.float64)


def rank_trials(result: SweepResult, metric: str) -> npt.NDArray[np.int64]:
    """Trial indices best first by ``metric`` (lower first for drawdown, volatility and
    turnover); NaN last; ties keep the sweep order, so the ranking is deterministic."""
    values = metric_values(result, metric)
    key = values if metric in LOWER_IS_BETTER else -values
    key = np.where(np.isnan(key), np.inf, key)
    return np.argsort(key, kind="stable").astype(np.int64)


def best_trial(result: SweepResult, metric: str) -> int:
    """The best trial by ``metric``."""
    return int(rank_trials(result, metric)[0])
