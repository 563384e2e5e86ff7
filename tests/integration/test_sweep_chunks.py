"""The chunk store of a fanned-out sweep, without Celery: chunks stored once and reused, merged
trials equal to the one-process sweep, chunk tasks refusing data the sweep did not load."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np

from contango.engine.batch import SweepResult
from contango.research.config import ResearchConfig
from contango.services.backtest_data import load_data
from contango.services.research import run_sweep_trials
from contango.workers.sweep_chunks import CeleryFanOut, ChunkStore, run_stored_chunk
from jobs_support import backtest_config


def _config() -> ResearchConfig:
    backtest = backtest_config()
    backtest["strategy"] = {"name": "ma_crossover", "params": {"sizing": "fixed", "contracts": 1}}
    grids = {"fast_window": {"grid": [5, 10, 20]}, "slow_window": {"grid": [40, 60, 80]}}
    return ResearchConfig.model_validate(
        {"backtest": backtest, "sweep": {"objective": "sharpe", "seed": 1, "params": grids}}
    )


def _same(a: SweepResult, b: SweepResult) -> None:
    assert a.params == b.params
    for f in fields(SweepResult):
        if f.name != "params":
            np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name), f.name)


def test_chunks_are_stored_once_reused_and_merge_to_the_one_process_sweep(
    es_samples: None, tmp_path: Path
) -> None:
    config = _config()
    loaded = load_data(config.backtest)
    store = ChunkStore(tmp_path / "chunks", chunk_size=2)  # 9 sets: chunks of 2, 2, 2, 2, 1
    sent: list[int] = []
    fan_out = CeleryFanOut(store=store, dispatch=sent.append, quiet_seconds=5.0)
    seen: list[tuple[int, int]] = []
    run = fan_out(config, loaded, lambda done, total: seen.append((done, total)))
    assert sent == [0, 1, 2, 3, 4]  # one task per chunk
    assert seen[-1] == (9, 9)
    _same(run.result, run_sweep_trials(config, loaded).result)

    stamps = {p.name: p.stat().st_mtime_ns for p in store.folder.glob("*.npz")}
    assert len(stamps) == 5
    assert run_stored_chunk(config, loaded, store, 3) == "chunk 3 already stored"
    sent.clear()
    again = fan_out(config, loaded, lambda done, total: None)
    assert sent == []  # every chunk stored: nothing dispatched, nothing run again
    assert {p.name: p.stat().st_mtime_ns for p in store.folder.glob("*.npz")} == stamps
    _same(again.result, run.result)


def test_a_chunk_task_refuses_data_other_than_the_sweeps(es_samples: None, tmp_path: Path) -> None:
    config = _config()
    loaded = load_data(config.backtest)
    store = ChunkStore(tmp_path / "chunks", chunk_size=2)
    store.pin(dict.fromkeys(loaded.data_versions, "another-version"))
    assert "skipped" in run_stored_chunk(config, loaded, store, 0)
    assert not store.has(0)
    store.pin(dict(loaded.data_versions))
    assert run_stored_chunk(config, loaded, store, 0).startswith("chunk 0 stored (2 ")
    assert store.has(0)
