"""The contract registry: every market Contango knows, read from YAML and validated.

The bundled ``specs/registry.yaml`` holds the exchange specifications; ``*.yaml`` files in
``get_settings().specs_dir`` (same schema) add markets or replace bundled ones whole, read in
file-name order so a later file wins. Every entry is checked with pydantic and then built into
the frozen domain types; any mistake stops loading with an error naming the file, the market,
the field and what is allowed, because a wrong point value silently corrupts every P&L.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from contango.data.calendars import calendar_names
from contango.domain.contracts import (
    SECTORS,
    ContractSpec,
    FuturesContract,
    PriceQuote,
    Sector,
    Settlement,
    TradingHours,
)
from contango.domain.expiry_rules import Adjust, Anchor, ExpiryRule
from contango.domain.months import parse_month_codes
from contango.domain.symbols import parse_symbol
from contango.settings import get_settings

BUNDLED_REGISTRY = Path(__file__).parent / "specs" / "registry.yaml"

_FRACTION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ROOT = re.compile(r"^[A-Z0-9]{1,4}$")


class RegistryError(ValueError):
    """A specification file is malformed; the message names file, market and field."""


class UnknownRootError(KeyError):
    """No market with this root; the message lists the closest known roots."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown root"


def _number(value: Any) -> Any:
    """Accept exchange-style fractions ("1/64") as well as plain numbers."""
    if isinstance(value, str) and (match := _FRACTION.match(value)):
        return float(match.group(1)) / float(match.group(2))
    return value


def _weekday(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in _WEEKDAYS:
        return _WEEKDAYS.index(value.strip().lower())
    return value


Number = Annotated[float, BeforeValidator(_number), Field(gt=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleModel(_Strict):
    """An :class:`ExpiryRule` as written in YAML (weekday may be a name such as ``friday``)."""

    anchor: Anchor
    month_offset: int = 0
    nth: int | None = None
    weekday: Annotated[int | None, BeforeValidator(_weekday)] = Field(default=None, ge=0, le=6)
    day: int | None = Field(default=None, ge=1, le=31)
    adjust: Adjust = "preceding"
    business_days: int = 0
    text: str = ""


class HoursModel(_Strict):
    """The regular session, local exchange time."""

    open: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    close: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: str = Field(pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+)+$")


class MarginModel(_Strict):
    """Indicative exchange margins per contract, in the market's currency."""

    initial: float = Field(gt=0)
    maintenance: float = Field(gt=0)


class MarketModel(_Strict):
    """One market entry of a registry file."""

    name: str = Field(min_length=1)
    exchange: str = Field(min_length=1)
    sector: Sector
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    point_value: Number
    tick_size: Number
    tick_value: Number
    price_unit: str = Field(min_length=1)
    price_quote: PriceQuote = "decimal"
    months: str = Field(pattern=r"^[FGHJKMNQUVXZ]+$")
    trading_hours: HoursModel
    calendar: str
    settlement: Settlement
    last_trade: RuleModel
    first_notice: RuleModel | None = None
    margin: MarginModel
    description: str = ""
    aliases: tuple[str, ...] = ()


def _rule(model: RuleModel) -> ExpiryRule:
    return ExpiryRule(**model.model_dump())


def _build_spec(root: str, model: MarketModel) -> ContractSpec:
    if model.calendar not in calendar_names():
        close = difflib.get_close_matches(model.calendar, sorted(calendar_names()), n=4)
        raise ValueError(
            f"field 'calendar': {model.calendar!r} is not a pandas-market-calendars name"
            + (f" (did you mean {', '.join(close)}?)" if close else "")
        )
    if model.settlement == "cash" and model.first_notice is not None:
        raise ValueError("field 'first_notice': a cash-settled market has no first notice day")
    return ContractSpec(
        root=root,
        name=model.name,
        exchange=model.exchange,
        sector=model.sector,
        currency=model.currency,
        point_value=model.point_value,
        tick_size=model.tick_size,
        tick_value=model.tick_value,
        listed_months=parse_month_codes(model.months),
        trading_hours=TradingHours(**model.trading_hours.model_dump()),
        calendar=model.calendar,
        settlement=model.settlement,
        last_trade_rule=_rule(model.last_trade),
        first_notice_rule=_rule(model.first_notice) if model.first_notice else None,
        initial_margin=model.margin.initial,
        maintenance_margin=model.margin.maintenance,
        price_quote=model.price_quote,
        price_unit=model.price_unit,
        description=model.description,
        aliases=tuple(a.upper() for a in model.aliases),
    )


def _describe(error: Mapping[str, Any]) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(entry)"
    got = error.get("input")
    shown = "" if isinstance(got, Mapping) else f" (got {got!r})"
    return f"field '{field}': {error['msg']}{shown}"


def load_specs_file(path: Path) -> dict[str, ContractSpec]:
    """Read and validate one registry file; raises RegistryError naming file, market, field."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML: {exc}") from None
    except OSError as exc:
        raise RegistryError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("markets"), dict):
        raise RegistryError(f"{path}: expected a mapping with a 'markets:' mapping of root -> spec")
    specs: dict[str, ContractSpec] = {}
    problems: list[str] = []
    for key, entry in document["markets"].items():
        root = str(key)
        if not _ROOT.match(root):
            problems.append(f"{path}: market {root!r}: root must be 1-4 upper-case letters/digits")
            continue
        try:
            specs[root] = _build_spec(root, MarketModel.model_validate(entry))
        except ValidationError as exc:
            problems.extend(f"{path}: market {root}: {_describe(e)}" for e in exc.errors())
        except ValueError as exc:
            problems.append(f"{path}: market {root}: {exc}")
    if problems:
        raise RegistryError("\n".join(problems))
    return specs


class ContractRegistry:
    """The markets known to Contango, looked up by root (case-insensitive) or alias."""

    def __init__(self, specs: Mapping[str, ContractSpec], sources: Mapping[str, Path]) -> None:
        self._specs = dict(sorted(specs.items()))
        self._sources = dict(sources)
        self._aliases = {a: s.root for s in self._specs.values() for a in s.aliases}

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, root: object) -> bool:
        return isinstance(root, str) and self._resolve(root) is not None

    def _resolve(self, root: str) -> str | None:
        key = root.strip().upper()
        if key in self._specs:
            return key
        return self._aliases.get(key)

    def spec(self, root: str) -> ContractSpec:
        """The spec of ``root``; an unknown root raises UnknownRootError with close matches."""
        key = self._resolve(root)
        if key is None:
            close = difflib.get_close_matches(root.strip().upper(), self.roots(), n=5, cutoff=0.4)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownRootError(
                f"unknown contract root {root!r}{hint} "
                f"(known: {', '.join(self.roots())}; add markets in {get_settings().specs_dir})"
            )
        return self._specs[key]

    def roots(self) -> tuple[str, ...]:
        """All roots, sorted."""
        return tuple(self._specs)

    def specs(self) -> tuple[ContractSpec, ...]:
        """All specs, sorted by root."""
        return tuple(self._specs.values())

    def by_sector(self) -> dict[str, tuple[ContractSpec, ...]]:
        """Specs grouped by sector, sectors in the canonical order, empty sectors left out."""
        groups = {s: tuple(x for x in self._specs.values() if x.sector == s) for s in SECTORS}
        return {sector: specs for sector, specs in groups.items() if specs}

    def source(self, root: str) -> Path:
        """The file the spec of ``root`` was read from (bundled or user)."""
        return self._sources[self.spec(root).root]

    def parse(self, symbol: str, *, reference_year: int | None = None) -> FuturesContract:
        """Parse ``symbol`` and check its root is known and its month is listed."""
        contract = parse_symbol(symbol, reference_year=reference_year)
        spec = self.spec(contract.root)
        if not spec.lists(contract.month):
            months = "".join(m.letter for m in spec.listed_months)
            raise ValueError(
                f"symbol {symbol!r}: {spec.root} lists months {months}, not {contract.month.letter}"
            )
        if contract.root != spec.root:  # an alias: report the canonical root
            contract = FuturesContract(spec.root, contract.year, contract.month)
        return contract


def load_registry(user_files: Iterable[Path] = ()) -> ContractRegistry:
    """The bundled registry overlaid with ``user_files`` (later files win)."""
    specs: dict[str, ContractSpec] = {}
    sources: dict[str, Path] = {}
    for path in (BUNDLED_REGISTRY, *user_files):
        for root, spec in load_specs_file(path).items():
            specs[root] = spec
            sources[root] = path
    return ContractRegistry(specs, sources)


def _user_files(specs_dir: Path) -> tuple[tuple[Path, int, int], ...]:
    if not specs_dir.is_dir():
        return ()
    files = sorted(p for p in specs_dir.glob("*.yaml") if p.is_file())
    return tuple((p, p.stat().st_mtime_ns, p.stat().st_size) for p in files)


@lru_cache(maxsize=8)
def _cached_registry(
    specs_dir: Path, fingerprint: tuple[tuple[Path, int, int], ...]
) -> ContractRegistry:
    # specs_dir is part of the cache key even when the folder holds no files.
    del specs_dir
    return load_registry(path for path, _, _ in fingerprint)


def get_registry() -> ContractRegistry:
    """The registry for the current settings' ``specs_dir``.

    Cached per folder and per state of its files, so editing a user file is picked up on the
    next call; :func:`clear_registry_cache` forgets everything.
    """
    specs_dir = get_settings().specs_dir
    return _cached_registry(specs_dir, _user_files(specs_dir))


def clear_registry_cache() -> None:
    """Forget every loaded registry (tests, or a worker told that files changed)."""
    _cached_registry.cache_clear()
