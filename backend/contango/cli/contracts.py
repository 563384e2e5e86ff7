"""``contango contracts``: browse the contract registry and each market's dates.

Exit codes: 0 success, 1 a registry file is invalid, 2 a usage error (unknown root or sector).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from fractions import Fraction
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from contango.cli.console import fail
from contango.data.calendars import (
    first_notice_date,
    last_trade_date,
    roll_date,
    upcoming_contracts,
)
from contango.data.registry import (
    ContractRegistry,
    RegistryError,
    UnknownRootError,
    get_registry,
)
from contango.domain.contracts import SECTORS, ContractSpec, FuturesContract
from contango.domain.expiry_rules import ExpiryRule

app = typer.Typer(help="Contract specifications and calendars.", no_args_is_help=True)

DEFAULT_ROLL_DAYS = 5
_UPCOMING = 8


def _load() -> ContractRegistry:
    try:
        return get_registry()
    except RegistryError as exc:
        raise fail(f"invalid contract specification file:\n{exc}", 1) from None


def _plain(value: float) -> str:
    """A number without exponent or float noise: 5e-07 -> 0.0000005, 50.0 -> 50."""
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _tick(spec: ContractSpec) -> str:
    if spec.price_quote == "decimal":
        return _plain(spec.tick_size)
    fraction = Fraction(spec.tick_size).limit_denominator(4096)
    return f"{fraction.numerator}/{fraction.denominator}"


def _months(spec: ContractSpec) -> str:
    return "".join(m.letter for m in spec.listed_months)


def _rule_dict(rule: ExpiryRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "anchor": rule.anchor,
        "month_offset": rule.month_offset,
        "nth": rule.nth,
        "weekday": rule.weekday,
        "day": rule.day,
        "adjust": rule.adjust,
        "business_days": rule.business_days,
        "text": rule.text,
    }


def spec_to_dict(spec: ContractSpec) -> dict[str, Any]:
    """A JSON-ready view of one spec (the same field names as the registry file)."""
    return {
        "root": spec.root,
        "name": spec.name,
        "exchange": spec.exchange,
        "sector": spec.sector,
        "currency": spec.currency,
        "point_value": spec.point_value,
        "tick_size": spec.tick_size,
        "tick_value": spec.tick_value,
        "price_unit": spec.price_unit,
        "price_quote": spec.price_quote,
        "months": _months(spec),
        "trading_hours": {
            "open": spec.trading_hours.open,
            "close": spec.trading_hours.close,
            "timezone": spec.trading_hours.timezone,
        },
        "calendar": spec.calendar,
        "settlement": spec.settlement,
        "last_trade": _rule_dict(spec.last_trade_rule),
        "first_notice": _rule_dict(spec.first_notice_rule),
        "margin": {"initial": spec.initial_margin, "maintenance": spec.maintenance_margin},
        "description": spec.description,
    }


@app.command("list")
def list_contracts(
    sector: str | None = typer.Option(
        None, "--sector", "-s", help=f"Only this sector: {', '.join(SECTORS)}."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List every known market with its point value, tick and margins."""
    registry = _load()
    if sector is not None and sector not in SECTORS:
        raise fail(f"unknown sector {sector!r}: choose one of {', '.join(SECTORS)}", 2)
    specs = [s for s in registry.specs() if sector is None or s.sector == sector]
    if as_json:
        typer.echo(json.dumps([spec_to_dict(s) for s in specs], indent=2))
        return
    table = Table(title=f"Contracts ({len(specs)})")
    for column in ("Root", "Name", "Exchange", "Sector", "Ccy"):
        table.add_column(column)
    for column in ("Point value", "Tick", "Tick value"):
        table.add_column(column, justify="right")
    table.add_column("Months")
    table.add_column("Margin init / maint", justify="right")
    for spec in specs:
        table.add_row(
            spec.root,
            spec.name,
            spec.exchange,
            spec.sector,
            spec.currency,
            f"{spec.point_value:,.2f}".rstrip("0").rstrip("."),
            _tick(spec),
            _plain(spec.tick_value),
            _months(spec),
            f"{spec.initial_margin:,.0f} / {spec.maintenance_margin:,.0f}",
        )
    Console(width=200).print(table)


def _contract_rows(
    spec: ContractSpec, contracts: list[FuturesContract], roll_days: int
) -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = []
    for contract in contracts:
        notice = first_notice_date(spec, contract)
        rows.append(
            {
                "contract": contract.long_symbol,
                "last_trade": last_trade_date(spec, contract).isoformat(),
                "first_notice": notice.isoformat() if notice else None,
                "roll": roll_date(spec, contract, business_days_before=roll_days).isoformat(),
            }
        )
    return rows


@app.command("show")
def show_contract(
    root: str = typer.Argument(..., help="Contract root, e.g. ES, ZN or 6E."),
    year: int | None = typer.Option(
        None, "--year", "-y", help="List the contracts of this delivery year instead of upcoming."
    ),
    roll_days: int = typer.Option(
        DEFAULT_ROLL_DAYS,
        "--roll-days",
        min=0,
        help="Business days before first notice (or last trade) for the default roll date.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show one market's full specification and its upcoming contracts' dates."""
    registry = _load()
    try:
        spec = registry.spec(root)
    except UnknownRootError as exc:
        raise fail(str(exc), 2) from None
    if year is not None and not 1990 <= year <= 2078:
        raise fail(f"--year {year} is outside 1990-2078", 2)
    if year is None:
        contracts = upcoming_contracts(spec, dt.datetime.now(dt.UTC).date(), _UPCOMING)
    else:
        contracts = [FuturesContract(spec.root, year, m) for m in spec.listed_months]
    rows = _contract_rows(spec, contracts, roll_days)
    if as_json:
        typer.echo(json.dumps({"spec": spec_to_dict(spec), "contracts": rows}, indent=2))
        return
    _print_spec(spec, rows, roll_days)


def _print_spec(spec: ContractSpec, rows: list[dict[str, str | None]], roll_days: int) -> None:
    console = Console(width=200)
    details = Table(title=f"{spec.root} - {spec.name}", show_header=False)
    details.add_column("Field", style="bold")
    details.add_column("Value")
    hours = spec.trading_hours
    notice_rule = spec.first_notice_rule.text if spec.first_notice_rule else "none"
    for field, value in (
        ("Exchange", spec.exchange),
        ("Sector", spec.sector),
        ("Currency", spec.currency),
        ("Price unit", spec.price_unit),
        ("Price quote", spec.price_quote),
        ("Point value", f"{_plain(spec.point_value)} {spec.currency}"),
        ("Tick", f"{_tick(spec)} = {_plain(spec.tick_value)} {spec.currency}"),
        ("Months", _months(spec)),
        ("Trading hours", f"{hours.open}-{hours.close} {hours.timezone}"),
        ("Holiday calendar", spec.calendar),
        ("Settlement", spec.settlement),
        ("Last trade rule", spec.last_trade_rule.text),
        ("First notice rule", notice_rule),
        ("Initial margin", f"{spec.initial_margin:,.0f} {spec.currency}"),
        ("Maintenance margin", f"{spec.maintenance_margin:,.0f} {spec.currency}"),
    ):
        details.add_row(field, value)
    console.print(details)
    dates = Table(title=f"Contracts (roll = {roll_days} business days before reference)")
    for column in ("Contract", "Last trade", "First notice", "Roll"):
        dates.add_column(column)
    for row in rows:
        dates.add_row(row["contract"], row["last_trade"], row["first_notice"] or "-", row["roll"])
    console.print(dates)
