"""``generate_chain``: one market's contract chain as a canonical bar table."""

from __future__ import annotations

from datetime import date
from typing import Literal

import pyarrow as pa

from contango.data.calendars import FIRST_YEAR, LAST_YEAR
from contango.data.samples.chain import daily_bars, daily_table
from contango.data.samples.intraday import minute_table
from contango.data.samples.processes import latent_daily
from contango.data.samples.profiles import profile_for
from contango.domain.contracts import ContractSpec

BarSize = Literal["1d", "1m"]
BAR_SIZES: tuple[str, ...] = ("1d", "1m")


def generate_chain(
    spec: ContractSpec, *, start: date, end: date, bar: BarSize = "1d", seed: int
) -> pa.Table:
    """Bars of every contract of ``spec`` alive in [start, end], sorted by (contract, ts).

    ``"1d"`` gives one bar per contract per exchange business day from its listing to its last
    trade day; ``"1m"`` gives the 1-minute bars of the front and next contracts over the same
    days (keep the window short: a Globex day is 1,380 minutes). The same ``seed`` always gives
    the same table, and a day's bars do not depend on the window they were asked for in.
    """
    if bar not in BAR_SIZES:
        raise ValueError(f"bar must be one of {', '.join(BAR_SIZES)}, got {bar!r}")
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    first, last = date(FIRST_YEAR + 2, 1, 1), date(LAST_YEAR - 3, 12, 31)
    if start < first or end > last:
        raise ValueError(
            f"sample window {start.isoformat()}..{end.isoformat()} must lie within "
            f"{first.isoformat()}..{last.isoformat()}, the span of the holiday calendars"
        )
    profile = profile_for(spec)
    latent = latent_daily(profile, profile.level_for(spec), spec.root, seed, end)
    bars = daily_bars(spec, profile, latent, start=start, end=end, seed=seed)
    if bar == "1d":
        return daily_table(bars)
    return minute_table(spec, latent, bars, seed)
