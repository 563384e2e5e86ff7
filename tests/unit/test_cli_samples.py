"""``contango samples load`` and ``contango tour`` through the command line."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from contango.cli.main import app
from contango.data.registry import load_registry
from contango.data.store import open_store

runner = CliRunner()
SMALL = [
    "samples",
    "load",
    "--markets",
    "ES,GC",
    "--years",
    "1",
    "--minute-markets",
    "ES",
    "--minute-days",
    "2",
    "--no-progress",
]


def test_load_imports_each_dataset_and_prints_a_summary(data_dir: Path) -> None:
    result = runner.invoke(app, SMALL)
    assert result.exit_code == 0, result.output
    for dataset in ("ES.1d", "ES.1m", "GC.1d"):
        assert dataset in result.output
    assert "3 datasets" in result.output
    names = [d.name for d in open_store().datasets()]
    assert names == ["ES.1d", "ES.1m", "GC.1d"]
    assert (data_dir / "store").is_dir()


def test_if_empty_loads_nothing_when_the_store_has_data() -> None:
    assert runner.invoke(app, SMALL).exit_code == 0
    before = {d.name: d.version_count for d in open_store().datasets()}
    result = runner.invoke(app, [*SMALL, "--if-empty", "--seed", "99"])
    assert result.exit_code == 0, result.output
    assert "nothing loaded" in result.output
    assert {d.name: d.version_count for d in open_store().datasets()} == before


def test_if_empty_loads_into_an_empty_store() -> None:
    result = runner.invoke(app, [*SMALL, "--if-empty"])
    assert result.exit_code == 0, result.output
    assert len(open_store().datasets()) == 3


def test_another_seed_adds_a_new_version() -> None:
    assert runner.invoke(app, SMALL).exit_code == 0
    assert runner.invoke(app, [*SMALL, "--seed", "5"]).exit_code == 0
    counts = {d.name: d.version_count for d in open_store().datasets()}
    assert counts == {"ES.1d": 2, "ES.1m": 2, "GC.1d": 2}


def test_progress_bars_do_not_break_the_load() -> None:
    args = ["samples", "load", "--markets", "ZN", "--years", "1", "--minute-days", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [d.name for d in open_store().datasets()] == ["ZN.1d"]


def test_unknown_market_is_a_usage_error() -> None:
    result = runner.invoke(app, ["samples", "load", "--markets", "ES,XQ", "--no-progress"])
    assert result.exit_code == 2
    assert "XQ" in result.output
    assert open_store().datasets() == []


def test_bad_end_date_and_bad_years_are_usage_errors() -> None:
    assert runner.invoke(app, ["samples", "load", "--end", "31/12/2025"]).exit_code == 2
    assert runner.invoke(app, ["samples", "load", "--years", "0"]).exit_code == 2


def test_tour_on_an_empty_store_suggests_loading_the_samples() -> None:
    result = runner.invoke(app, ["tour"])
    assert result.exit_code == 0, result.output
    assert f"{len(load_registry())} markets" in result.output
    assert "contango samples load" in result.output


def test_tour_lists_the_datasets_and_only_commands_that_exist() -> None:
    assert runner.invoke(app, SMALL).exit_code == 0
    result = runner.invoke(app, ["tour"])
    assert result.exit_code == 0, result.output
    assert "ES.1d" in result.output
    assert "ES.1m" in result.output
    commands = re.findall(r"^\s+\d+\. (contango .+)$", result.output, flags=re.MULTILINE)
    assert "contango data versions ES.1d" in commands
    assert len(commands) >= 4
    for line in commands:
        words = shlex.split(line)[1:]
        path = [w for w in words[:2] if not w.startswith("-") and w.islower() and "." not in w]
        help_result = runner.invoke(app, [*path, "--help"])
        assert help_result.exit_code == 0, f"{line}: {help_result.output}"
