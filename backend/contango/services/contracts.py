"""The contract registry and exchange calendars as use cases: what the API's contract endpoints
(and any other caller) ask of them.

Everything here is read-only and the same for every user, so there is no object rule; the
registry itself (bundled markets overlaid with the data folder's ``specs/*.yaml``) and the
date rules live in :mod:`contango.data.registry` and :mod:`contango.data.calendars`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contango.data.calendars import contract_chain, first_notice_date, last_trade_date, roll_date
from contango.data.registry import UnknownRootError, get_registry
from contango.domain.contracts import SECTORS, ContractSpec, FuturesContract
from contango.domain.rolls import RollReference
from contango.errors import InvalidInputError, NotFoundError

MAX_CHAIN_YEARS = 30  # bounds one answer; the holiday calendars span 1990-2079 anyway


@dataclass(frozen=True, kw_only=True)
class MarketFilter:
    """Which markets to list; every given field must match (case-insensitive)."""

    exchange: str | None = None
    sector: str | None = None
    currency: str | None = None
    search: str | None = None  # in the root, aliases, name or description

    def matches(self, spec: ContractSpec) -> bool:
        """Whether ``spec`` passes every given filter."""
        if self.exchange and spec.exchange.lower() != self.exchange.lower():
            return False
        if self.sector and spec.sector != self.sector.lower():
            return False
        if self.currency and spec.currency != self.currency.upper():
            return False
        if self.search:
            needle = self.search.lower()
            haystack = [spec.root, *spec.aliases, spec.name, spec.description]
            return any(needle in text.lower() for text in haystack)
        return True


@dataclass(frozen=True, kw_only=True)
class ContractDates:
    """One contract and the dates a trader plans around."""

    contract: FuturesContract
    last_trade: date
    first_notice: date | None
    roll: date


def list_markets(filters: MarketFilter) -> list[ContractSpec]:
    """The registry's markets that pass ``filters``, in registry order.

    An unknown sector is refused rather than answered with nothing, since it is almost always a
    misspelling (``equity`` for ``equity_index``).
    """
    if filters.sector and filters.sector.lower() not in SECTORS:
        raise InvalidInputError(
            f"sector {filters.sector!r} is not one of {', '.join(SECTORS)}",
            extra={"field": "sector"},
        )
    return [spec for spec in get_registry().specs() if filters.matches(spec)]


def market(root: str) -> ContractSpec:
    """One market's specification by root or alias; NotFoundError names the known roots."""
    try:
        return get_registry().spec(root)
    except UnknownRootError as exc:
        raise NotFoundError(str(exc)) from None


def chain_dates(
    root: str,
    *,
    start: date,
    end: date,
    roll_days: int,
    reference: RollReference = "auto",
) -> list[ContractDates]:
    """The contracts of ``root`` expiring in [start, end] plus the next one, with their dates.

    The roll date is ``roll_days`` exchange business days before the reference date (the
    first notice day for markets that have one under ``auto``), as a calendar roll uses it.
    """
    spec = market(root)
    if end < start:
        raise InvalidInputError(f"end {end} is before start {start}", extra={"field": "end"})
    if end.year - start.year > MAX_CHAIN_YEARS:
        raise InvalidInputError(
            f"{start}..{end} spans more than {MAX_CHAIN_YEARS} years; ask for a shorter range",
            extra={"field": "end"},
        )
    if reference == "first_notice" and spec.first_notice_rule is None:
        raise InvalidInputError(
            f"{spec.root} has no first notice day; use reference last_trade or auto",
            extra={"field": "reference"},
        )
    try:
        contracts = contract_chain(spec, start, end)
        return [
            contract_dates(spec, c, roll_days=roll_days, reference=reference) for c in contracts
        ]
    except ValueError as exc:  # outside the span of the exchange holiday calendars
        raise InvalidInputError(str(exc), extra={"field": "start"}) from None


def contract_dates(
    spec: ContractSpec,
    contract: FuturesContract,
    *,
    roll_days: int,
    reference: RollReference = "auto",
) -> ContractDates:
    """Last trade, first notice and calendar roll date of one contract."""
    return ContractDates(
        contract=contract,
        last_trade=last_trade_date(spec, contract),
        first_notice=first_notice_date(spec, contract),
        roll=roll_date(spec, contract, business_days_before=roll_days, reference=reference),
    )


def one_contract(root: str, symbol: str, *, roll_days: int) -> ContractDates:
    """The dates of one contract given by symbol (``ESZ24``, ``ESZ2024``) of market ``root``."""
    spec = market(root)
    try:
        contract = get_registry().parse(symbol)
    except (KeyError, ValueError) as exc:
        raise NotFoundError(f"contract {symbol!r}: {str(exc).strip(chr(34) + chr(39))}") from None
    if contract.root != spec.root:
        raise NotFoundError(f"contract {symbol!r} is a {contract.root} contract, not {spec.root}")
    try:
        return contract_dates(spec, contract, roll_days=roll_days)
    except ValueError as exc:
        raise InvalidInputError(f"contract {symbol!r}: {exc}", extra={"field": "symbol"}) from None
