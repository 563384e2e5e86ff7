"""Volume and open-interest crossover rolls, worked by hand.

The CL chain (closes, volume in contracts, open interest in contracts; CL ticks are $0.01):

    day  date        CLF2025 close/vol/OI       CLG2025 close/vol/OI
    d0   2024-12-09  70.00 / 300000 / 400000    70.40 / 100000 / 300000
    d1   2024-12-10  70.50 / 250000 / 390000    70.85 / 260000 / 320000   vol G > F
    d2   2024-12-11  71.00 / 200000 / 380000    71.30 / 190000 / 360000   vol G < F
    d3   2024-12-12  71.20 / 150000 / 370000    71.55 / 210000 / 385000   vol G > F, OI G > F
    d4   2024-12-13  71.10 / 100000 / 350000    71.40 / 220000 / 400000   vol G > F, OI G > F
    d5   2024-12-16  71.30 /  90000 / 340000    71.65 / 230000 / 410000

CLF2025's calendar deadline is 2024-12-17 unless a test moves it.
"""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa
import pytest
from test_continuous_examples import bars, column, utc

from contango.data.continuous import ContinuousError, build_continuous
from contango.domain.rolls import (
    Adjustment,
    CalendarRoll,
    ContractRollDates,
    OpenInterestCrossover,
    VolumeCrossover,
)

D = [date(2024, 12, 9), date(2024, 12, 10), date(2024, 12, 11), date(2024, 12, 12)]
D += [date(2024, 12, 13), date(2024, 12, 16)]
F = [(70.00, 300000, 400000), (70.50, 250000, 390000), (71.00, 200000, 380000)]
F += [(71.20, 150000, 370000), (71.10, 100000, 350000), (71.30, 90000, 340000)]
G = [(70.40, 100000, 300000), (70.85, 260000, 320000), (71.30, 190000, 360000)]
G += [(71.55, 210000, 385000), (71.40, 220000, 400000), (71.65, 230000, 410000)]


def cl_chain(g_open_interest: list[int | None] | None = None) -> pa.Table:
    oi = g_open_interest or [row[2] for row in G]
    rows: list[tuple[str, datetime, float, int, int | None]]
    rows = [("CLF2025", utc(D[i]), *F[i]) for i in range(6)]
    rows += [("CLG2025", utc(D[i]), G[i][0], G[i][1], oi[i]) for i in range(6)]
    return bars(rows)


def cl_dates(f_roll: date = date(2024, 12, 17)) -> list[ContractRollDates]:
    return [
        ContractRollDates(contract="CLF2025", last_trade=date(2024, 12, 19), roll_date=f_roll),
        ContractRollDates(
            contract="CLG2025", last_trade=date(2025, 1, 21), roll_date=date(2025, 1, 14)
        ),
    ]


def test_volume_crossover_rolls_on_the_bar_after_the_crossover() -> None:
    series = build_continuous(cl_chain(), cl_dates(), rule=VolumeCrossover())
    # d1: G 260000 > F 250000, known at d1's close -> G from d2 on. On d2 F out-trades G
    # again (200000 > 190000), but a series never rolls back.
    assert column(series.table, "contract") == ["CLF2025"] * 2 + ["CLG2025"] * 4
    event = series.rolls.events[0]
    assert (event.ts, event.reason, event.gap_ts) == (utc(D[2]), "volume", utc(D[1]))
    assert event.gap == 70.85 - 70.50
    assert column(series.table, "volume") == [300000, 250000, 190000, 210000, 220000, 230000]


def test_volume_crossover_with_two_confirming_bars_waits_for_a_second_bar_in_a_row() -> None:
    series = build_continuous(cl_chain(), cl_dates(), rule=VolumeCrossover(confirm_bars=2))
    # G > F on d1 (run 1), not on d2 (run 0), on d3 (1) and d4 (2): decided at d4's close.
    assert column(series.table, "contract") == ["CLF2025"] * 5 + ["CLG2025"]
    event = series.rolls.events[0]
    assert (event.ts, event.gap_ts) == (utc(D[5]), utc(D[4]))


def test_calendar_deadline_rolls_before_a_late_crossover() -> None:
    dates = cl_dates(f_roll=D[3])
    series = build_continuous(cl_chain(), dates, rule=VolumeCrossover(confirm_bars=2))
    # The crossover would complete on d4, but CLF2025 must be left by d3.
    assert column(series.table, "contract") == ["CLF2025"] * 3 + ["CLG2025"] * 3
    assert series.rolls.events[0].reason == "calendar"


def test_open_interest_crossover_uses_open_interest_not_volume() -> None:
    series = build_continuous(
        cl_chain(), cl_dates(), rule=OpenInterestCrossover(), adjustment=Adjustment.DIFFERENCE
    )
    # OI: d3 G 385000 > F 370000 -> G from d4. Gap on d3: 71.55 - 71.20.
    assert column(series.table, "contract") == ["CLF2025"] * 4 + ["CLG2025"] * 2
    event = series.rolls.events[0]
    assert (event.reason, event.gap_ts, event.gap) == ("open_interest", utc(D[3]), 71.55 - 71.20)
    # Back-adjusted: F's closes + (71.55 - 71.20); G's unadjusted.
    closes = column(series.table, "close")
    assert closes[:4] == [c + (71.55 - 71.20) for c, _, _ in F[:4]]
    assert closes[4:] == [71.40, 71.65]


def test_unknown_open_interest_breaks_the_crossover() -> None:
    oi: list[int | None] = [row[2] for row in G]
    oi[3] = None  # G's open interest on d3 is not published: no crossover known on d3
    series = build_continuous(cl_chain(oi), cl_dates(), rule=OpenInterestCrossover())
    # d4: 400000 > 350000 -> G from d5.
    assert column(series.table, "contract") == ["CLF2025"] * 5 + ["CLG2025"]


def test_open_interest_rule_without_any_open_interest_is_an_error() -> None:
    rows = [("CLF2025", utc(D[0]), 70.0, 1, None), ("CLG2025", utc(D[0]), 70.4, 2, None)]
    with pytest.raises(ContinuousError, match="needs open interest"):
        build_continuous(bars(rows), cl_dates(), rule=OpenInterestCrossover())


def test_crossover_rules_validate_their_confirmation_count() -> None:
    with pytest.raises(ValueError, match="confirm_bars"):
        VolumeCrossover(confirm_bars=0)
    rule = OpenInterestCrossover(deadline=CalendarRoll(business_days_before=2))
    assert rule.deadline.business_days_before == 2
    assert rule.kind == "open_interest"
