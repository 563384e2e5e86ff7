"""A contract chain in memory: the bars of every contract, grouped by contract in expiry order.

Building a continuous series asks the same questions over and over: "the bars of contract *i*
between two timestamps", "contract *i+1*'s volume on the same bars". :class:`ChainBars` answers
them with slices, never with a scan of the whole table. Bars read from the store usually come
grouped by contract already; the table is then used as it is (zero copy). Otherwise one stable
sort by chain position builds the grouping.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from contango.data.continuous_nb import group_rows_nb
from contango.domain.rolls import ContractRollDates

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_NS_PER_DAY = 86_400 * 1_000_000_000
_EPOCH = date(1970, 1, 1)
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
_MAX_RUNS = 10_000  # far more contracts than any chain lists
BAR_COLUMNS: tuple[str, ...] = ("ts", "contract", *PRICE_COLUMNS, "volume", "open_interest")


class ContinuousError(ValueError):
    """The chain cannot be turned into a continuous series; the message says where and why."""


def date_to_ns(day: date) -> int:
    """Nanoseconds since the epoch of ``day`` at 00:00 UTC, the stamp of its daily bar."""
    return (day - _EPOCH).days * _NS_PER_DAY


def _normalise(bars: pa.Table) -> pa.Table:
    """Check the columns of the canonical bar layout and cast compatible types to it."""
    missing = [name for name in BAR_COLUMNS if name not in bars.column_names]
    if "open_interest" in missing:
        missing.remove("open_interest")
        bars = bars.append_column("open_interest", pa.nulls(bars.num_rows, pa.int64()))
    if missing:
        raise ContinuousError(f"bars table lacks column(s) {', '.join(missing)}")
    ts_type = bars.schema.field("ts").type
    if not pa.types.is_timestamp(ts_type) or ts_type.tz not in ("UTC", "utc", "Etc/UTC", "+00:00"):
        raise ContinuousError(f"column ts must be a UTC timestamp, got {ts_type}")
    wanted = {"ts": pa.timestamp("ns", tz="UTC"), "contract": pa.string(), "volume": pa.int64()}
    wanted |= {"open_interest": pa.int64()} | dict.fromkeys(PRICE_COLUMNS, pa.float64())
    columns = []
    for name in BAR_COLUMNS:
        column = bars.column(name)
        if column.type != wanted[name]:
            try:
                column = column.cast(wanted[name])
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ContinuousError(
                    f"column {name} has type {column.type}, expected {wanted[name]}: {exc}"
                ) from None
        columns.append(column)
    table = pa.table(dict(zip(BAR_COLUMNS, columns, strict=True)))
    for name in ("ts", "contract", "close"):
        if table.column(name).null_count:
            row = pc.index(pc.is_null(table.column(name)), True).as_py()
            raise ContinuousError(f"column {name} is null at row {row}")
    return table


def _contract_runs(contract: pa.ChunkedArray) -> tuple[list[str], I64, I64] | None:
    """Runs of equal symbols: (symbol, start row, stop row) per run, in table order.

    None when the rows are not grouped by contract (more runs than any real chain has
    contracts): listing millions of one-row runs would cost more than grouping the rows.
    """
    symbols: list[str] = []
    starts: list[I64] = []
    stops: list[I64] = []
    offset = 0
    for chunk in contract.chunks:
        if len(chunk) == 0:
            continue
        runs = pc.run_end_encode(chunk)
        if len(symbols) + len(runs.run_ends) > _MAX_RUNS:
            return None
        ends = runs.run_ends.to_numpy().astype(np.int64) + offset
        symbols.extend(runs.values.to_pylist())
        stops.append(ends)
        starts.append(np.concatenate(([offset], ends[:-1])))
        offset += len(chunk)
    if not symbols:
        empty = np.zeros(0, np.int64)
        return [], empty, empty
    return symbols, np.concatenate(starts), np.concatenate(stops)


class ChainBars:
    """The bars of a contract chain, contract by contract in expiry (roll date) order.

    ``contracts[i]`` is the i-th contract of the chain (every contract given roll dates, with or
    without bars); its bars sit at positions ``starts[i]`` to ``stops[i]`` of the *grouped
    view*, whose timestamps are ``ts``. The grouped view is the table itself when ``order`` is
    None (rows already grouped, the store's order), else position ``p`` is table row
    ``order[p]``. Within a contract the timestamps increase strictly.
    ``deadlines[i]`` (ns) is the first timestamp the series may no longer take from contract i:
    00:00 UTC of its roll date.
    """

    def __init__(self, bars: pa.Table, roll_dates: Sequence[ContractRollDates]) -> None:
        self.table = _normalise(bars)
        contract = self.table.column("contract")
        runs = _contract_runs(contract)
        encoded: list[pa.DictionaryArray] = []
        if runs is None:  # not grouped: encode once, the dictionaries list the contracts
            encoded = [pc.dictionary_encode(chunk) for chunk in contract.chunks]
            present = sorted({s for e in encoded for s in e.dictionary.to_pylist()})
        else:
            present = sorted(set(runs[0]))
        chain = _chain(roll_dates, present)
        self.contracts: tuple[str, ...] = tuple(dates.contract for dates in chain)
        # ContractRollDates guarantees roll_date <= last_trade + 1 day, so no bar stamped after
        # a contract's last trade day can fall before its deadline.
        self.deadlines: I64 = np.array([date_to_ns(d.roll_date) for d in chain], dtype=np.int64)
        _check_increasing(self.contracts, self.deadlines)
        position = {symbol: i for i, symbol in enumerate(self.contracts)}
        self.order: I64 | None = None
        self.ts: I64 = self.table.column("ts").cast(pa.int64()).to_numpy()
        if runs is not None and len(runs[0]) == len(present):  # one run per contract
            symbols, run_starts, run_stops = runs
            index = np.array([position[s] for s in symbols], dtype=np.int64)
            self.starts = np.zeros(len(position), np.int64)  # no bars: an empty slice
            self.stops = np.zeros(len(position), np.int64)
            self.starts[index], self.stops[index] = run_starts, run_stops
        else:
            if runs is not None:  # grouped in several runs per contract
                encoded = [pc.dictionary_encode(chunk) for chunk in contract.chunks]
            self._group(encoded, position)
        self._sort_within_contracts()

    def _group(self, encoded: list[pa.DictionaryArray], position: dict[str, int]) -> None:
        """Build ``order``: the rows grouped by chain position, in table order within each."""
        ranks = np.concatenate(
            [_chain_ranks(chunk, position) for chunk in encoded] or [np.zeros(0, np.int32)]
        )
        self.order = group_rows_nb(ranks, len(position))
        counts = np.bincount(ranks, minlength=len(position)).astype(np.int64)
        self.stops = np.cumsum(counts)
        self.starts = self.stops - counts
        self.ts = self.ts[self.order]

    def _sort_within_contracts(self) -> None:
        """Make timestamps increase within each contract; a repeated timestamp is an error."""
        for i, symbol in enumerate(self.contracts):
            lo, hi = int(self.starts[i]), int(self.stops[i])
            ts = self.ts[lo:hi]
            if ts.size < 2 or np.diff(ts).min() > 0:
                continue
            if self.order is None:
                self.order = np.arange(self.table.num_rows, dtype=np.int64)
            if not self.ts.flags.writeable:  # a zero-copy view of the Arrow column
                self.ts = self.ts.copy()
            ranked = np.argsort(ts, kind="stable")
            self.order[lo:hi] = self.order[lo:hi][ranked]
            self.ts[lo:hi] = ts[ranked]
            repeated = np.flatnonzero(np.diff(self.ts[lo:hi]) == 0)
            if repeated.size:
                stamp = np.datetime64(int(self.ts[lo + repeated[0]]), "ns")
                raise ContinuousError(f"{symbol} has two bars at {stamp} UTC")

    def column(self, name: str) -> npt.NDArray[np.generic]:
        """A whole column as NumPy in table order (open interest as float, NaN where null)."""
        column = self.table.column(name)
        if name == "open_interest":
            column = column.cast(pa.float64())
        values: npt.NDArray[np.generic] = column.to_numpy()
        return values

    def prices(self, name: str) -> F64:
        """A whole price column (open, high, low or close) as float64 in table order."""
        values: F64 = self.table.column(name).to_numpy()
        return values

    def rows(self, i: int, lo: int = 0, hi: int | None = None) -> slice | I64:
        """Table rows of contract i's bars ``lo`` to ``hi`` (positions within the contract)."""
        start = int(self.starts[i]) + lo
        stop = int(self.stops[i]) if hi is None else int(self.starts[i]) + hi
        if self.order is None:
            return slice(start, stop)
        return self.order[start:stop]

    def ts_of(self, i: int) -> I64:
        """Timestamps (ns) of contract i's bars, increasing (a view, never a copy)."""
        return self.ts[int(self.starts[i]) : int(self.stops[i])]

    def values_of(self, values: npt.NDArray[np.generic], i: int) -> npt.NDArray[np.generic]:
        """Contract i's slice of a whole column obtained from :meth:`column`."""
        return values[self.rows(i)]


def _chain_ranks(encoded: pa.DictionaryArray, position: dict[str, int]) -> npt.NDArray[np.int32]:
    """Chain position of each row's contract, mapped through the few distinct symbols."""
    rank_of = np.array([position[s] for s in encoded.dictionary.to_pylist()], dtype=np.int32)
    ranks: npt.NDArray[np.int32] = rank_of[encoded.indices.to_numpy()]
    return ranks


def _chain(roll_dates: Sequence[ContractRollDates], present: list[str]) -> list[ContractRollDates]:
    """Every contract with roll dates, traded or not, in roll order.

    Which contract is the front on a day depends on the listing calendar, never on which bars
    happen to exist later; so contracts without bars keep their place in the chain.
    """
    by_symbol = {dates.contract: dates for dates in roll_dates}
    if len(by_symbol) < len(roll_dates):
        raise ContinuousError("the roll dates list a contract more than once")
    unknown = [symbol for symbol in present if symbol not in by_symbol]
    if unknown:
        raise ContinuousError(
            f"no roll dates for contract(s) {', '.join(unknown)} found in the bars"
        )
    return sorted(by_symbol.values(), key=lambda d: (d.roll_date, d.last_trade, d.contract))


def _check_increasing(contracts: tuple[str, ...], deadlines: I64) -> None:
    """Two contracts with the same deadline leave the chain's order undefined."""
    same = np.flatnonzero(np.diff(deadlines) <= 0)
    if same.size:
        first, second = contracts[same[0]], contracts[same[0] + 1]
        raise ContinuousError(
            f"contracts {first} and {second} roll on the same day "
            f"{np.datetime64(int(deadlines[same[0]]), 'ns')}; the chain order is ambiguous"
        )
