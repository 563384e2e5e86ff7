"""``contango data``: validate, import, list, versions, show, export — exit codes and output."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from contango.cli.main import app
from contango.data.store import open_store

runner = CliRunner()

ES_DAILY = (
    "Date,Open,High,Low,Close,Volume\n"
    "2024-01-02,4800.00,4810.25,4790.50,4805.00,1000\n"
    "2024-01-03,4805.00,4812.00,4795.25,4800.25,1100\n"
)
BAD = ES_DAILY + "2024-01-04,4800,4790,4780,4800.25,10\n"  # high below open at row 3


def write(tmp_path: Path, text: str, name: str = "es.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "command", [[], ["validate"], ["import"], ["list"], ["versions"], ["show"], ["export"]]
)
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, ["data", *command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_validate_clean_file_exits_0_and_stores_nothing(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["data", "validate", str(write(tmp_path, ES_DAILY)), "--contract", "ESH24"]
    )
    assert result.exit_code == 0, result.output
    assert "2 rows, 0 errors, 0 warnings" in result.output
    assert open_store().datasets() == []


def test_validate_bad_file_exits_1_with_row_and_column(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["data", "validate", str(write(tmp_path, BAD)), "--contract", "ESH24"]
    )
    assert result.exit_code == 1
    assert "high_below_open_close (row 3, column high)" in result.output


def test_import_prints_version_and_list_versions_show_export(
    tmp_path: Path, data_dir: Path
) -> None:
    result = runner.invoke(
        app, ["data", "import", str(write(tmp_path, ES_DAILY)), "--contract", "ESH24"]
    )
    assert result.exit_code == 0, result.output
    [version] = open_store().versions("ES.1d")
    assert f"dataset ES.1d version {version.id}" in result.output
    assert (data_dir / "store" / "ES.1d" / "LATEST").is_file()  # honours CONTANGO_DATA_DIR

    listed = runner.invoke(app, ["data", "list"])
    assert listed.exit_code == 0
    assert "ES.1d" in listed.output

    lineage = runner.invoke(app, ["data", "versions", "ES.1d"])
    assert lineage.exit_code == 0
    assert version.id in lineage.output

    shown = runner.invoke(app, ["data", "show", "ES.1d", "--head", "1"])
    assert shown.exit_code == 0
    assert "4805.0" in shown.output
    assert "2 rows" in shown.output
    # A short symbol is looked up as the stored long one.
    one = runner.invoke(app, ["data", "show", "ES.1d", "--contract", "ESH24"])
    assert "2 rows" in one.output
    other = runner.invoke(app, ["data", "show", "ES.1d", "--contract", "ESM24"])
    assert "0 rows" in other.output

    target = tmp_path / "out.parquet"
    exported = runner.invoke(app, ["data", "export", "ES.1d", str(target)])
    assert exported.exit_code == 0
    assert pq.read_table(target).column("close").to_pylist() == [4805.0, 4800.25]


def test_import_with_errors_exits_1_and_stores_nothing(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["data", "import", str(write(tmp_path, BAD)), "--contract", "ESH24"]
    )
    assert result.exit_code == 1
    assert "high_below_open_close" in result.output
    assert open_store().datasets() == []


def test_import_options_dataset_map_timezone(tmp_path: Path) -> None:
    text = "When,O,H,L,Last,Qty\n2024-01-02 08:30:00,75,75,75,75,1\n"
    result = runner.invoke(
        app,
        [
            "data",
            "import",
            str(write(tmp_path, text, "cl.csv")),
            "--dataset",
            "CL.custom",
            "--contract",
            "CLG24",
            "--timezone",
            "America/Chicago",
            "--map",
            "When=ts",
            "--map",
            "Last=close",
            "--map",
            "Qty=volume",
        ],
    )
    assert result.exit_code == 0, result.output
    table = open_store().read("CL.custom")
    assert table.column("ts")[0].as_py().hour == 14  # 08:30 CST = 14:30 UTC


@pytest.mark.parametrize(
    "args",
    [
        ["data", "import", "missing.csv", "--contract", "ESH24"],
        ["data", "import", "{file}", "--contract", "XXH24"],
        ["data", "import", "{file}", "--contract", "ESH24", "--kind", "candles"],
        ["data", "import", "{file}", "--contract", "ESH24", "--map", "nonsense"],
        ["data", "validate", "{file}", "--contract", "ESH24", "--timezone", "Nowhere/City"],
        ["data", "versions", "NO.1d"],
        ["data", "show", "NO.1d"],
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str]) -> None:
    path = write(tmp_path, ES_DAILY)
    result = runner.invoke(app, [a.replace("{file}", str(path)) for a in args])
    assert result.exit_code == 2, result.output
