"""Sweeps fanned out across Celery workers: one task per chunk, merged once every chunk is stored.

The sweep's own attempt (the job's lease holder) plans the chunks, sends one task per chunk
that is not stored yet, and then works through the chunks itself from the last one backwards,
skipping those stored or in flight elsewhere; finally it waits for the ones in flight, takes
over any whose runner went quiet, and merges. So the chunk tasks only speed the sweep up: a
killed chunk worker, a lost message or a busy queue cost time, never the result.

A chunk is stored once under ``(job id, chunk size, chunk index)`` by an atomic rename; running
it twice writes the same numbers (planning and every chunk are deterministic), so a duplicate
is harmless and a new attempt of the job reuses every chunk stored before. Only the parameter
sets' numbers are stored: the parameter models are rebuilt from the plan, never unpickled.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from contango.engine.batch import SweepResult
from contango.engine.strategy import VectorStrategy
from contango.research.config import ResearchConfig
from contango.research.sweep import ChunkResult, SweepChunk, merge_chunks, plan_chunks, run_chunk
from contango.services.backtest_data import LoadedData
from contango.services.research import (
    SweepRun,
    param_sets,
    return_blocks,
    simulation_of,
    sweep_workers,
)

WAIT_SECONDS = 0.2
Dispatch = Callable[[int], None]  # sends the task of one chunk index


def chunk_folder(results_dir: Path, job_id: uuid.UUID | str) -> Path:
    """Where the chunks of a sweep job are stored until the job ends."""
    return results_dir / f".{job_id}.chunks"


@dataclass(frozen=True)
class ChunkStore:
    """The stored chunks of one sweep job, for one chunk size."""

    folder: Path
    chunk_size: int

    def path(self, index: int) -> Path:
        """The file of chunk ``index``."""
        return self.folder / f"{self.chunk_size}-{index:06d}.npz"

    def marker(self, index: int) -> Path:
        """A file whose age says when a runner of chunk ``index`` last showed life."""
        return self.folder / f"{self.chunk_size}-{index:06d}.running"

    def pin(self, versions: dict[str, str]) -> None:
        """Record the data versions the sweep's attempt loaded (before any chunk task runs)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".versions.{os.getpid()}.json"
        partial.write_text(json.dumps(versions, sort_keys=True), encoding="utf-8")
        partial.replace(self.folder / "versions.json")

    def pinned(self) -> dict[str, str] | None:
        """The data versions every chunk must run on (None before the attempt pinned them)."""
        try:
            text = (self.folder / "versions.json").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        versions: dict[str, str] = json.loads(text)
        return versions

    def has(self, index: int) -> bool:
        """Whether chunk ``index`` is stored."""
        return self.path(index).exists()

    def in_flight(self, index: int, quiet_seconds: float) -> bool:
        """Whether some runner worked on chunk ``index`` in the last ``quiet_seconds``."""
        try:
            return time.time() - self.marker(index).stat().st_mtime < quiet_seconds
        except FileNotFoundError:
            return False

    def alive(self, index: int) -> None:
        """Say that chunk ``index`` is being run (now)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.marker(index).touch()

    def save(self, chunk: ChunkResult) -> None:
        """Store a chunk's numbers; a temporary file renamed into place, so a reader sees the
        whole chunk or none, and two runners of the same chunk leave one file."""
        arrays = {
            f.name: np.asarray(getattr(chunk.result, f.name))
            for f in fields(SweepResult)
            if f.name != "params" and getattr(chunk.result, f.name) is not None
        }  # optional figures (the return statistics) are stored when the chunk has them
        arrays["start"] = np.asarray(chunk.start)
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".{self.path(chunk.index).name}.{os.getpid()}.tmp.npz"
        np.savez(partial, **arrays)  # type: ignore[arg-type]
        partial.replace(self.path(chunk.index))
        with contextlib.suppress(FileNotFoundError):
            self.marker(chunk.index).unlink()

    def load(self, chunk: SweepChunk) -> ChunkResult:
        """The stored result of ``chunk`` (its parameter models come from the plan)."""
        with np.load(self.path(chunk.index), allow_pickle=False) as data:
            if int(data["start"]) != chunk.start:
                raise ValueError(f"stored chunk {chunk.index} starts at {int(data['start'])}")
            values: dict[str, object] = {"params": chunk.params}
            for f in fields(SweepResult):
                if f.name == "params":
                    continue
                if f.name not in data.files and f.default is None:  # optional, not gathered
                    values[f.name] = None
                    continue
                array = data[f.name]
                values[f.name] = array.item() if array.ndim == 0 else array
        values["periods_per_year"] = float(values["periods_per_year"])  # type: ignore[arg-type]
        values["fast_path"] = bool(values["fast_path"])
        if values["returns"] is not None:
            values["returns"] = np.asfortranarray(values["returns"])
        return ChunkResult(index=chunk.index, start=chunk.start, result=SweepResult(**values))  # type: ignore[arg-type]


def run_one(
    config: ResearchConfig,
    loaded: LoadedData,
    strategy: VectorStrategy,
    chunk: SweepChunk,
    store: ChunkStore,
    *,
    n_sets: int,
) -> None:
    """Run ``chunk`` (of a sweep of ``n_sets`` parameter sets) here and store it, with the
    return statistics the sweep's diagnostics read, showing life on its marker as it goes."""
    store.alive(chunk.index)
    result = run_chunk(
        chunk,
        loaded.bars,
        loaded.specs,
        strategy=strategy,
        config=simulation_of(config),
        workers=sweep_workers(config, loaded),
        progress=lambda _done, _total: store.alive(chunk.index),
        contracts=loaded.contracts,
        fx=loaded.fx or None,
        return_blocks=return_blocks(config, n_sets, loaded.bars.n_bars),
        keep_returns=False,  # the report reads the statistics, and re-runs the chosen trial
    )
    store.save(result)


def run_stored_chunk(
    config: ResearchConfig, loaded: LoadedData, store: ChunkStore, index: int
) -> str:
    """A chunk task's work: plan the sweep as its attempt did, run chunk ``index`` unless it is
    stored or another runner is on it."""
    if store.pinned() != loaded.data_versions:  # data imported since: the attempt runs it
        return f"chunk {index} skipped: the data changed since the sweep started"
    strategy, sets = param_sets(config)
    chunks = plan_chunks(sets.params, store.chunk_size)
    if not 0 <= index < len(chunks):
        raise ValueError(f"the sweep has {len(chunks)} chunks; there is no chunk {index}")
    if store.has(index):
        return f"chunk {index} already stored"
    run_one(config, loaded, strategy, chunks[index], store, n_sets=len(sets.params))
    return f"chunk {index} stored ({len(chunks[index].params)} parameter sets)"


@dataclass(frozen=True)
class CeleryFanOut:
    """The sweep attempt's side of the fan-out (see the module docstring)."""

    store: ChunkStore
    dispatch: Dispatch
    quiet_seconds: float  # a chunk marker older than this is taken over (the lease length)

    def __call__(
        self, config: ResearchConfig, loaded: LoadedData, progress: Callable[[int, int], None]
    ) -> SweepRun:
        """Run the sweep's trials across the workers; merged in sweep order."""
        strategy, sets = param_sets(config)
        chunks = plan_chunks(sets.params, self.store.chunk_size)
        total = len(sets.params)
        if len(chunks) > 1:
            # Chunk tasks load the data themselves; they must see the versions loaded here.
            self.store.pin(dict(loaded.data_versions))
            for chunk in chunks:
                if not self.store.has(chunk.index):
                    self.dispatch(chunk.index)
        pending = [c for c in reversed(chunks) if not self.store.has(c.index)]
        while pending:
            progress(total - sum(len(c.params) for c in pending), total)  # raises on cancel
            free = next((c for c in pending if not self._elsewhere(c)), None)
            if free is not None:
                run_one(config, loaded, strategy, free, self.store, n_sets=total)
            else:
                time.sleep(WAIT_SECONDS)
            pending = [c for c in pending if not self.store.has(c.index)]
        progress(total, total)
        merged = merge_chunks([self.store.load(chunk) for chunk in chunks])
        return SweepRun(strategy=strategy, sets=sets, result=merged)

    def _elsewhere(self, chunk: SweepChunk) -> bool:
        return self.store.in_flight(chunk.index, self.quiet_seconds)
