"""Invariants of continuous series over random chains, checked against an obvious reference.

The reference walks every timestamp of the chain in a plain Python loop, holding the front
contract and a crossover counter, exactly as the rules are worded; expected prices, returns and
gaps are computed from the raw quotes, never from the code under test.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contango.data.continuous import ContinuousError, ContinuousSeries, build_continuous
from contango.domain.rolls import (
    Adjustment,
    CalendarRoll,
    ContractRollDates,
    OpenInterestCrossover,
    RollRule,
    VolumeCrossover,
)

NS_PER_DAY = 86_400 * 10**9
NS_PER_HOUR = 3_600 * 10**9
DAY0 = date(2024, 9, 2)
# Monthly CL symbols across a year end, so that alphabetical order is not chain order.
SYMBOLS = ("CLV2024", "CLX2024", "CLZ2024", "CLF2025", "CLG2025", "CLH2025")
# A ratio-adjusted return across a roll carries five roundings (the roll ratio, the cumulative
# factor, the two adjusted prices, the division), i.e. a relative error of at most 5 x 2**-53:
# up to about 5.5 ulps for a value at the top of its binade (a return just below 1). The same
# bound holds for differences relative to the largest magnitude involved. Runs so far needed 4.
MAX_ULPS = 8


class Quote(NamedTuple):
    close: float
    open: float
    volume: int
    open_interest: int | None


class Chain(NamedTuple):
    table: pa.Table
    dates: list[ContractRollDates]
    quotes: dict[str, dict[int, Quote]]  # contract -> ts (ns) -> quote
    order: list[str]
    deadlines: list[int]  # ns, roll date 00:00 UTC
    expiry_ends: dict[str, int]  # ns, the day after the last trade day


def ns(day: date) -> int:
    return (day - date(1970, 1, 1)).days * NS_PER_DAY


@st.composite
def chains(draw: st.DrawFn, *, sparse: bool) -> Chain:
    """2-5 overlapping contracts, 1 or 3 bars a day, random prices, volumes, open interest."""
    count = draw(st.integers(2, 5))
    hours = draw(st.sampled_from([(0,), (0, 7, 14)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    last = [draw(st.integers(3, 8))]
    for _ in range(count - 1):
        last.append(last[-1] + draw(st.integers(4, 9)))
    roll = [day + 1 - draw(st.integers(0, 3)) for day in last]  # up to the day after expiry
    listed = [0] + [max(0, roll[k - 1] - draw(st.integers(1, 12))) for k in range(1, count)]
    level = rng.uniform(20.0, 5000.0)
    quotes: dict[str, dict[int, Quote]] = {}
    dates = []
    for k, symbol in enumerate(SYMBOLS[:count]):
        stamps = [
            ns(DAY0 + timedelta(days=day)) + hour * NS_PER_HOUR
            for day in range(listed[k], last[k] + 1)
            for hour in hours
        ]
        if sparse:
            stamps = [ts for ts in stamps if rng.random() > 0.25]
        closes = level * (1 + 0.01 * k) * np.exp(np.cumsum(rng.normal(0, 0.01, len(stamps))))
        opens = closes * np.exp(rng.normal(0, 0.003, len(stamps)))
        quotes[symbol] = {
            ts: Quote(
                float(c),
                float(o),
                int(rng.integers(0, 1000)),
                None if rng.random() < 0.1 else int(rng.integers(0, 1000)),
            )
            for ts, c, o in zip(stamps, closes, opens, strict=True)
        }
        dates.append(
            ContractRollDates(
                contract=symbol,
                last_trade=DAY0 + timedelta(days=last[k]),
                roll_date=DAY0 + timedelta(days=roll[k]),
            )
        )
    rows = [(s, ts, q) for s, by_ts in quotes.items() for ts, q in by_ts.items()]
    if draw(st.booleans()):
        rows = [rows[i] for i in rng.permutation(len(rows))]
    table = pa.table(
        {
            "ts": pa.array([r[1] for r in rows], pa.int64()).cast(pa.timestamp("ns", tz="UTC")),
            "contract": [r[0] for r in rows],
            "open": [r[2].open for r in rows],
            "high": [max(r[2].open, r[2].close) + 1.0 for r in rows],
            "low": [min(r[2].open, r[2].close) - 1.0 for r in rows],
            "close": [r[2].close for r in rows],
            "volume": pa.array([r[2].volume for r in rows], pa.int64()),
            "open_interest": pa.array([r[2].open_interest for r in rows], pa.int64()),
        }
    )
    order = [d.contract for d in dates]
    return Chain(
        table,
        dates,
        quotes,
        order,
        [ns(d.roll_date) for d in dates],
        {d.contract: ns(d.last_trade + timedelta(days=1)) for d in dates},
    )


rules = st.one_of(
    st.builds(CalendarRoll),
    st.builds(VolumeCrossover, confirm_bars=st.integers(1, 3)),
    st.builds(OpenInterestCrossover, confirm_bars=st.integers(1, 3)),
)


def reference(
    chain: Chain, rule: RollRule, nearby: int
) -> tuple[list[tuple[int, str]], dict[int, int]]:
    """(ts, contract) of every bar of the series, and the front's chain index at each ts."""
    stamps = sorted({ts for by_ts in chain.quotes.values() for ts in by_ts})
    front, run = 0, 0
    out: list[tuple[int, str]] = []
    front_at: dict[int, int] = {}
    count = len(chain.order)
    for ts in stamps:
        while front < count and ts >= chain.deadlines[front]:
            front, run = front + 1, 0
        if front >= count:
            break
        front_at[ts] = front
        used = front + nearby - 1
        if used < count and ts in chain.quotes[chain.order[used]]:
            out.append((ts, chain.order[used]))
        if isinstance(rule, CalendarRoll) or front + 1 >= count:
            continue
        current = chain.quotes[chain.order[front]].get(ts)
        following = chain.quotes[chain.order[front + 1]].get(ts)
        if current is None:
            continue
        if isinstance(rule, VolumeCrossover):
            crossed = following is not None and following.volume > current.volume
        else:
            mine, theirs = current.open_interest, following and following.open_interest
            crossed = mine is not None and theirs is not None and theirs > mine
        run = run + 1 if crossed else 0
        if run >= rule.confirm_bars:
            front, run = front + 1, 0
    return out, front_at


def expected_gap_stamps(
    chain: Chain, bars: list[tuple[int, str]], front_at: dict[int, int], nearby: int
) -> list[int | None]:
    """Per roll: the latest ts before the switch on which both contracts traded (or None)."""
    gaps: list[int | None] = []
    for (_, old), (_, new) in itertools.pairwise(bars):
        if old == new:
            continue
        window = chain.order.index(new) - (nearby - 1)
        switch = min(ts for ts, front in front_at.items() if front == window)
        shared = set(chain.quotes[old]) & set(chain.quotes[new])
        gaps.append(max((ts for ts in shared if ts < switch), default=None))
    return gaps


def build(
    chain: Chain, rule: RollRule, adjustment: Adjustment, nearby: int = 1
) -> tuple[ContinuousSeries | None, list[tuple[int, str]], list[int | None]]:
    """The series, or None after checking that an error was due: a roll with no shared bar."""
    bars, front_at = reference(chain, rule, nearby)
    gaps = expected_gap_stamps(chain, bars, front_at, nearby)
    if None in gaps:
        with pytest.raises(ContinuousError, match="no bar in common"):
            build_continuous(
                chain.table, chain.dates, rule=rule, adjustment=adjustment, nearby=nearby
            )
        return None, bars, gaps
    series = build_continuous(
        chain.table, chain.dates, rule=rule, adjustment=adjustment, nearby=nearby
    )
    return series, bars, gaps


def within_ulps(actual: float, expected: float, scale: float | None = None) -> bool:
    unit = np.spacing(abs(expected if scale is None else scale))
    return bool(abs(actual - expected) <= MAX_ULPS * unit)


def rows(series: ContinuousSeries) -> list[dict[str, Any]]:
    table: list[dict[str, Any]] = series.table.to_pylist()
    return table


def ts_ns(row: dict[str, Any]) -> int:
    return int(pa.scalar(row["ts"], pa.timestamp("ns", tz="UTC")).cast(pa.int64()).as_py())


@settings(max_examples=150, deadline=None)
@given(chain=chains(sparse=True), rule=rules, nearby=st.integers(1, 3))
def test_each_bar_comes_from_the_contract_the_rule_prescribes(
    chain: Chain, rule: RollRule, nearby: int
) -> None:
    series, bars, gaps = build(chain, rule, Adjustment.NONE, nearby)
    if series is None:
        return
    got = [(ts_ns(r), r["contract"]) for r in rows(series)]
    assert got == bars
    for row in rows(series):
        quote = chain.quotes[row["contract"]][ts_ns(row)]
        # No adjustment: the raw prices of the contract listed on the bar.
        assert (row["close"], row["unadjusted_close"], row["open"]) == (
            quote.close,
            quote.close,
            quote.open,
        )
        assert (row["volume"], row["open_interest"]) == (quote.volume, quote.open_interest)
        # Never a bar from a contract past its last trade day.
        assert ts_ns(row) < chain.expiry_ends[row["contract"]]
    events = series.rolls.events
    assert [int(e.gap_ts.timestamp()) * 10**9 for e in events] == gaps
    for event, gap_ts in zip(events, gaps, strict=True):
        assert gap_ts is not None
        assert event.from_close == chain.quotes[event.from_contract][gap_ts].close
        assert event.to_close == chain.quotes[event.to_contract][gap_ts].close


def check_steps(chain: Chain, series: ContinuousSeries, *, ratio: bool) -> int:
    """Every bar-to-bar move equals the listed contract's own move; returns rolls checked."""
    table = rows(series)
    rolls_checked = 0
    for before, after in itertools.pairwise(table):
        own = chain.quotes[after["contract"]]
        then, now = own[ts_ns(before)], own[ts_ns(after)]
        rolls_checked += before["contract"] != after["contract"]
        if ratio:
            assert within_ulps(after["close"] / before["close"], now.close / then.close)
            assert within_ulps(after["open"] / after["close"], now.open / now.close)
        else:
            scale = max(abs(after["close"]), abs(before["close"]), now.close, then.close)
            assert within_ulps(after["close"] - before["close"], now.close - then.close, scale)
            scale = max(scale, abs(after["open"]), now.open)
            assert within_ulps(after["open"] - after["close"], now.open - now.close, scale)
    return rolls_checked


@settings(max_examples=150, deadline=None)
@given(
    chain=chains(sparse=False),
    rule=rules,
    adjustment=st.sampled_from([Adjustment.RATIO, Adjustment.FORWARD_RATIO]),
)
def test_ratio_adjustment_preserves_every_return(
    chain: Chain, rule: RollRule, adjustment: Adjustment
) -> None:
    series, _, _ = build(chain, rule, adjustment)
    assert series is not None  # every contract trades every bar of its life here
    assert check_steps(chain, series, ratio=True) == len(series.rolls)


@settings(max_examples=150, deadline=None)
@given(
    chain=chains(sparse=False),
    rule=rules,
    adjustment=st.sampled_from([Adjustment.DIFFERENCE, Adjustment.FORWARD]),
)
def test_difference_adjustment_preserves_every_point_change(
    chain: Chain, rule: RollRule, adjustment: Adjustment
) -> None:
    series, _, _ = build(chain, rule, adjustment)
    assert series is not None
    assert check_steps(chain, series, ratio=False) == len(series.rolls)


@settings(max_examples=100, deadline=None)
@given(chain=chains(sparse=True), rule=rules, adjustment=st.sampled_from(list(Adjustment)))
def test_the_reference_segment_keeps_raw_prices(
    chain: Chain, rule: RollRule, adjustment: Adjustment
) -> None:
    series, _, _ = build(chain, rule, adjustment)
    if series is None or series.table.num_rows == 0:
        return
    table = rows(series)
    # Back-adjusted series keep the latest contract real, forward ones the first.
    anchor = table[0]["contract"] if adjustment.is_forward else table[-1]["contract"]
    for row in table:
        if row["contract"] == anchor or adjustment is Adjustment.NONE:
            assert row["close"] == row["unadjusted_close"]
            assert row["open"] == chain.quotes[row["contract"]][ts_ns(row)].open


@settings(max_examples=60, deadline=None)
@given(chain=chains(sparse=True), rule=rules, adjustment=st.sampled_from(list(Adjustment)))
def test_row_order_of_the_input_does_not_change_the_output(
    chain: Chain, rule: RollRule, adjustment: Adjustment
) -> None:
    try:
        expected = build_continuous(chain.table, chain.dates, rule=rule, adjustment=adjustment)
    except ContinuousError:
        return
    reversed_rows = chain.table.take(np.arange(chain.table.num_rows)[::-1])
    actual = build_continuous(reversed_rows, chain.dates, rule=rule, adjustment=adjustment)
    assert actual.table.to_pydict() == expected.table.to_pydict()
    assert actual.rolls == expected.rolls


@settings(max_examples=100, deadline=None)
@given(chain=chains(sparse=True), rule=rules, cut_day=st.integers(0, 50))
def test_roll_decisions_never_use_later_bars(chain: Chain, rule: RollRule, cut_day: int) -> None:
    try:
        full = build_continuous(chain.table, chain.dates, rule=rule)
    except ContinuousError:
        return
    cutoff = ns(DAY0 + timedelta(days=cut_day))
    ts = chain.table.column("ts").cast(pa.int64())
    earlier = chain.table.filter(pa.compute.less(ts, cutoff))
    # Hiding every bar from the cut-off on must not change a single earlier bar's contract.
    if (
        isinstance(rule, OpenInterestCrossover)
        and earlier.num_rows > 0
        and earlier.column("open_interest").null_count == earlier.num_rows
    ):
        # An open-interest rule refuses bars none of which has open interest (the full chain had
        # some later on): an input error, not a changed decision.
        with pytest.raises(ContinuousError, match="needs open interest"):
            build_continuous(earlier, chain.dates, rule=rule)
        return
    part = build_continuous(earlier, chain.dates, rule=rule)
    expected = [(ts_ns(r), r["contract"]) for r in rows(full) if ts_ns(r) < cutoff]
    assert [(ts_ns(r), r["contract"]) for r in rows(part)] == expected
