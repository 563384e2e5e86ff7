"""Continuous series of a stored contract chain, and writing them to CSV or Parquet.

The chain is every listed contract over the data's span plus every stored one. Roll dates come
from the exchange calendar of the market's specification: a contract's calendar deadline is
``business_days_before`` exchange business days before its reference date
(``contango.data.calendars.roll_date``), and never later than the same count before its last
trade day, so a reference date that falls after expiry cannot keep an expired contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from contango.data.calendars import contract_chain, last_trade_date, roll_date
from contango.data.continuous import ContinuousError, ContinuousSeries, build_continuous
from contango.data.registry import UnknownRootError, get_registry
from contango.data.store import MarketStore, StoreError, open_store
from contango.domain.contracts import ContractSpec, FuturesContract
from contango.domain.rolls import Adjustment, ContractRollDates, RollRule
from contango.domain.symbols import parse_symbol

OUTPUT_SUFFIXES = (".csv", ".parquet")


class ContinuousRequestError(ContinuousError):
    """The request names something that does not exist or does not apply (a usage error)."""


class StoredContinuous(NamedTuple):
    """A continuous series and the stored data it was built from."""

    series: ContinuousSeries
    dataset: str
    version: str


def default_dataset(root: str) -> str:
    """The dataset a root's daily bars are stored under, e.g. ``ES.1d``."""
    return f"{root}.1d"


def _contract(spec: ContractSpec, symbol: str) -> FuturesContract:
    try:
        contract = parse_symbol(symbol)
    except ValueError as exc:
        raise ContinuousError(f"stored contract {symbol!r}: {exc}") from None
    if contract.root != spec.root:
        raise ContinuousError(f"stored contract {symbol} is not a {spec.root} contract")
    return contract


def contract_roll_dates(
    spec: ContractSpec, symbols: Sequence[str], rule: RollRule
) -> list[ContractRollDates]:
    """Last trade day and calendar deadline of each contract under ``rule``."""
    deadline = rule.deadline
    dates: list[ContractRollDates] = []
    for symbol in symbols:
        contract = _contract(spec, symbol)
        try:
            chosen = roll_date(
                spec,
                contract,
                business_days_before=deadline.business_days_before,
                reference=deadline.reference,
            )
        except ValueError as exc:
            raise ContinuousRequestError(str(exc)) from None
        latest = roll_date(
            spec,
            contract,
            business_days_before=deadline.business_days_before,
            reference="last_trade",
        )
        dates.append(
            ContractRollDates(
                contract=symbol,
                last_trade=last_trade_date(spec, contract),
                roll_date=min(chosen, latest),
            )
        )
    return dates


def chain_symbols(spec: ContractSpec, bars: pa.Table) -> list[str]:
    """The stored contracts plus every listed one expiring between the first bar and the last
    stored contract's expiry (and the one after it).

    A listed month missing from the store still takes its turn as the front month, leaving a
    hole in the series rather than stretching its neighbours over its window.
    """
    stored = sorted(set(pc.unique(bars.column("contract")).to_pylist()))
    if not stored:
        return []
    expiries = [last_trade_date(spec, _contract(spec, symbol)) for symbol in stored]
    first, last = (moment.as_py().date() for moment in pc.min_max(bars.column("ts")).values())
    try:
        listed = contract_chain(spec, first, max(last, *expiries))
    except ValueError as exc:
        raise ContinuousError(f"{spec.root} contract chain: {exc}") from None
    return sorted(set(stored) | {contract.long_symbol for contract in listed})


def _spec(root: str) -> ContractSpec:
    try:
        return get_registry().spec(root)
    except UnknownRootError as exc:
        raise ContinuousRequestError(str(exc)) from None


def _known_datasets(store: MarketStore, root: str) -> str:
    names = [d.name for d in store.datasets() if d.name.split(".")[0] == root]
    return ", ".join(names) if names else "none"


def load_continuous(
    root: str,
    *,
    rule: RollRule,
    adjustment: Adjustment = Adjustment.NONE,
    nearby: int = 1,
    dataset: str | None = None,
    version: str | None = None,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    store: MarketStore | None = None,
) -> StoredContinuous:
    """Read a root's chain from the store and build its continuous series.

    The whole stored chain is read so that rolls are decided the same way whatever the range;
    ``start`` (inclusive) and ``end`` (exclusive) then select the bars kept.
    """
    spec = _spec(root)
    store = store or open_store()
    name = dataset or default_dataset(spec.root)
    try:
        chosen = store.version(name, version) if version else store.versions(name)[0]
        bars = store.read(name, version=chosen.id)
    except StoreError as exc:
        raise ContinuousRequestError(
            f"{exc} (datasets of {spec.root}: {_known_datasets(store, spec.root)})"
        ) from None
    if chosen.kind != "bars":
        raise ContinuousRequestError(f"dataset {name} holds {chosen.kind}, not bars")
    series = build_continuous(
        bars,
        contract_roll_dates(spec, chain_symbols(spec, bars), rule),
        rule=rule,
        adjustment=adjustment,
        nearby=nearby,
        start=start,
        end=end,
    )
    return StoredContinuous(series, name, chosen.id)


def rolls_path(path: Path) -> Path:
    """Where the roll schedule of a series written to ``path`` goes (x.csv -> x.rolls.csv)."""
    return path.with_suffix(f".rolls{path.suffix.lower()}")


def check_output_path(path: Path) -> None:
    """Refuse a file name whose suffix says neither CSV nor Parquet, before any work is done."""
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ContinuousRequestError(
            f"output {path}: the suffix must be .csv or .parquet, got {path.suffix or 'none'!r}"
        )


def _write(table: pa.Table, path: Path) -> None:
    if path.suffix.lower() == ".csv":
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)


def write_continuous(series: ContinuousSeries, path: Path) -> Path:
    """Write the series to ``path`` and its roll schedule next to it; return the latter's path."""
    check_output_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(series.table, path)
    schedule = rolls_path(path)
    _write(series.rolls_table(), schedule)
    return schedule
