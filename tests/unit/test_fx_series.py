"""FX conversion series read from stored currency futures: as-of rates, clear refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from contango.data.ingest import import_table
from contango.engine.backtest_config import BacktestConfig, FxSeriesConfig
from contango.services.fx_series import FxSeriesError, fx_rates_from_store


def _ns(day: int, hour: int = 0) -> int:
    return int(datetime(2024, 3, day, hour, tzinfo=UTC).timestamp()) * 1_000_000_000


def _store_6e() -> None:
    """6EH2024 and 6EM2024 daily closes on 03-06, 07, 08 and 11 (USD per EUR)."""
    closes = {
        "6EH2024": [1.0900, 1.0950, 1.0940, 1.0930],
        "6EM2024": [1.0950, 1.0990, 1.0980, 1.0970],
    }
    days = [datetime(2024, 3, d, tzinfo=UTC) for d in (6, 7, 8, 11)]
    rows = [(s, days[i], c) for s, cs in closes.items() for i, c in enumerate(cs)]
    import_table(
        pa.table(
            {
                "ts": pa.array([r[1] for r in rows], pa.timestamp("ns", tz="UTC")),
                "contract": [r[0] for r in rows],
                **{k: [r[2] for r in rows] for k in ("open", "high", "low", "close")},
                "volume": [10] * len(rows),
            }
        ),
        dataset="6E.1d",
    )


def test_rates_are_the_front_contracts_close_as_of_each_bar() -> None:
    _store_6e()
    # 6EH2024 last trades Monday 03-18 (two business days before the third Wednesday, 03-20);
    # five business days before it, 03-11, the series rolls to 6EM2024. A bar on Saturday 03-09
    # takes Friday's close; a bar at 15:00 on 03-11 takes that day's 6EM2024 close.
    bar_ts = np.array([_ns(7), _ns(8), _ns(9), _ns(11, 15)], dtype=np.int64)
    rates, dataset, version = fx_rates_from_store(
        "EUR", FxSeriesConfig(root="6E"), "USD", bar_ts, None
    )
    assert rates.tolist() == [1.0950, 1.0940, 1.0940, 1.0970]
    assert dataset == "6E.1d"
    assert version


def test_a_bar_before_the_first_fx_close_is_refused_not_back_filled() -> None:
    _store_6e()
    with pytest.raises(FxSeriesError, match=r"6E.1d starts at 2024-03-06.*after the first bar"):
        fx_rates_from_store(
            "EUR", FxSeriesConfig(root="6E"), "USD", np.array([_ns(5)], dtype=np.int64), None
        )


def test_a_future_quoted_in_another_currency_cannot_convert_into_the_account() -> None:
    with pytest.raises(FxSeriesError, match=r"FESX is quoted in EUR, not the account currency USD"):
        fx_rates_from_store(
            "EUR", FxSeriesConfig(root="FESX"), "USD", np.array([_ns(7)], dtype=np.int64), None
        )


def test_a_currency_cannot_have_both_a_constant_rate_and_a_series() -> None:
    with pytest.raises(ValidationError, match=r"in both fx_rates and fx_series"):
        BacktestConfig.model_validate(
            {
                "markets": [{"root": "FESX"}],
                "strategy": {"name": "ma_crossover"},
                "fx_rates": {"EUR": 1.08},
                "fx_series": {"EUR": {"root": "6E"}},
                "end": date(2024, 3, 11),
            }
        )
