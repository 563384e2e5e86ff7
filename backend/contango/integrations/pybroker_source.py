"""A PyBroker data source backed by Contango's versioned store and continuous contracts.

A PyBroker symbol is a market root ("ES", "CL"). The source reads the root's stored chain at a
pinned dataset version, strings the contracts together with the given roll rule and
adjustment (:func:`contango.data.continuous_store.load_continuous`), and hands PyBroker the
series in currency per contract (see :mod:`contango.integrations.pybroker_bridge`). What it
served is kept on the instance (``loaded``, ``scalings``, ``data_versions``) so results can be
converted back to points and the run's provenance recorded.

The whole stored series is read before PyBroker's date range is applied, so rolls, the
back-adjustment and the price offset do not depend on the range asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from contango.data.continuous_store import load_continuous
from contango.data.registry import get_registry
from contango.data.store import MarketStore
from contango.domain.rolls import Adjustment, CalendarRoll, RollRule
from contango.engine.bars import Bars
from contango.engine.config import MarketSpec
from contango.integrations.pybroker_bridge import (
    PointValueScaling,
    auto_price_offset,
    pybroker_frame,
    utc_naive,
)
from contango.integrations.pybroker_bridge import pybroker as _pybroker

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, kw_only=True)
class ContinuousBars:
    """One root's continuous series as read: prices in points, plus where it came from."""

    root: str
    ts: I64  # int64 ns UTC
    ohlcv: F64  # (n, 5): open, high, low, close (adjusted), volume
    contracts: tuple[str, ...]  # (n,) contract each bar came from
    dataset: str
    version: str

    def bars(self) -> Bars:
        """The series as a one-market panel for :func:`contango.engine.run.run_backtest`."""
        columns = [self.ohlcv[:, i : i + 1].copy() for i in range(5)]
        return Bars(
            ts=self.ts,
            markets=(self.root,),
            open=columns[0],
            high=columns[1],
            low=columns[2],
            close=columns[3],
            volume=columns[4],
        )


def load_continuous_bars(
    root: str,
    *,
    rule: RollRule,
    adjustment: Adjustment,
    dataset: str | None = None,
    version: str | None = None,
    store: MarketStore | None = None,
) -> ContinuousBars:
    """Read ``root``'s continuous series from the store (latest version unless pinned)."""
    built = load_continuous(
        root, rule=rule, adjustment=adjustment, dataset=dataset, version=version, store=store
    )
    table = built.series.table
    ts = pc.cast(table.column("ts"), pa.int64()).to_numpy().astype(np.int64)
    ohlcv = np.column_stack(
        [
            table.column(c).to_numpy(zero_copy_only=False).astype(np.float64)
            for c in ("open", "high", "low", "close", "volume")
        ]
    )
    return ContinuousBars(
        root=root,
        ts=ts,
        ohlcv=ohlcv,
        contracts=tuple(table.column("contract").to_pylist()),
        dataset=built.dataset,
        version=built.version,
    )


def registry_market(root: str, *, commission: float = 0.0, exchange_fee: float = 0.0) -> MarketSpec:
    """The engine's view of a registry market, with the given per-contract fees."""
    spec = get_registry().spec(root)
    return MarketSpec(
        name=spec.root,
        point_value=spec.point_value,
        tick_size=spec.tick_size,
        currency=spec.currency,
        initial_margin=spec.initial_margin,
        maintenance_margin=spec.maintenance_margin,
        commission=commission,
        exchange_fee=exchange_fee,
    )


class ContangoDataSource(_pybroker.data.DataSource):
    """PyBroker bars of market roots, read from Contango's store as continuous contracts.

    ``versions`` pins a dataset version per root (the latest otherwise); ``datasets`` names the
    dataset per root (default ``<root>.1d``); ``price_offsets`` fixes the offset per root in
    points (default: :func:`auto_price_offset` of the whole series). PyBroker's ``adjust``
    argument, when given, is an :class:`~contango.domain.rolls.Adjustment` that overrides
    ``adjustment``; its ``timeframe`` is ignored because the dataset fixes the bar size.
    """

    def __init__(
        self,
        *,
        rule: RollRule | None = None,
        adjustment: Adjustment = Adjustment.DIFFERENCE,
        versions: Mapping[str, str] | None = None,
        datasets: Mapping[str, str] | None = None,
        price_offsets: Mapping[str, float] | None = None,
        store: MarketStore | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # PyBroker's __init__ is untyped
        self.rule: RollRule = rule if rule is not None else CalendarRoll()
        self.adjustment = adjustment
        self.versions = dict(versions or {})
        self.datasets = dict(datasets or {})
        self.price_offsets = dict(price_offsets or {})
        self.store = store
        self.loaded: dict[str, ContinuousBars] = {}
        self.scalings: dict[str, PointValueScaling] = {}

    @property
    def data_versions(self) -> dict[str, str]:
        """Dataset -> version of every series served, for the run's provenance."""
        return {bars.dataset: bars.version for bars in self.loaded.values()}

    def root_frame(self, root: str, adjustment: Adjustment) -> pd.DataFrame:
        """The whole continuous series of ``root`` as a PyBroker frame (and remember it)."""
        series = load_continuous_bars(
            root,
            rule=self.rule,
            adjustment=adjustment,
            dataset=self.datasets.get(root),
            version=self.versions.get(root),
            store=self.store,
        )
        offset = self.price_offsets.get(root, auto_price_offset(series.ohlcv[:, 2]))
        scaling = PointValueScaling(
            point_value=get_registry().spec(root).point_value, price_offset=offset
        )
        self.loaded[root] = series
        self.scalings[root] = scaling
        return pybroker_frame(root, series.ts, series.ohlcv, scaling)

    def _fetch_data(
        self,
        symbols: frozenset[str],
        start_date: datetime,
        end_date: datetime,
        timeframe: str | None,  # noqa: ARG002  # the dataset fixes the bar size
        adjust: Any | None,
    ) -> pd.DataFrame:
        adjustment = self.adjustment if adjust is None else Adjustment(adjust)
        frames = [self.root_frame(root, adjustment) for root in sorted(symbols)]
        frame = pd.concat(frames, ignore_index=True)
        dates = frame["date"]
        keep = (dates >= utc_naive(np.array([_ns(start_date)]))[0]) & (
            dates <= utc_naive(np.array([_ns(end_date)]))[0]
        )
        return frame.loc[keep].reset_index(drop=True)


def _ns(moment: datetime) -> int:
    """A PyBroker date (naive = UTC) as int64 ns since the epoch."""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.as_unit("ns").value)
