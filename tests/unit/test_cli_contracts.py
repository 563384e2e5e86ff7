"""``contango contracts list`` and ``contango contracts show``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from contango.cli.main import app
from contango.data.registry import clear_registry_cache

runner = CliRunner()


def test_list_prints_every_market_with_point_value_and_margins() -> None:
    result = runner.invoke(app, ["contracts", "list"])
    assert result.exit_code == 0, result.output
    for root in ("ES", "ZN", "CL", "6J", "FGBL", "KC"):
        assert f" {root} " in result.output
    assert "24,200 / 22,000" in result.output  # ES margins
    assert "0.0000005" in result.output  # 6J tick, printed without exponent
    assert "1/64" in result.output  # ZN tick in 32nds-style fraction


def test_list_json_filtered_by_sector() -> None:
    result = runner.invoke(app, ["contracts", "list", "--sector", "rates", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {row["root"] for row in rows} == {"ZT", "ZF", "ZN", "ZB", "FGBL"}
    zn = next(row for row in rows if row["root"] == "ZN")
    # 1/64 point x $1,000 = $15.625
    assert zn["point_value"] == 1000
    assert zn["tick_size"] == 0.015625
    assert zn["tick_value"] == 15.625


def test_list_unknown_sector_is_a_usage_error() -> None:
    result = runner.invoke(app, ["contracts", "list", "--sector", "crypto"])
    assert result.exit_code == 2
    assert "unknown sector 'crypto'" in result.output


def test_show_prints_spec_and_contract_dates_for_a_year() -> None:
    result = runner.invoke(app, ["contracts", "show", "gc", "--year", "2024"])
    assert result.exit_code == 0, result.output
    assert "Gold" in result.output
    # GCZ24: first notice Fri Nov 29 2024; last trade Dec 27 2024 (third last business day);
    # default roll 5 business days before first notice: 27, 26, 25, 22, 21 (28 Thanksgiving).
    assert "GCZ2024" in result.output
    assert "2024-11-29" in result.output
    assert "2024-12-27" in result.output
    assert "2024-11-21" in result.output


def test_show_json_lists_the_contracts_of_the_year() -> None:
    result = runner.invoke(app, ["contracts", "show", "ES", "--year", "2024", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["spec"]["point_value"] == 50
    assert [row["contract"] for row in payload["contracts"]] == [
        "ESH2024",
        "ESM2024",
        "ESU2024",
        "ESZ2024",
    ]
    # Third Fridays of 2024: Mar 15, Jun 21, Sep 20, Dec 20; ES has no first notice day.
    assert [row["last_trade"] for row in payload["contracts"]] == [
        "2024-03-15",
        "2024-06-21",
        "2024-09-20",
        "2024-12-20",
    ]
    assert all(row["first_notice"] is None for row in payload["contracts"])


def test_show_without_year_lists_upcoming_contracts() -> None:
    result = runner.invoke(app, ["contracts", "show", "CL", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["contracts"]
    assert len(rows) == 8
    assert [r["last_trade"] for r in rows] == sorted(r["last_trade"] for r in rows)


def test_show_unknown_root_exits_2_with_suggestions() -> None:
    result = runner.invoke(app, ["contracts", "show", "ESS"])
    assert result.exit_code == 2
    assert "unknown contract root 'ESS'" in result.output
    assert "did you mean" in result.output


def test_invalid_user_spec_file_exits_1_naming_the_file(data_dir: Path) -> None:
    folder = data_dir / "specs"
    folder.mkdir()
    (folder / "broken.yaml").write_text("markets:\n  XX: {name: x}\n", encoding="utf-8")
    clear_registry_cache()
    result = runner.invoke(app, ["contracts", "list"])
    assert result.exit_code == 1
    assert "broken.yaml" in result.output
    assert "market XX" in result.output


def test_show_year_outside_the_calendar_span_is_a_usage_error() -> None:
    result = runner.invoke(app, ["contracts", "show", "ES", "--year", "1850"])
    assert result.exit_code == 2
    assert "--year 1850 is outside" in result.output


def test_contracts_help_describes_every_command() -> None:
    result = runner.invoke(app, ["contracts", "--help"])
    assert result.exit_code == 0
    assert "list" in result.output
    assert "show" in result.output
