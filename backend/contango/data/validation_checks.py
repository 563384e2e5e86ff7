"""The checks behind a validation report, run batch by batch over canonical rows.

Every check is vectorized over a batch. Checks that need order (time order, duplicates,
spikes) group the batch's rows by contract with a stable sort, so a file may interleave
contracts freely, and carry each contract's last time and last price into the next batch, so
a problem straddling a batch boundary is found like any other.

Order rule: rows of one contract must come in time order (strictly increasing for bars); the
order *across* contracts is free, because vendor files often interleave contracts by time.
Sorting a 10 GB file is not the importer's business: a file out of order within a contract
is refused with the rows that break the order, which is what a vendor file needs fixed.

Spikes: a close whose log return against the previous close of the same contract exceeds
``SPIKE_MADS`` robust standard deviations (1.4826 x median absolute return of the batch, at
least one tick) **and** is reversed by the next return of the same size. A market that gaps
and stays (a limit move) is not a spike; a bad print that comes straight back is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from contango.data.calendars import business_days
from contango.data.schema import PRICE_COLUMNS, QUANTITY_COLUMNS, REQUIRED
from contango.data.store_files import small_codes
from contango.data.validation import ReportBuilder
from contango.domain.contracts import ContractSpec

SPIKE_MADS = 15.0
TICK_TOLERANCE = 1e-6  # in ticks: float64 prices such as 75.23 are 7522.999999999 ticks
_NS_PER_DAY = 86_400 * 1_000_000_000
_MAD_TO_SIGMA = 1.4826
_RECENT_MOVES = 256
_SPIKE_MESSAGE = "jumps {value:+.4f} in log terms and comes straight back"

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def _floats(table: pa.Table, name: str) -> F64:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)


class _Groups(NamedTuple):
    """One batch's rows grouped by contract; arrays are in grouped order."""

    order: npt.NDArray[np.intp]  # grouped position -> batch position
    starts: I64
    ends: I64
    names: list[str]  # contract of each group
    ts: I64
    rows: I64  # source row numbers
    contracts: npt.NDArray[Any]  # contract of each row
    same_as_next: npt.NDArray[np.bool_]  # the next row is of the same contract
    has_prev: npt.NDArray[np.bool_]  # an earlier row of the contract exists
    step: I64  # ts minus the previous ts of the contract


class BatchChecks:
    """All checks of one import; feed canonical batches in file order, then :meth:`finish`."""

    def __init__(self, builder: ReportBuilder, kind: str, spec: ContractSpec | None) -> None:
        self.out = builder
        self.kind = kind
        self.spec = spec
        self.last_ts: dict[str, int] = {}
        self.last_price: dict[str, float] = {}
        self.pending_spike: dict[str, tuple[int, float]] = {}  # row, log return
        self.recent_moves: dict[str, F64] = {}  # last absolute returns, for the spike scale
        self.days: dict[str, list[I64]] = {}
        self.daily = kind == "bars"

    # -- row-wise checks -----------------------------------------------------------------
    def check(self, table: pa.Table, rows: I64) -> None:
        """Check one batch of canonical rows; ``rows`` are their 1-based source row numbers."""
        self.out.rows += table.num_rows
        for name in PRICE_COLUMNS[self.kind]:
            if name in table.column_names:
                self._prices(table, name, rows)
        if self.kind == "bars":
            self._ohlc(table, rows)
        else:
            self._quotes(table, rows)
        self._quantities(table, rows)
        self._order(table, rows)

    def _prices(self, table: pa.Table, name: str, rows: I64) -> None:
        price = _floats(table, name)
        if name in REQUIRED[self.kind]:
            self.out.add_rows(
                "price_missing",
                np.isnan(price),
                rows,
                column=name,
                values=None,
                message=f"{name} is missing",
            )
        self.out.add_rows(
            "price_zero",
            price == 0,
            rows,
            column=name,
            values=price,
            message=f"{name} is 0 (vendors write 0 for no price)",
        )
        self.out.add_rows(
            "price_negative",
            price < 0,
            rows,
            column=name,
            values=price,
            message=f"{name} {{value}} is negative",
        )
        if self.spec is not None:
            ticks = price / self.spec.tick_size
            off = np.abs(ticks - np.rint(ticks)) > TICK_TOLERANCE
            self.out.add_rows(
                "price_off_tick",
                off,
                rows,
                column=name,
                values=price,
                message=f"{name} {{value}} is not a multiple of the tick {self.spec.tick_size}",
            )

    def _ohlc(self, table: pa.Table, rows: I64) -> None:
        o, h, lo, c = (_floats(table, n) for n in ("open", "high", "low", "close"))
        top, bottom = np.maximum(o, c), np.minimum(o, c)
        self.out.add_rows(
            "high_below_open_close",
            h < top,
            rows,
            column="high",
            values=h,
            message="high {value} is below max(open, close)",
        )
        self.out.add_rows(
            "low_above_open_close",
            lo > bottom,
            rows,
            column="low",
            values=lo,
            message="low {value} is above min(open, close)",
        )
        self.out.add_rows(
            "high_below_low",
            h < lo,
            rows,
            column="high",
            values=h,
            message="high {value} is below the low",
        )

    def _quotes(self, table: pa.Table, rows: I64) -> None:
        bid, ask = _floats(table, "bid"), _floats(table, "ask")
        self.out.add_rows(
            "quote_crossed",
            bid > ask,
            rows,
            column="bid",
            values=bid,
            message="bid {value} is above the ask",
        )

    def _quantities(self, table: pa.Table, rows: I64) -> None:
        for name in QUANTITY_COLUMNS[self.kind]:
            column = table.column(name)
            if name in REQUIRED[self.kind] and column.null_count:
                missing = column.is_null().to_numpy(zero_copy_only=False)
                self.out.add_rows(
                    "quantity_missing",
                    missing,
                    rows,
                    column=name,
                    values=None,
                    message=f"{name} is missing",
                )
            values = column.fill_null(0).to_numpy()
            self.out.add_rows(
                "quantity_negative",
                values < 0,
                rows,
                column=name,
                values=values,
                message=f"{name} {{value}} is negative",
            )

    # -- order, duplicates, spikes (grouped by contract, state carried) ---------------------
    def _order(self, table: pa.Table, rows: I64) -> None:
        missing = table.column("ts").is_null().to_numpy(zero_copy_only=False)
        self.out.add_rows(
            "ts_missing", missing, rows, column="ts", values=None, message="timestamp is missing"
        )
        keep = ~(missing | table.column("contract").is_null().to_numpy(zero_copy_only=False))
        if not keep.any():
            return
        if not keep.all():
            table, rows = table.filter(pa.array(keep)), rows[keep]
        g = self._group(table, rows)
        stamps = g.ts.view("datetime64[ns]")
        self.out.add_rows(
            "ts_unsorted",
            g.has_prev & (g.step < 0),
            g.rows,
            column="ts",
            values=stamps,
            message="timestamp is earlier than the previous row of its contract",
            contracts=g.contracts,
        )
        if self.kind == "bars":  # ticks may share a time stamp
            self.out.add_rows(
                "ts_duplicate",
                g.has_prev & (g.step == 0),
                g.rows,
                column="ts",
                values=stamps,
                message="same contract and time as the previous row",
                contracts=g.contracts,
            )
        for e, name in zip(g.ends, g.names, strict=True):
            self.last_ts[name] = int(g.ts[e - 1])
        price = _floats(table, "close" if self.kind == "bars" else "price")[g.order]
        self._spikes(price, g)
        self._collect_days(g)

    def _group(self, table: pa.Table, rows: I64) -> _Groups:
        """Rows grouped by contract (stable), each compared with the previous of its contract,
        the first of a group with the last of its contract in earlier batches."""
        encoded = pc.dictionary_encode(table.column("contract")).combine_chunks()
        codes = small_codes(encoded.indices.to_numpy())
        order = np.argsort(codes, kind="stable")
        grouped = codes[order]
        starts = np.concatenate([[0], np.flatnonzero(np.diff(grouped)) + 1])
        ends = np.concatenate([starts[1:], [grouped.size]])
        dictionary: list[str] = encoded.dictionary.to_pylist()
        names = [dictionary[int(grouped[s])] for s in starts]
        t = table.column("ts").cast(pa.int64()).to_numpy()[order]
        prev = np.empty_like(t)
        prev[1:] = t[:-1]
        has_prev = np.ones(t.size, dtype=bool)
        for s, name in zip(starts, names, strict=True):
            last = self.last_ts.get(name)
            has_prev[s] = last is not None
            prev[s] = 0 if last is None else last
        group_of_row = np.repeat(np.arange(starts.size), ends - starts)
        return _Groups(
            order=order,
            starts=starts,
            ends=ends,
            names=names,
            ts=t,
            rows=rows[order],
            contracts=np.asarray(names, dtype=object)[group_of_row],
            same_as_next=np.append(np.diff(group_of_row) == 0, False),
            has_prev=has_prev,
            step=t - prev,
        )

    def _collect_days(self, g: _Groups) -> None:
        """Keep the trade dates of daily bars for the missing-session check."""
        if not self.daily:
            return
        if np.any(g.ts % _NS_PER_DAY):
            self.daily, self.days = False, {}  # intraday bars: no session check
            return
        for s, e, name in zip(g.starts, g.ends, g.names, strict=True):
            self.days.setdefault(name, []).append(g.ts[s:e] // _NS_PER_DAY)

    def _thresholds(self, price: F64, ret: F64, g: _Groups) -> F64:
        """Per row: SPIKE_MADS robust deviations of its contract's returns, at least a tick."""
        floor = self.spec.tick_size / price if self.spec is not None else np.full_like(price, 1e-4)
        threshold = np.empty_like(price)
        for s, e, name in zip(g.starts, g.ends, g.names, strict=True):
            # A robust scale needs no more than a few thousand returns: sample long groups.
            # The contract's recent returns from earlier batches join in, so that a batch of
            # a few rows (or one starting with the spike's reversal) still has a sound scale.
            moves = np.abs(ret[s : e : (e - s) // 8192 + 1])
            moves = np.concatenate([self.recent_moves.get(name, moves[:0]), moves])
            moves = moves[np.isfinite(moves)]
            self.recent_moves[name] = moves[-_RECENT_MOVES:]
            scale = _MAD_TO_SIGMA * float(np.median(moves)) if moves.size else 0.0
            threshold[s:e] = SPIKE_MADS * np.maximum(scale, floor[s:e])
        return threshold

    def _spikes(self, price: F64, g: _Groups) -> None:
        prev = np.empty_like(price)
        prev[1:] = price[:-1]
        for s, name in zip(g.starts, g.names, strict=True):
            prev[s] = self.last_price.get(name, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            ret = np.where((price > 0) & (prev > 0) & g.has_prev, np.log(price / prev), np.nan)
        threshold = self._thresholds(price, ret, g)
        big = np.abs(ret) > threshold
        spike = np.zeros(price.size, dtype=bool)
        spike[:-1] = (
            big[:-1] & big[1:] & g.same_as_next[:-1] & (np.sign(ret[:-1]) != np.sign(ret[1:]))
        )
        column = "close" if self.kind == "bars" else "price"
        for s, e, name in zip(g.starts, g.ends, g.names, strict=True):
            # A jump at the end of the previous batch is a spike if this batch reverses it.
            pending = self.pending_spike.pop(name, None)
            if pending is not None and big[s] and np.sign(ret[s]) != np.sign(pending[1]):
                self.out.add(
                    "price_spike",
                    _SPIKE_MESSAGE.format(value=pending[1]),
                    row=pending[0],
                    column=column,
                    contract=name,
                )
            if big[e - 1]:
                self.pending_spike[name] = (int(g.rows[e - 1]), float(ret[e - 1]))
            if np.isfinite(price[e - 1]):
                self.last_price[name] = float(price[e - 1])
        self.out.add_rows(
            "price_spike",
            spike,
            g.rows,
            column=column,
            values=ret,
            message=_SPIKE_MESSAGE,
            contracts=g.contracts,
        )

    # -- whole-file checks ------------------------------------------------------------------
    def finish(self) -> None:
        """Checks that need every row: missing sessions of daily bars."""
        if not (self.daily and self.spec is not None):
            return
        for name, parts in sorted(self.days.items()):
            days = np.unique(np.concatenate(parts)).astype("datetime64[D]")
            first, last = days[0].item(), days[-1].item()
            assert isinstance(first, dt.date)
            assert isinstance(last, dt.date)
            try:
                expected = business_days(self.spec.calendar, first, last)
            except ValueError:
                continue  # outside the calendar's span: nothing to compare with
            missing = np.setdiff1d(expected, days)
            for day in missing[: self.out.max_listed].tolist():
                self.out.add(
                    "missing_session",
                    f"no bar for business day {day.isoformat()} of calendar {self.spec.calendar}",
                    column="ts",
                    value=day.isoformat(),
                    contract=name,
                )
            extra = int(missing.size) - min(int(missing.size), self.out.max_listed)
            if extra:
                self.out.add(
                    "missing_session",
                    f"{extra} more missing business days",
                    contract=name,
                    count=extra,
                )
