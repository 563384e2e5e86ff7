"""Price gaps at the rolls, the adjustment they imply, and the assembled series.

The gap of a roll from contract A to contract B is measured on one timestamp on which both
traded: the latest bar strictly before the switch. Normally that is A's last bar in the series;
if B has no bar there, the latest bar both share is used instead, and the roll schedule says
which (``gap_ts``). With no shared bar at all the gap is unknowable and the build fails, naming
the roll.

Adjustments per segment *s* of *S* (rolls *r* = 0 .. S-2, roll r between segments r and r+1):

* difference (back):  offset_s = sum_{r >= s} (to_r - from_r); the last segment gets 0.
* ratio (back):       factor_s = prod_{r >= s} (to_r / from_r); the last segment gets 1.
* forward:            offset_s = sum_{r < s} (from_r - to_r); the first segment gets 0.
* forward-ratio:      factor_s = prod_{r < s} (from_r / to_r); the first segment gets 1.

With the gap measured on A's last bar, the adjusted change across the roll equals B's own
change from that bar to its first bar in the series, in points (difference) or in percent
(ratio): the roll itself adds no profit or loss.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from contango.data.continuous_chain import F64, I64, PRICE_COLUMNS, ChainBars, ContinuousError
from contango.data.continuous_segments import Segment
from contango.domain.rolls import Adjustment

SERIES_SCHEMA = pa.schema(
    [
        ("ts", pa.timestamp("ns", tz="UTC")),
        ("contract", pa.string()),
        *((name, pa.float64()) for name in PRICE_COLUMNS),
        ("volume", pa.int64()),
        ("open_interest", pa.int64()),
        ("unadjusted_close", pa.float64()),
    ]
)


class RollGap(NamedTuple):
    """The closes of both contracts on the bar where a roll's gap is measured."""

    gap_ts: int
    from_close: float
    to_close: float


class Adjustments(NamedTuple):
    """Per roll: its own step and the cumulative value; per segment: what is applied."""

    steps: F64
    cumulative: F64
    per_segment: F64


def _stamp(ns: int) -> str:
    return f"{np.datetime64(ns, 'ns')} UTC"


def measure_gaps(chain: ChainBars, segments: list[Segment], closes: F64) -> list[RollGap]:
    """The gap of every roll between consecutive segments (see the module docstring)."""
    gaps: list[RollGap] = []
    for before, after in itertools.pairwise(segments):
        old_ts, new_ts = chain.ts_of(before.contract), chain.ts_of(after.contract)
        old_n = int(np.searchsorted(old_ts, after.switch, side="left"))
        new_n = int(np.searchsorted(new_ts, after.switch, side="left"))
        shared = _latest_shared_bar(old_ts[:old_n], new_ts[:new_n])
        if shared is None:
            raise ContinuousError(
                f"roll {chain.contracts[before.contract]}->{chain.contracts[after.contract]} "
                f"at {_stamp(after.switch)}: the two contracts have no bar in common before "
                "the switch, so the price gap cannot be measured"
            )
        old_i, new_i = shared
        gaps.append(
            RollGap(
                gap_ts=int(old_ts[old_i]),
                from_close=float(closes[chain.rows(before.contract, old_i, old_i + 1)][0]),
                to_close=float(closes[chain.rows(after.contract, new_i, new_i + 1)][0]),
            )
        )
    return gaps


def _latest_shared_bar(old_ts: I64, new_ts: I64) -> tuple[int, int] | None:
    """Positions in both arrays of their latest common timestamp, or None."""
    if old_ts.size == 0 or new_ts.size == 0:
        return None
    at = int(np.searchsorted(new_ts, old_ts[-1]))
    if at < new_ts.size and new_ts[at] == old_ts[-1]:  # the usual case: B traded on A's last bar
        return old_ts.size - 1, at
    common, old_at, new_at = np.intersect1d(old_ts, new_ts, assume_unique=True, return_indices=True)
    if common.size == 0:
        return None
    return int(old_at[-1]), int(new_at[-1])


def adjustments(
    adjustment: Adjustment, gaps: list[RollGap], names: list[tuple[str, str]]
) -> Adjustments:
    """Steps, cumulative values and per-segment offsets/factors for ``adjustment``."""
    old = np.array([g.from_close for g in gaps], dtype=np.float64)
    new = np.array([g.to_close for g in gaps], dtype=np.float64)
    if adjustment.is_ratio:
        _require_positive(gaps, names)
    identity = np.array([adjustment.identity])
    steps: F64
    if adjustment is Adjustment.NONE:
        steps = np.zeros(len(gaps))
        return Adjustments(steps, steps, np.zeros(len(gaps) + 1))
    if adjustment is Adjustment.DIFFERENCE:
        steps = new - old
    elif adjustment is Adjustment.RATIO:
        steps = new / old
    elif adjustment is Adjustment.FORWARD:
        steps = old - new
    else:
        steps = old / new
    accumulate = np.multiply.accumulate if adjustment.is_ratio else np.add.accumulate
    if adjustment.is_forward:  # roll r moves the bars after it: segments r+1 and later
        later: F64 = accumulate(steps)
        return Adjustments(steps, later, np.concatenate((identity, later)))
    # Back-adjustment: roll r moves the bars before it, so the totals accumulate from the end.
    history: F64 = accumulate(steps[::-1])[::-1]
    return Adjustments(steps, history, np.concatenate((history, identity)))


def _require_positive(gaps: list[RollGap], names: list[tuple[str, str]]) -> None:
    """Ratios of non-positive prices are meaningless (CL traded below zero in April 2020)."""
    for gap, (old, new) in zip(gaps, names, strict=True):
        if not (gap.from_close > 0 and gap.to_close > 0):
            raise ContinuousError(
                f"roll {old}->{new} at {_stamp(gap.gap_ts)}: ratio adjustment needs positive "
                f"closes, got {old} {gap.from_close} and {new} {gap.to_close}; "
                "use the difference adjustment"
            )


def _passed_through(
    chain: ChainBars, segments: list[Segment], pieces: list[slice | I64]
) -> dict[str, pa.Array | pa.ChunkedArray]:
    """Timestamps, contract, volume, open interest and raw close of the series' bars.

    Rows grouped as stored are sliced (zero copy). Otherwise each column is gathered with NumPy
    and the contract column is rebuilt from the segments: gathering strings row by row is the
    slowest thing Arrow can be asked to do here.
    """
    names = ["ts", "contract", "volume", "open_interest", "close"]
    if chain.order is None:
        slices = [
            chain.table.slice(p.start, p.stop - p.start) for p in pieces if isinstance(p, slice)
        ]
        kept = pa.concat_tables([t.select(names) for t in slices])
        return {name: kept.column(name) for name in names}
    rows = np.concatenate([np.asarray(p) for p in pieces])
    lengths = [s.stop - s.first for s in segments]
    segment_of_bar = np.repeat(np.arange(len(segments), dtype=np.int32), lengths)
    symbols = pa.array([chain.contracts[s.contract] for s in segments])
    interest = chain.column("open_interest")[rows]
    unknown = np.isnan(interest)
    return {
        "ts": pa.array(
            np.concatenate([chain.ts_of(s.contract)[s.first : s.stop] for s in segments])
        ),
        "contract": pa.DictionaryArray.from_arrays(segment_of_bar, symbols).cast(pa.string()),
        "volume": pa.array(chain.column("volume")[rows]),
        "open_interest": pa.array(np.where(unknown, 0, interest).astype(np.int64), mask=unknown),
        "close": pa.array(chain.prices("close")[rows]),
    }


def assemble(
    chain: ChainBars, segments: list[Segment], per_segment: F64, *, ratio: bool
) -> pa.Table:
    """The series table: each segment's bars with its offset added or factor applied."""
    if not segments:
        return SERIES_SCHEMA.empty_table()
    pieces = [chain.rows(s.contract, s.first, s.stop) for s in segments]
    kept = _passed_through(chain, segments, pieces)
    total = sum(s.stop - s.first for s in segments)
    prices: dict[str, F64] = {}
    apply = np.multiply if ratio else np.add
    for name in PRICE_COLUMNS:
        values = chain.prices(name)
        out = np.empty(total, dtype=np.float64)
        at = 0
        for piece, value in zip(pieces, per_segment, strict=True):  # one pass per segment
            raw = values[piece]
            apply(raw, value, out=out[at : at + raw.size])
            at += raw.size
        prices[name] = out
    columns = {
        "ts": kept["ts"].cast(pa.timestamp("ns", tz="UTC")),
        "contract": kept["contract"],
        **{name: pa.array(prices[name]) for name in PRICE_COLUMNS},
        "volume": kept["volume"],
        "open_interest": kept["open_interest"],
        "unadjusted_close": kept["close"],
    }
    return pa.table(columns, schema=SERIES_SCHEMA)
