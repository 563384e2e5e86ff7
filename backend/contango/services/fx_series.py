"""FX conversion series for a backtest, read from stored currency futures.

A market quoted in another currency than the account's needs a rate per bar. The store holds
currency futures (6E, 6J, 6B, 6A: USD per unit of foreign currency), so the rate is the front
contract's unadjusted close, taken as of each bar: the latest close at or before the bar's
timestamp, never a later one.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from contango.data.continuous_store import load_continuous
from contango.data.registry import get_registry
from contango.domain.rolls import Adjustment, CalendarRoll
from contango.engine.backtest_config import FxSeriesConfig

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class FxSeriesError(ValueError):
    """An FX series that cannot convert the backtest's bars (wrong quote, no early data)."""


def fx_rates_from_store(
    currency: str,
    source: FxSeriesConfig,
    account: str,
    bar_ts: I64,
    end: date | None,
) -> tuple[F64, str, str]:
    """Account-currency units per ``currency`` on every bar, with the dataset and version used.

    Raises :class:`FxSeriesError` when the future is not quoted in the account currency or
    when its data starts after the first bar (a rate from the future would be look-ahead).
    """
    registry = get_registry()
    if source.root not in registry:
        raise FxSeriesError(f"fx_series.{currency}: unknown root {source.root!r}")
    quote = registry.spec(source.root).currency
    if quote != account:
        raise FxSeriesError(
            f"fx_series.{currency}: {source.root} is quoted in {quote}, not the account "
            f"currency {account}"
        )
    built = load_continuous(
        source.root,
        rule=CalendarRoll(business_days_before=5),
        adjustment=Adjustment.NONE,
        dataset=source.dataset,
        version=source.version,
        end=None if end is None else end + timedelta(days=1),
    )
    table = built.series.table
    ts = pc.cast(table.column("ts"), pa.int64()).to_numpy().astype(np.int64)
    close = table.column("close").to_numpy(zero_copy_only=False).astype(np.float64)
    at = np.searchsorted(ts, bar_ts, side="right") - 1
    if bar_ts.size and at[0] < 0:
        first = np.datetime64(int(ts[0]), "ns") if ts.size else "never"
        raise FxSeriesError(
            f"fx_series.{currency}: {built.dataset} starts at {first}, after the first bar "
            f"{np.datetime64(int(bar_ts[0]), 'ns')}; start the backtest later"
        )
    return close[at], built.dataset, built.version
