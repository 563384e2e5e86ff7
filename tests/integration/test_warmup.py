"""The engine warm-up of ``contango serve``: every job kind run once on the bundled sample, and
nothing of the user's written (no results, no trials in the registry, the store untouched)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from contango.cli.main import app
from contango.cli.serve import start_warm_up
from contango.services import warmup
from contango.settings import get_settings
from jobs_support import install_es_samples


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _counting(monkeypatch: pytest.MonkeyPatch, name: str, calls: list[str]) -> None:
    real = getattr(warmup, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        calls.append(name)  # runs that went through
        return result

    monkeypatch.setattr(warmup, name, counted)


def test_the_warm_up_runs_every_job_kind_and_writes_nothing_of_the_users(
    data_dir: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_es_samples(data_dir, tmp_path_factory.getbasetemp())
    before = _files(data_dir)
    calls: list[str] = []
    for name in ("run_plan", "run_config_sweep", "run_config_walkforward"):
        _counting(monkeypatch, name, calls)
    said: list[str] = []

    seconds = warmup.warm_kernels(said.append)

    assert seconds is not None
    assert seconds > 0
    assert said == [f"engine kernels ready in {seconds:.0f} s (compiled once, then cached on disk)"]
    # The four single-market templates the daily sample feeds (carry needs the second
    # contract, a calendar spread two markets), one trading the actual contracts, then one
    # sweep and one walk-forward.
    assert calls == ["run_plan"] * 5 + ["run_config_sweep", "run_config_walkforward"]
    assert sorted(p.name for p in data_dir.iterdir()) == ["store"]  # no results, no trials
    assert _files(data_dir) == before


def test_without_the_sample_the_warm_up_says_so_and_does_nothing(data_dir: Path) -> None:
    said: list[str] = []
    assert warmup.warm_kernels(said.append) is None
    assert said == ["engine warm-up skipped: the store has no ES.1d (contango samples load)"]
    assert list(data_dir.iterdir()) == []


def test_serve_starts_the_warm_up_in_a_process_of_its_own(data_dir: Path) -> None:
    # An empty store: the process starts, finds nothing to warm with, and ends cleanly.
    settings = get_settings()
    process = start_warm_up(settings)
    process.join(120)
    assert process.exitcode == 0
    assert process.daemon
    assert list(data_dir.iterdir()) == []


def test_contango_warm_up_compiles_on_the_sample_or_says_what_is_missing(
    data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["warm-up"])
    assert missing.exit_code == 1
    assert "the store has no ES.1d (contango samples load)" in missing.output
    install_es_samples(data_dir, tmp_path_factory.getbasetemp())
    done = runner.invoke(app, ["warm-up"])
    assert done.exit_code == 0, done.output
    assert "engine kernels ready in" in done.output
    assert sorted(p.name for p in data_dir.iterdir()) == ["store"]
