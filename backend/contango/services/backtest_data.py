"""Loading the market data a backtest configuration names, aligned into engine inputs.

Each market is read from the store through the continuous builder: ``continuous`` markets get
the back-adjusted series; ``contracts`` markets get the unadjusted series (the raw prices of
the contract in use) plus, for each roll bar, the outgoing contract's open (read from the
stored chain) and each contract's last trade day (from the contract calendar). Markets are
aligned on the union of their timestamps; a market without a bar at a timestamp gets NaN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from contango.data.calendars import last_trade_date
from contango.data.continuous import ContinuousError
from contango.data.continuous_chain import date_to_ns
from contango.data.continuous_store import load_continuous
from contango.data.registry import get_registry
from contango.data.store import StoreError, open_store
from contango.domain.contracts import ContractSpec
from contango.domain.rolls import Adjustment, CalendarRoll
from contango.engine.backtest_config import BacktestConfig, MarketConfig
from contango.engine.bars import Bars, ContractPanel
from contango.engine.config import MarketSpec
from contango.services.fx_series import FxSeriesError, fx_rates_from_store

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_NS_PER_DAY = 86_400_000_000_000
_ADJUSTMENTS = {
    "difference": Adjustment.DIFFERENCE,
    "ratio": Adjustment.RATIO,
    "none": Adjustment.NONE,
}


class DataLoadError(ValueError):
    """The configuration names data that cannot be loaded (unknown root, dataset, version)."""


@dataclass(frozen=True)
class MarketSeries:
    """One market's bars as read, before alignment."""

    ts: I64
    ohlcv: F64  # (k, 5)
    contract: I64  # (k,) index into names
    names: tuple[str, ...]
    roll_price: F64  # (k,) outgoing contract's open on roll bars, NaN elsewhere
    expiry_ns: I64  # (k,) end of the last trade day of the bar's contract
    dataset: str
    version: str


@dataclass(frozen=True)
class LoadedData:
    """Everything ``run_backtest`` needs besides the strategy and the simulation settings."""

    bars: Bars
    specs: list[MarketSpec]
    contracts: ContractPanel | None
    fx: dict[str, F64]
    data_versions: dict[str, str]


def _contract_codes(column: pa.ChunkedArray) -> tuple[I64, tuple[str, ...]]:
    """Each bar's contract as an index into the contract names, in order of first appearance."""
    symbols = column.combine_chunks()
    if pa.types.is_dictionary(symbols.type):
        symbols = symbols.dictionary_decode()
    encoded = symbols.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, tuple(encoded.dictionary.to_pylist())


def _outgoing_opens(dataset: str, version: str, ts: I64, codes: I64, names: tuple[str, ...]) -> F64:
    """The open of the contract held before each roll, on the roll bar itself."""
    out = np.full(ts.shape[0], np.nan)
    rows = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    if rows.size == 0:
        return out
    outgoing = codes[rows - 1]
    chain = open_store().read(
        dataset,
        version=version,
        contracts=sorted({names[c] for c in outgoing}),
        columns=["ts", "contract", "open"],
    )
    chain_ts = pc.cast(chain.column("ts"), pa.int64()).to_numpy().astype(np.int64)
    chain_open = chain.column("open").to_numpy(zero_copy_only=False).astype(np.float64)
    chain_symbols = np.asarray(chain.column("contract").to_numpy(zero_copy_only=False))
    for code in np.unique(outgoing):  # one pass per rolled-out contract, not per bar
        own = np.flatnonzero(chain_symbols == names[code])
        wanted = rows[outgoing == code]
        at = np.searchsorted(chain_ts[own], ts[wanted])
        found = at < own.size
        found[found] = chain_ts[own[at[found]]] == ts[wanted[found]]
        out[wanted[found]] = chain_open[own[at[found]]]
    return out


def load_market(
    market: MarketConfig, spec: ContractSpec, start: date | None, end: date | None
) -> MarketSeries:
    """Read one market as configured."""
    contracts_mode = market.mode == "contracts"
    built = load_continuous(
        spec.root,
        rule=CalendarRoll(business_days_before=market.roll_days),
        adjustment=Adjustment.NONE if contracts_mode else _ADJUSTMENTS[market.adjustment],
        dataset=market.dataset,
        version=market.version,
        start=start,
        end=None if end is None else end + timedelta(days=1),
    )
    table = built.series.table
    ts = pc.cast(table.column("ts"), pa.int64()).to_numpy().astype(np.int64)
    ohlcv = np.column_stack(
        [
            table.column(c).to_numpy(zero_copy_only=False).astype(np.float64)
            for c in ("open", "high", "low", "close", "volume")
        ]
    )
    codes, names = _contract_codes(table.column("contract"))
    if contracts_mode:
        registry = get_registry()
        # The last nanosecond of each contract's last trade day, per contract (not per bar).
        last_days = [last_trade_date(spec, registry.parse(s)) for s in names]
        expiry = np.array([date_to_ns(d) + _NS_PER_DAY - 1 for d in last_days], dtype=np.int64)
        roll_price = _outgoing_opens(built.dataset, built.version, ts, codes, names)
        expiry_ns = expiry[codes]
    else:
        roll_price = np.full(ts.shape[0], np.nan)
        expiry_ns = np.full(ts.shape[0], np.iinfo(np.int64).max, dtype=np.int64)
    return MarketSeries(
        ts=ts,
        ohlcv=ohlcv,
        contract=codes,
        names=names,
        roll_price=roll_price,
        expiry_ns=expiry_ns,
        dataset=built.dataset,
        version=built.version,
    )


def market_spec(market: MarketConfig, spec: ContractSpec) -> MarketSpec:
    """The engine's view of a market: registry figures, overridden by the configuration."""
    return MarketSpec(
        name=spec.root,
        point_value=spec.point_value,
        tick_size=spec.tick_size,
        currency=spec.currency,
        initial_margin=market.initial_margin
        if market.initial_margin is not None
        else spec.initial_margin,
        maintenance_margin=market.maintenance_margin
        if market.maintenance_margin is not None
        else spec.maintenance_margin,
        commission=market.commission or 0.0,
        exchange_fee=market.exchange_fee or 0.0,
        max_contracts=market.max_contracts,
    )


def align(
    series: list[MarketSeries], roots: list[str], contracts_mode: bool
) -> tuple[Bars, ContractPanel | None]:
    """Put every market on the union of timestamps."""
    ts = np.unique(np.concatenate([s.ts for s in series]))
    n, m = ts.shape[0], len(series)
    panels = np.full((5, n, m), np.nan)
    contract = np.full((n, m), -1, dtype=np.int64)
    roll_price = np.full((n, m), np.nan)
    expiry = np.full((n, m), np.iinfo(np.int64).max, dtype=np.int64)
    for j, s in enumerate(series):
        rows = np.searchsorted(ts, s.ts)
        panels[:, rows, j] = s.ohlcv.T
        contract[rows, j] = s.contract if contracts_mode else 0
        roll_price[rows, j] = s.roll_price
        # last bar index at or before the end of the contract's last trade day
        expiry[rows, j] = np.searchsorted(ts, s.expiry_ns, side="right") - 1
    bars = Bars(
        ts=ts,
        markets=tuple(roots),
        open=panels[0],
        high=panels[1],
        low=panels[2],
        close=panels[3],
        volume=panels[4],
    )
    if not contracts_mode:
        return bars, None
    expiry = np.where(contract >= 0, np.maximum(expiry, 0), n)
    return bars, ContractPanel(
        contract=contract,
        roll_price=roll_price,
        expiry_bar=expiry,
        names=tuple(s.names for s in series),
    )


def load_data(config: BacktestConfig, progress: Callable[[str], None] | None = None) -> LoadedData:
    """Read and align every market of ``config``; raises :class:`DataLoadError`."""
    registry = get_registry()
    series, specs = [], []
    for market in config.markets:
        if market.root not in registry:
            raise DataLoadError(
                f"unknown root {market.root!r}; known roots: {', '.join(registry.roots())}"
            )
        spec = registry.spec(market.root)
        if progress is not None:
            progress(spec.root)
        series.append(load_market(market, spec, config.start, config.end))
        specs.append(market_spec(market, spec))
    contracts_mode = any(m.mode == "contracts" for m in config.markets)
    bars, panel = align(series, [s.name for s in specs], contracts_mode)
    account = config.simulation.account_currency
    fx: dict[str, F64] = {}
    versions = {s.dataset: s.version for s in series}
    for traded in specs:
        currency = traded.currency
        if currency == account or currency in fx:
            continue
        if currency in config.fx_series:
            try:
                fx[currency], dataset, version = fx_rates_from_store(
                    currency, config.fx_series[currency], account, bars.ts, config.end
                )
            except (FxSeriesError, ContinuousError, StoreError) as exc:
                raise DataLoadError(str(exc)) from None
            versions[dataset] = version
        elif currency in config.fx_rates:
            fx[currency] = np.full(bars.n_bars, config.fx_rates[currency])
        else:
            raise DataLoadError(
                f"{traded.name} is quoted in {currency}; add fx_series: {{{currency}: "
                f"{{root: <currency future>}}}} or fx_rates: {{{currency}: <{account} per "
                f"{currency}>}}"
            )
    return LoadedData(bars=bars, specs=specs, contracts=panel, fx=fx, data_versions=versions)
