"""``contango data continuous`` against a small ES store built through the importer.

The stored chain (daily bars, 2024-03-04 .. 2024-03-15, ten business days i = 0..9):
    ESH2024 close = 5100.00 + 1.25 i,   ESM2024 close = 5160.50 + 1.25 i   (gap 60.50 every day)
ES is cash-settled, so the calendar roll counts back from the last trade day: ESH2024 expires
Friday 2024-03-15, and five CME business days before it is Friday 2024-03-08. The series takes
ESH2024 on 03-04..03-07 (i = 0..3) and ESM2024 from 03-08 (i = 4..9); the gap is measured on
03-07: 5164.25 - 5103.75 = 60.50.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from contango.cli.main import app
from contango.data.ingest import import_table

DAYS = [
    datetime.fromisoformat(str(day)).replace(tzinfo=UTC)
    for day in np.arange(np.datetime64("2024-03-04"), np.datetime64("2024-03-16"))
    if np.is_busday(day)
]
ESH = [5100.00 + 1.25 * i for i in range(10)]
ESM = [5160.50 + 1.25 * i for i in range(10)]


def store_chain(
    dataset: str = "ES.1d", esm_volume: list[int] | None = None, esm_from: int = 0
) -> None:
    esm_volume = esm_volume or [100] * 10
    rows = [("ESH2024", DAYS[i], ESH[i], 1000 - 50 * i) for i in range(10)]
    rows += [("ESM2024", DAYS[i], ESM[i], esm_volume[i]) for i in range(esm_from, 10)]
    table = pa.table(
        {
            "ts": pa.array([r[1] for r in rows], pa.timestamp("ns", tz="UTC")),
            "contract": [r[0] for r in rows],
            "open": [r[2] for r in rows],
            "high": [r[2] + 1.0 for r in rows],
            "low": [r[2] - 1.0 for r in rows],
            "close": [r[2] for r in rows],
            "volume": [r[3] for r in rows],
            "open_interest": [2000] * len(rows),
        }
    )
    import_table(table, dataset=dataset)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["data", "continuous", *args])
    return result.exit_code, result.output


def test_difference_series_is_written_to_csv_with_its_roll_schedule(tmp_path: Path) -> None:
    store_chain()
    out = tmp_path / "es.csv"
    code, output = run("ES", "--adjust", "difference", "--out", str(out))
    assert code == 0, output
    series = pacsv.read_csv(out)
    assert series.column("contract").to_pylist() == ["ESH2024"] * 4 + ["ESM2024"] * 6
    # ESH2024 shifted up by the 60.50 gap, ESM2024 as traded.
    assert series.column("close").to_pylist() == [c + 60.50 for c in ESH[:4]] + ESM[4:]
    assert series.column("unadjusted_close").to_pylist() == ESH[:4] + ESM[4:]
    rolls = pacsv.read_csv(tmp_path / "es.rolls.csv")
    assert rolls.column("gap").to_pylist() == [60.50]
    assert rolls.column("from_close").to_pylist() == [5103.75]
    assert "2024-03-08" in str(rolls.column("ts")[0])
    assert "10 bars" in output
    assert "2 contracts, 1 roll\n" in output
    assert "ESH2024 -> ESM2024" in output
    assert "es.rolls.csv" in output


def test_ratio_series_is_written_to_parquet(tmp_path: Path) -> None:
    store_chain()
    out = tmp_path / "es.parquet"
    code, output = run("ES", "--adjust", "ratio", "--out", str(out))
    assert code == 0, output
    series = pq.read_table(out)
    factor = 5164.25 / 5103.75
    expected = [c * factor for c in ESH[:4]] + ESM[4:]
    assert series.column("close").to_pylist() == pytest.approx(expected, rel=1e-15)
    assert pq.read_table(tmp_path / "es.rolls.parquet").num_rows == 1


def test_volume_roll_follows_the_crossover(tmp_path: Path) -> None:
    # ESH volume 1000 - 50 i: 1000, 950, 900, ... ; ESM trades 2000 from i = 2 (03-06) on:
    # crossover at 03-06's close, ESM2024 from 03-07.
    store_chain(esm_volume=[100, 100] + [2000] * 8)
    out = tmp_path / "es.csv"
    code, output = run("ES", "--roll", "volume", "--out", str(out))
    assert code == 0, output
    assert pacsv.read_csv(out).column("contract").to_pylist() == ["ESH2024"] * 3 + ["ESM2024"] * 7
    assert "volume" in output


def test_start_and_end_keep_an_inclusive_range_of_trade_dates(tmp_path: Path) -> None:
    store_chain()
    out = tmp_path / "es.csv"
    code, output = run("ES", "--start", "2024-03-06", "--end", "2024-03-11", "--out", str(out))
    assert code == 0, output
    # 03-06, 03-07 from ESH2024; 03-08, 03-11 from ESM2024.
    assert pacsv.read_csv(out).column("close").to_pylist() == ESH[2:4] + ESM[4:6]


def test_zero_days_rolls_on_the_last_trade_day_itself(tmp_path: Path) -> None:
    store_chain()
    out = tmp_path / "es.csv"
    code, output = run("ES", "--days", "0", "--reference", "last_trade", "--out", str(out))
    assert code == 0, output
    # The roll date is the last trade day 2024-03-15: ESH2024 through 03-14 (i = 0..8).
    assert pacsv.read_csv(out).column("contract").to_pylist() == ["ESH2024"] * 9 + ["ESM2024"]


def test_end_before_start_is_a_usage_error(tmp_path: Path) -> None:
    code, output = run(
        "ES", "--start", "2024-03-11", "--end", "2024-03-06", "--out", str(tmp_path / "x.csv")
    )
    assert code == 2
    assert "--end 2024-03-06 is before --start 2024-03-11" in output


def test_second_nearby_takes_the_deferred_contract(tmp_path: Path) -> None:
    store_chain()
    out = tmp_path / "es.csv"
    code, output = run("ES", "--nearby", "2", "--out", str(out))
    assert code == 0, output
    # While ESH2024 is the front (to 03-07) the second contract is ESM2024; after that there
    # is no third contract stored.
    assert pacsv.read_csv(out).column("close").to_pylist() == ESM[:4]


def test_unsupported_output_suffix_is_a_usage_error(tmp_path: Path) -> None:
    store_chain()
    code, output = run("ES", "--out", str(tmp_path / "es.txt"))
    assert code == 2
    assert "must be .csv or .parquet" in output
    assert not list(tmp_path.iterdir())


def test_unknown_root_is_a_usage_error(tmp_path: Path) -> None:
    code, output = run("QQQ", "--out", str(tmp_path / "x.csv"))
    assert code == 2
    assert "unknown contract root 'QQQ'" in output


def test_unknown_dataset_is_a_usage_error_listing_the_roots_datasets(tmp_path: Path) -> None:
    store_chain()
    code, output = run("ES", "--dataset", "ES.5m", "--out", str(tmp_path / "x.csv"))
    assert code == 2
    assert "ES.5m" in output
    assert "datasets of ES: ES.1d" in output


def test_first_notice_reference_for_a_cash_settled_market_is_a_usage_error(
    tmp_path: Path,
) -> None:
    store_chain()
    code, output = run("ES", "--reference", "first_notice", "--out", str(tmp_path / "x.csv"))
    assert code == 2
    assert "no first notice day" in output


def test_a_roll_that_cannot_be_measured_exits_with_1(tmp_path: Path) -> None:
    # ESM2024 stored only from 03-08, the roll date itself: no bar shared before the switch.
    store_chain(dataset="ES.gaps", esm_from=4)
    code, output = run("ES", "--dataset", "ES.gaps", "--out", str(tmp_path / "x.csv"))
    assert code == 1
    assert "ESH2024->ESM2024" in output
    assert "no bar in common" in output


def test_help_describes_every_option() -> None:
    code, output = run("--help")
    assert code == 0
    for option in ("--roll", "--days", "--reference", "--adjust", "--nearby", "--dataset"):
        assert option in output
    for option in ("--version", "--start", "--end", "--out", "--confirm"):
        assert option in output
