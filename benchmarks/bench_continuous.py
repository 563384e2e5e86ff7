"""Speed of building continuous series from a synthetic 1-minute ES-like chain.

The chain: quarterly contracts (H, M, U, Z) over ``--years`` years of weekdays, 23 hours of
1-minute bars a day. Each contract trades from its predecessor's roll date until its own last
trade day (the third Friday of its month), so about two contracts are alive at any time and the
input holds about twice the rows of the front-month series. Rows come grouped by contract and
sorted by time, as the store returns them; the last two runs show the cost of grouping rows
that come sorted by time only (contracts interleaved) or in no order at all.

Prints seconds and rows per second for each roll rule and adjustment. Run:
``.venv/bin/python benchmarks/bench_continuous.py [--years 20] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from contango.data.continuous import build_continuous
from contango.domain.rolls import (
    Adjustment,
    CalendarRoll,
    ContractRollDates,
    OpenInterestCrossover,
    RollRule,
    VolumeCrossover,
)

F64 = npt.NDArray[np.float64]
_NS_PER_DAY = 86_400 * 10**9
_NS_PER_MINUTE = 60 * 10**9
_MONTHS = {3: "H", 6: "M", 9: "U", 12: "Z"}


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def _activity(ts: npt.NDArray[np.int64], dates: list[ContractRollDates], k: int) -> F64:
    """Share of trading in contract k: rises as it becomes the front, fades before its roll.

    Liquidity moves about three days before each roll date, so crossover rules roll before
    the calendar deadline, as they do in real markets.
    """
    day = float(_NS_PER_DAY)

    def moved(i: int) -> float:
        crossing = np.datetime64(dates[i].roll_date - timedelta(days=3)).astype("datetime64[ns]")
        return float(crossing.astype(np.int64))

    rising = 1.0 if k == 0 else 1.0 / (1.0 + np.exp(-(ts - moved(k - 1)) / day))
    fading = 1.0 / (1.0 + np.exp((ts - moved(k)) / day))
    share: F64 = rising * fading
    return share


def synthetic_chain(
    years: int, rng: np.random.Generator
) -> tuple[pa.Table, list[ContractRollDates]]:
    """A grouped-by-contract 1-minute chain and its roll dates (8 days before expiry)."""
    start = date(2005, 1, 3)
    days = np.arange(np.datetime64(start), np.datetime64(date(start.year + years, 1, 1)))
    days = days[np.is_busday(days)]
    minutes = np.arange(23 * 60, dtype=np.int64) * _NS_PER_MINUTE
    timeline = (days.astype("datetime64[ns]").astype(np.int64)[:, None] + minutes).ravel()
    steps = rng.normal(0.0, 0.25, timeline.size)
    market = 1200.0 + np.cumsum(steps)
    market = np.maximum(market, 100.0) + 0.0
    expiries = [
        _third_friday(year, month)
        for year in range(start.year, start.year + years + 1)
        for month in _MONTHS
    ]
    dates, pieces, symbols = [], [], []
    previous_roll = np.int64(timeline[0])
    for k, expiry in enumerate(expiries):
        symbol = f"ES{_MONTHS[expiry.month]}{expiry.year}"
        roll = expiry - timedelta(days=8)
        dates.append(ContractRollDates(contract=symbol, last_trade=expiry, roll_date=roll))
        listed = previous_roll - 95 * _NS_PER_DAY  # listed about one quarter before it leads
        end = np.datetime64(expiry + timedelta(days=1)).astype("datetime64[ns]").astype(np.int64)
        lo, hi = np.searchsorted(timeline, [listed, end])
        previous_roll = np.datetime64(roll).astype("datetime64[ns]").astype(np.int64)
        if lo < hi:
            pieces.append((k, lo, hi))
            symbols.append(symbol)
    rows = [np.arange(lo, hi) for _, lo, hi in pieces]
    index = np.concatenate(rows)
    code = np.repeat(np.arange(len(pieces), dtype=np.int32), [r.size for r in rows])
    carry = np.array([k * 4.0 for k, _, _ in pieces])[code]  # later contracts trade higher
    close = market[index] + carry
    activity = np.concatenate([_activity(timeline[lo:hi], dates, k) for k, lo, hi in pieces])
    table = pa.table(
        {
            "ts": pa.array(timeline[index]).cast(pa.timestamp("ns", tz="UTC")),
            "contract": pa.DictionaryArray.from_arrays(code, symbols).cast(pa.string()),
            "open": close - 0.25,
            "high": close + 0.5,
            "low": close - 0.5,
            "close": close,
            "volume": (2_000 * activity).astype(np.int64) + rng.integers(0, 50, index.size),
            "open_interest": (2_000_000 * activity).astype(np.int64),
        }
    )
    return table, dates


def _time(
    table: pa.Table,
    dates: list[ContractRollDates],
    rule: RollRule,
    adjustment: Adjustment,
    repeat: int,
) -> tuple[float, int, int]:
    best = float("inf")
    rows = rolls = 0
    for _ in range(repeat):
        started = time.perf_counter()
        series = build_continuous(table, dates, rule=rule, adjustment=adjustment)
        best = min(best, time.perf_counter() - started)
        rows, rolls = series.table.num_rows, len(series.rolls)
    return best, rows, rolls


def main() -> None:
    """Generate the chain, time each configuration, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=20, help="years of 1-minute bars")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; best is shown")
    args = parser.parse_args()
    rng = np.random.default_rng(20240315)
    started = time.perf_counter()
    table, dates = synthetic_chain(args.years, rng)
    print(
        f"chain: {table.num_rows:,} input rows, {len(dates)} contracts, "
        f"generated in {time.perf_counter() - started:.1f} s"
    )
    cases: list[tuple[str, RollRule, Adjustment]] = [
        ("calendar / ratio", CalendarRoll(business_days_before=8), Adjustment.RATIO),
        ("calendar / none", CalendarRoll(business_days_before=8), Adjustment.NONE),
        ("calendar / difference", CalendarRoll(business_days_before=8), Adjustment.DIFFERENCE),
        ("volume x3 / ratio", VolumeCrossover(confirm_bars=3), Adjustment.RATIO),
        ("open interest / forward", OpenInterestCrossover(), Adjustment.FORWARD),
    ]
    for name, rule, adjustment in cases:
        seconds, rows, rolls = _time(table, dates, rule, adjustment, args.repeat)
        print(
            f"{name:<40} {seconds:6.3f} s  {rows:>11,} rows  {rolls:>3} rolls  "
            f"{rows / seconds:>13,.0f} rows/s"
        )
    by_time = table.take(np.argsort(table.column("ts").cast(pa.int64()), kind="stable"))
    shuffled = table.take(rng.permutation(table.num_rows))
    for name, rows_in in (("rows sorted by time", by_time), ("rows shuffled", shuffled)):
        seconds, rows, rolls = _time(
            rows_in, dates, CalendarRoll(business_days_before=8), Adjustment.RATIO, 1
        )
        print(
            f"{'calendar / ratio, ' + name:<40} {seconds:6.3f} s  {rows:>11,} rows  {rolls:>3} "
            f"rolls  {rows / seconds:>13,.0f} rows/s"
        )


if __name__ == "__main__":
    main()
