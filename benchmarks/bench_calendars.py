"""How long the registry and contract-date functions take, cold and warm.

Run: ``.venv/bin/python benchmarks/bench_calendars.py``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from contango.data import calendars
from contango.data.registry import clear_registry_cache, get_registry
from contango.domain.contracts import FuturesContract


def _timed(label: str, work: Callable[[], object], repeat: int = 1) -> None:
    started = time.perf_counter()
    for _ in range(repeat):
        work()
    elapsed = (time.perf_counter() - started) / repeat
    print(f"{label:<58} {elapsed * 1e3:10.2f} ms")


def _all_last_trades() -> int:
    registry = get_registry()
    count = 0
    for spec in registry.specs():
        for year in range(1995, 2071):
            for month in spec.listed_months:
                calendars.last_trade_date(spec, FuturesContract(spec.root, year, month))
                count += 1
    return count


def _all_chains() -> None:
    for spec in get_registry().specs():
        calendars.contract_chain(spec, dt.date(2000, 1, 1), dt.date(2030, 12, 31))


def main() -> None:
    clear_registry_cache()
    _timed("get_registry() cold (parse + validate YAML)", get_registry)
    _timed("get_registry() warm", get_registry, repeat=1000)
    names = sorted({spec.calendar for spec in get_registry().specs()})
    _timed(
        f"exchange_holidays() cold, {len(names)} calendars",
        lambda: [calendars.exchange_holidays(n) for n in names],
    )
    count = _all_last_trades()
    calendars.evaluate_rule.cache_clear()
    _timed(f"last_trade_date() cold, {count} contracts 1995-2070", _all_last_trades)
    _timed(f"last_trade_date() warm, {count} contracts", _all_last_trades, repeat=3)
    _timed("contract_chain() 2000-2030, every market", _all_chains, repeat=3)
    _timed(
        "business_days('CME_Equity', 1990..2079) vectorized",
        lambda: calendars.business_days("CME_Equity", dt.date(1990, 1, 1), dt.date(2079, 12, 31)),
        repeat=20,
    )


if __name__ == "__main__":
    main()
