"""Hand-calculated continuous series: each roll rule and each adjustment on a tiny chain.

The ES chain used by most tests (closes; "." = no bar; ES ticks are 0.25 points, so every
price and every difference below is exact in binary floating point):

    day  date        ESH2024   ESM2024   ESU2024
    d0   2024-03-11  5100.00   5160.00      .
    d1   2024-03-12  5104.00   5164.50   5225.00
    d2   2024-03-13  5106.00   5170.25   5231.00
    d3   2024-03-14  5101.00   5172.00   5234.75
    d4   2024-03-15     .      5168.00   5230.25
    d5   2024-03-18     .      5166.00   5240.00

Roll dates (first day on the next contract): ESH2024 d2 (last trade d3), ESM2024 d4 (last trade
d5), ESU2024 far away. So the front series takes ESH on d0-d1, ESM on d2-d3, ESU on d4-d5.
Gaps are measured on the last bar before each roll:
    ESH->ESM on d1: 5164.50 - 5104.00 = 60.50;   ESM->ESU on d3: 5234.75 - 5172.00 = 62.75.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from contango.data.continuous import ContinuousError, build_continuous
from contango.domain.rolls import Adjustment, CalendarRoll, ContractRollDates

D = [date(2024, 3, 11), date(2024, 3, 12), date(2024, 3, 13), date(2024, 3, 14)]
D += [date(2024, 3, 15), date(2024, 3, 18)]
ES_CLOSES = {
    "ESH2024": {0: 5100.00, 1: 5104.00, 2: 5106.00, 3: 5101.00},
    "ESM2024": {0: 5160.00, 1: 5164.50, 2: 5170.25, 3: 5172.00, 4: 5168.00, 5: 5166.00},
    "ESU2024": {1: 5225.00, 2: 5231.00, 3: 5234.75, 4: 5230.25, 5: 5240.00},
}
ES_DATES = [
    ContractRollDates(contract="ESH2024", last_trade=D[3], roll_date=D[2]),
    ContractRollDates(contract="ESM2024", last_trade=D[5], roll_date=D[4]),
    ContractRollDates(
        contract="ESU2024", last_trade=date(2024, 9, 20), roll_date=date(2024, 9, 13)
    ),
]


def utc(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def bars(rows: Sequence[tuple[str, datetime, float, int, int | None]]) -> pa.Table:
    """Bars from (contract, ts, close, volume, open interest); open/high/low around close."""
    closes = [r[2] for r in rows]
    return pa.table(
        {
            "ts": pa.array([r[1] for r in rows], pa.timestamp("ns", tz="UTC")),
            "contract": [r[0] for r in rows],
            "open": [c - 1.0 for c in closes],
            "high": [c + 2.0 for c in closes],
            "low": [c - 3.0 for c in closes],
            "close": closes,
            "volume": pa.array([r[3] for r in rows], pa.int64()),
            "open_interest": pa.array([r[4] for r in rows], pa.int64()),
        }
    )


def es_chain() -> pa.Table:
    return bars(
        [
            (symbol, utc(D[day]), close, 1000, None)
            for symbol, closes in ES_CLOSES.items()
            for day, close in closes.items()
        ]
    )


def column(series_table: pa.Table, name: str) -> list[Any]:
    values: list[Any] = series_table.column(name).to_pylist()
    return values


# -- calendar rule, every adjustment ----------------------------------------------------------


def test_calendar_roll_takes_the_next_contract_from_the_roll_date_on() -> None:
    series = build_continuous(es_chain(), ES_DATES, rule=CalendarRoll())
    assert column(series.table, "ts") == [utc(d) for d in D]
    assert column(series.table, "contract") == ["ESH2024"] * 2 + ["ESM2024"] * 2 + ["ESU2024"] * 2
    # No adjustment: the raw closes of the listed contract.
    assert column(series.table, "close") == [5100.00, 5104.00, 5170.25, 5172.00, 5230.25, 5240.00]
    assert column(series.table, "unadjusted_close") == column(series.table, "close")


def test_calendar_roll_schedule_records_the_gaps_on_the_last_shared_bar() -> None:
    series = build_continuous(es_chain(), ES_DATES, adjustment=Adjustment.DIFFERENCE)
    first, second = series.rolls.events
    assert (first.ts, first.from_contract, first.to_contract) == (utc(D[2]), "ESH2024", "ESM2024")
    assert (first.gap_ts, first.from_close, first.to_close) == (utc(D[1]), 5104.00, 5164.50)
    assert first.gap == 60.50
    assert (second.ts, second.gap_ts, second.gap) == (utc(D[4]), utc(D[3]), 62.75)
    assert first.reason == second.reason == "calendar"
    # The back-adjustment of the history before each roll: 60.50 + 62.75 = 123.25, then 62.75.
    assert (first.adjustment, first.cumulative) == (60.50, 123.25)
    assert (second.adjustment, second.cumulative) == (62.75, 62.75)


def test_difference_back_adjustment_shifts_history_by_the_later_gaps() -> None:
    series = build_continuous(es_chain(), ES_DATES, adjustment=Adjustment.DIFFERENCE)
    # ESH + 123.25: 5100 -> 5223.25, 5104 -> 5227.25; ESM + 62.75: 5170.25 -> 5233.00,
    # 5172 -> 5234.75; ESU unadjusted.
    expected = [5223.25, 5227.25, 5233.00, 5234.75, 5230.25, 5240.00]
    assert column(series.table, "close") == expected
    # Across the rolls the change is the new contract's own: ESM 5170.25 - 5164.50 = 5.75,
    # ESU 5230.25 - 5234.75 = -4.50.
    assert np.diff(expected).tolist() == [4.00, 5.75, 1.75, -4.50, 9.75]
    # open = close - 1, high = close + 2, low = close - 3 before and after the shift.
    assert column(series.table, "open")[0] == 5099.00 + 123.25
    assert column(series.table, "high")[2] == 5172.25 + 62.75
    assert column(series.table, "low")[5] == 5237.00


def test_ratio_back_adjustment_scales_history_by_the_later_ratios() -> None:
    series = build_continuous(es_chain(), ES_DATES, adjustment=Adjustment.RATIO)
    r_hm, r_mu = 5164.50 / 5104.00, 5234.75 / 5172.00
    expected = [
        5100.00 * r_hm * r_mu,
        5104.00 * r_hm * r_mu,
        5170.25 * r_mu,
        5172.00 * r_mu,
        5230.25,
        5240.00,
    ]
    assert column(series.table, "close") == pytest.approx(expected, rel=1e-15)
    # The return across the first roll is ESM's own: 5170.25 / 5164.50.
    closes = column(series.table, "close")
    assert closes[2] / closes[1] == pytest.approx(5170.25 / 5164.50, rel=1e-15)
    first, second = series.rolls.events
    assert first.adjustment == pytest.approx(r_hm, rel=1e-15)
    assert first.cumulative == pytest.approx(r_hm * r_mu, rel=1e-15)
    assert second.cumulative == second.adjustment == pytest.approx(r_mu, rel=1e-15)


def test_forward_adjustment_keeps_the_first_contract_and_shifts_later_ones() -> None:
    series = build_continuous(es_chain(), ES_DATES, adjustment=Adjustment.FORWARD)
    # ESH raw; ESM - 60.50: 5170.25 -> 5109.75, 5172 -> 5111.50; ESU - 123.25: 5230.25 ->
    # 5107.00, 5240 -> 5116.75.
    assert column(series.table, "close") == [5100.00, 5104.00, 5109.75, 5111.50, 5107.00, 5116.75]
    first, second = series.rolls.events
    assert (first.adjustment, first.cumulative) == (-60.50, -60.50)
    assert (second.adjustment, second.cumulative) == (-62.75, -123.25)


def test_forward_ratio_adjustment_scales_later_contracts_down() -> None:
    series = build_continuous(es_chain(), ES_DATES, adjustment=Adjustment.FORWARD_RATIO)
    f_m = 5104.00 / 5164.50
    f_u = f_m * (5172.00 / 5234.75)
    expected = [5100.00, 5104.00, 5170.25 * f_m, 5172.00 * f_m, 5230.25 * f_u, 5240.00 * f_u]
    assert column(series.table, "close") == pytest.approx(expected, rel=1e-15)


def test_roll_schedule_exports_to_a_table_with_one_row_per_roll() -> None:
    series = build_continuous(es_chain(), ES_DATES, adjustment=Adjustment.DIFFERENCE)
    rolls = series.rolls_table()
    assert rolls.num_rows == 2
    assert rolls.column("from_contract").to_pylist() == ["ESH2024", "ESM2024"]
    assert rolls.column("gap").to_pylist() == [60.50, 62.75]
    assert rolls.column("cumulative").to_pylist() == [123.25, 62.75]
    assert rolls.schema.metadata == {b"adjustment": b"difference"}


# -- nearby series, range, gaps -----------------------------------------------------------------


def test_second_nearby_uses_the_contract_after_the_front_in_each_window() -> None:
    series = build_continuous(es_chain(), ES_DATES, nearby=2, adjustment=Adjustment.DIFFERENCE)
    # Front ESH (d0-d1) -> ESM; front ESM (d2-d3) -> ESU; front ESU (d4-) -> no third contract.
    assert column(series.table, "contract") == ["ESM2024"] * 2 + ["ESU2024"] * 2
    # Gap ESM->ESU on d1: 5225.00 - 5164.50 = 60.50; ESM shifted by it.
    assert column(series.table, "close") == [5220.50, 5225.00, 5231.00, 5234.75]
    assert [e.gap for e in series.rolls] == [60.50]


def test_start_and_end_cut_the_series_and_the_last_kept_segment_is_unadjusted() -> None:
    series = build_continuous(
        es_chain(), ES_DATES, adjustment=Adjustment.DIFFERENCE, start=D[1], end=D[4]
    )
    # Bars d1 (ESH), d2, d3 (ESM); ESM is the last segment, so ESH is shifted by 60.50 only.
    assert column(series.table, "close") == [5104.00 + 60.50, 5170.25, 5172.00]
    assert len(series.rolls) == 1


def test_gap_falls_back_to_the_latest_bar_both_contracts_traded() -> None:
    chain = es_chain().filter(
        pa.compute.invert(
            pa.compute.and_(
                pa.compute.equal(es_chain().column("contract"), "ESM2024"),
                pa.compute.equal(es_chain().column("ts"), pa.scalar(utc(D[1]))),
            )
        )
    )
    series = build_continuous(chain, ES_DATES, adjustment=Adjustment.DIFFERENCE)
    first = series.rolls.events[0]
    # ESM has no d1 bar, so the gap is taken on d0: 5160.00 - 5100.00 = 60.00.
    assert (first.gap_ts, first.gap) == (utc(D[0]), 60.00)


def test_roll_without_any_shared_bar_is_an_error_naming_the_roll() -> None:
    rows = [("ESH2024", utc(D[0]), 5100.0, 1, None), ("ESH2024", utc(D[1]), 5104.0, 1, None)]
    rows += [("ESM2024", utc(D[2]), 5170.25, 1, None)]
    with pytest.raises(ContinuousError, match=r"roll ESH2024->ESM2024 at 2024-03-13.*no bar"):
        build_continuous(bars(rows), ES_DATES)


def test_intraday_bars_switch_at_midnight_utc_of_the_roll_date() -> None:
    rows = [
        ("ESH2024", utc(D[1], 23, 59), 5104.00, 10, None),
        ("ESM2024", utc(D[1], 23, 59), 5164.50, 10, None),
        ("ESH2024", utc(D[2], 0, 0), 5105.00, 10, None),
        ("ESM2024", utc(D[2], 0, 0), 5165.75, 10, None),
    ]
    series = build_continuous(bars(rows), ES_DATES[:2])
    assert column(series.table, "contract") == ["ESH2024", "ESM2024"]
    assert series.rolls.events[0].ts == utc(D[2])


def test_rows_in_any_order_give_the_same_series() -> None:
    chain = es_chain()
    shuffled = chain.take(np.random.default_rng(7).permutation(chain.num_rows))
    expected = build_continuous(chain, ES_DATES, adjustment=Adjustment.RATIO)
    actual = build_continuous(shuffled, ES_DATES, adjustment=Adjustment.RATIO)
    assert actual.table.to_pydict() == expected.table.to_pydict()
    assert actual.rolls == expected.rolls


# -- bad input ------------------------------------------------------------------------------


def test_contract_without_roll_dates_is_refused() -> None:
    with pytest.raises(ContinuousError, match=r"no roll dates for contract.*ESU2024"):
        build_continuous(es_chain(), ES_DATES[:2])


def test_two_bars_of_one_contract_at_the_same_time_are_refused() -> None:
    rows = [("ESH2024", utc(D[0]), 5100.0, 1, None), ("ESH2024", utc(D[0]), 5101.0, 1, None)]
    with pytest.raises(ContinuousError, match="ESH2024 has two bars at 2024-03-11"):
        build_continuous(bars(rows), ES_DATES)


def test_ratio_adjustment_refuses_a_negative_close_and_names_the_roll() -> None:
    # CL May 2020 settled at -37.63 on 2020-04-20.
    day = date(2020, 4, 20)
    rows = [("CLK2020", utc(day), -37.63, 1, None), ("CLM2020", utc(day), 20.43, 1, None)]
    rows += [("CLM2020", utc(day + timedelta(days=1)), 11.57, 1, None)]
    next_day = day + timedelta(days=1)
    dates = [
        ContractRollDates(contract="CLK2020", last_trade=next_day, roll_date=next_day),
        ContractRollDates(
            contract="CLM2020", last_trade=date(2020, 5, 19), roll_date=date(2020, 5, 12)
        ),
    ]
    with pytest.raises(ContinuousError, match=r"roll CLK2020->CLM2020.*positive closes"):
        build_continuous(bars(rows), dates, adjustment=Adjustment.RATIO)
    series = build_continuous(bars(rows), dates, adjustment=Adjustment.DIFFERENCE)
    # Gap 20.43 - (-37.63) = 58.06 points.
    assert series.rolls.events[0].gap == 20.43 - (-37.63)


def test_naive_timestamps_are_refused() -> None:
    table = es_chain().set_column(0, "ts", es_chain().column("ts").cast(pa.timestamp("ns")))
    with pytest.raises(ContinuousError, match="ts must be a UTC timestamp"):
        build_continuous(table, ES_DATES)


def test_missing_close_column_is_named() -> None:
    with pytest.raises(ContinuousError, match=r"lacks column.*close"):
        build_continuous(es_chain().drop_columns(["close"]), ES_DATES)


def test_empty_chain_gives_an_empty_series() -> None:
    series = build_continuous(es_chain().slice(0, 0), ES_DATES)
    assert series.table.num_rows == 0
    assert len(series.rolls) == 0


def test_chunked_input_with_a_contract_split_across_chunks_gives_the_same_series() -> None:
    chain = es_chain()
    # Rows 0-3 ESH2024, 4-9 ESM2024, 10-14 ESU2024: cutting at 7 splits ESM2024 in two runs.
    chunked = pa.concat_tables([chain.slice(0, 7), chain.slice(7, 0), chain.slice(7)])
    assert chunked.column("contract").num_chunks == 3
    expected = build_continuous(chain, ES_DATES, adjustment=Adjustment.FORWARD)
    actual = build_continuous(chunked, ES_DATES, adjustment=Adjustment.FORWARD)
    assert actual.table.to_pydict() == expected.table.to_pydict()
