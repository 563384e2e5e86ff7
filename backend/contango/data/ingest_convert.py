"""Turning a vendor's columns into canonical rows: times to UTC, symbols to contracts.

Times: a column holding only dates is a *trade date* and becomes 00:00 UTC of that date,
whatever the time zone option says (a trade date is a label, not an instant). Times with an
offset (``...Z``, ``...-05:00``) or a time-zone-aware Parquet type are converted to UTC. Naive
times are read in the given time zone: a local time that the DST change skips is an error
(the time zone given is probably wrong). A local time it repeats (01:00-01:59 twice when DST
ends) is resolved by order, as a file in time order reads: the first pass is the earlier
instant, rows after the clock went back the later one; each such row gets a warning. Epoch
integers are UTC, their unit told by their magnitude.

Symbols: each distinct (symbol, year of the row) is parsed once with the registry, the year
anchoring one- and two-digit symbol years, so ``ESZ4`` in 2014 data is ESZ2014.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from contango.data.registry import ContractRegistry
from contango.data.schema import DATE, TIME, MappingError, schema_for
from contango.data.store_files import small_codes
from contango.data.validation import ReportBuilder
from contango.domain.contracts import ContractSpec
from contango.domain.symbols import parse_symbol

TS = pa.timestamp("ns", tz="UTC")
_NS_PER_DAY = 86_400 * 1_000_000_000
I64 = npt.NDArray[np.int64]

_DATE_FORMATS: tuple[tuple[str, str], ...] = (
    (r"^\d{4}-\d{2}-\d{2}$", "%Y-%m-%d"),
    (r"^\d{8}$", "%Y%m%d"),
    (r"^\d{1,2}/\d{1,2}/\d{4}$", "%m/%d/%Y"),
)
_ISO = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$"
_OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"
_TIME_FORMATS: tuple[tuple[str, str], ...] = (
    (r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}$", "%m/%d/%Y %H:%M:%S"),
    (r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}$", "%m/%d/%Y %H:%M"),
    (r"^\d{8} \d{2}:\d{2}:\d{2}$", "%Y%m%d %H:%M:%S"),
    (r"^\d{8} \d{2}:\d{2}$", "%Y%m%d %H:%M"),
    (r"^\d{8} \d{6}$", "%Y%m%d %H%M%S"),
    (r"^\d{8} \d{4}$", "%Y%m%d %H%M"),
)


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone, else a MappingError (a usage problem)."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise MappingError(
            f"--timezone {name!r} is not an IANA time zone such as "
            "America/Chicago, America/New_York or UTC"
        ) from None
    return name


@dataclass
class Conformer:
    """Converts batches of a source file to canonical tables, reporting what it cannot."""

    kind: str
    columns: dict[str, str]  # canonical (or date/time) -> source column
    timezone: str
    registry: ContractRegistry
    out: ReportBuilder
    contract: str | None = None  # fixed long symbol, when the file is one contract
    root: str | None = None
    time_format: str | None = None
    spec: ContractSpec | None = None
    spec_given: bool = False  # contracts are checked against ``spec``, not the registry
    symbol_prefix: str | None = None  # --root given: symbols such as "Z24" get it prefixed
    _symbols: dict[tuple[str, int], str | None] = field(default_factory=dict)
    _ts_format: str | None = None
    _ts_offset: bool | None = None
    # Rows of this batch in an hour a DST change repeats: positions, local ns, later instant.
    _repeats: tuple[I64, I64, I64] | None = None
    # (contract, local day) -> (latest local time seen, whether the clock already went back)
    _repeat_state: dict[tuple[str, int], tuple[int, bool]] = field(default_factory=dict)

    def conform(self, batch: pa.Table, rows: I64) -> pa.Table:
        """The canonical table of one batch (same row count, nulls where values are bad)."""
        ts = self._timestamps(batch, rows)
        schema = schema_for(self.kind)
        contracts = self._contracts(batch, ts, rows)
        if self._repeats is not None:
            ts = self._second_pass(ts, contracts)
        arrays: dict[str, pa.Array | pa.ChunkedArray] = {"ts": ts, "contract": contracts}
        for name in schema.names[2:]:
            source = self.columns.get(name)
            if source is None:
                arrays[name] = pa.nulls(batch.num_rows, schema.field(name).type)
            else:
                arrays[name] = self._number(batch.column(source), name, schema, rows)
        # ``contract`` stays dictionary-encoded until the store writes it (see _contracts).
        return pa.table(arrays)

    def _number(
        self, column: pa.ChunkedArray, name: str, schema: pa.Schema, rows: I64
    ) -> pa.ChunkedArray:
        target = schema.field(name).type
        if column.type == target:
            return column
        if pa.types.is_integer(target) and pa.types.is_floating(column.type):
            values = column.to_numpy(zero_copy_only=False)
            fractional = np.isfinite(values) & (values != np.floor(values))
            self.out.add_rows(
                "unreadable",
                fractional,
                rows,
                column=name,
                values=values,
                message=f"{name} {{value}} is not a whole number",
            )
            column = pc.if_else(pa.array(fractional), None, column)
            return pc.cast(pc.floor(column), target)
        try:
            return pc.cast(column, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise MappingError(
                f"column {self.columns[name]!r} ({column.type}) cannot be read "
                f"as {name} ({target}): {exc}"
            ) from None

    # -- time ------------------------------------------------------------------------------
    def _timestamps(self, batch: pa.Table, rows: I64) -> pa.Array:
        if "ts" in self.columns:
            column = batch.column(self.columns["ts"]).combine_chunks()
        else:
            date = batch.column(self.columns[DATE]).cast(pa.string())
            time = batch.column(self.columns[TIME]).cast(pa.string())
            column = pc.binary_join_element_wise(date, time, " ").combine_chunks()
        kind = column.type
        if pa.types.is_timestamp(kind):
            if kind.tz is not None:
                return column.cast(TS)
            return self._localize(column.cast(pa.timestamp("ns")), rows)
        if pa.types.is_date(kind):
            return column.cast(pa.date32()).cast(pa.timestamp("ns")).cast(TS)
        if pa.types.is_integer(kind):
            return _epoch(column)
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return self._parse(column.cast(pa.string()), rows)
        raise MappingError(f"timestamp column of type {kind} is not supported")

    def _parse(self, text: pa.Array, rows: I64) -> pa.Array:
        if self._ts_format is None:
            sample = next(
                (v.strip() for v in text.slice(0, 1000).to_pylist() if v and v.strip()), None
            )
            self._ts_format = self.time_format or _guess_format(sample)
        fmt = self._ts_format
        if fmt == "iso":
            try:  # the fast path: every value is well-formed ISO 8601
                return self._iso(text, rows)
            except pa.ArrowInvalid:
                text = pc.utf8_trim_whitespace(text)
                good = pc.fill_null(pc.match_substring_regex(text, _ISO), True)
                bad = ~good.to_numpy(zero_copy_only=False)
                result = self._iso(pc.if_else(good, text, None), rows)
        else:
            raw = pc.strptime(text, format=fmt, unit="ns", error_is_null=True)
            if raw.null_count > text.null_count:  # perhaps only blanks around the values
                text = pc.utf8_trim_whitespace(text)
                raw = pc.strptime(text, format=fmt, unit="ns", error_is_null=True)
            bad = raw.is_null().to_numpy(zero_copy_only=False) & text.is_valid().to_numpy(
                zero_copy_only=False
            )
            if any(code in fmt for code in ("%H", "%M")):
                result = self._localize(raw, rows)
            else:
                result = raw.cast(TS)  # a trade date: 00:00 UTC, no time zone shift
        if bad.any():
            values = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
            self.out.add_rows(
                "unreadable",
                bad,
                rows,
                column="ts",
                values=values,
                message=f"timestamp {{value!r}} does not match {fmt}",
            )
        return result

    def _iso(self, text: pa.Array, rows: I64) -> pa.Array:
        """ISO 8601 text: with an offset (``Z``, ``-05:00``) it is an instant, else local."""
        if self._ts_offset is None:
            sample = next((v for v in text.slice(0, 1000).to_pylist() if v), "")
            self._ts_offset = re.search(_OFFSET, sample.strip()) is not None
        if self._ts_offset:
            return text.cast(TS)
        return self._localize(text.cast(pa.timestamp("ns")), rows)

    def _localize(self, naive: pa.Array, rows: I64) -> pa.Array:
        if self.timezone == "UTC":
            return naive.cast(TS)
        early = pc.assume_timezone(
            naive, self.timezone, ambiguous="earliest", nonexistent="earliest"
        )
        late = pc.assume_timezone(naive, self.timezone, ambiguous="latest", nonexistent="latest")
        gap = late.cast(pa.int64()).to_numpy(zero_copy_only=False) - early.cast(
            pa.int64()
        ).to_numpy(zero_copy_only=False)
        if gap.any():
            local = naive.to_numpy(zero_copy_only=False)
            self.out.add_rows(
                "ts_nonexistent",
                gap == 1,
                rows,
                column="ts",
                values=local,
                message=f"local time {{value}} does not exist in {self.timezone} (skipped by "
                "the DST change): is the time zone right?",
            )
            self.out.add_rows(
                "ts_ambiguous",
                gap > 1,
                rows,
                column="ts",
                values=local,
                message=f"local time {{value}} occurs twice in {self.timezone} (DST ends); "
                "the first pass was taken as the earlier instant, rows after the clock went "
                "back as the later",
            )
            repeated = np.flatnonzero(gap > 1)
            if repeated.size:
                local_ns = pc.fill_null(naive.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
                late_ns = late.cast(pa.int64()).to_numpy(zero_copy_only=False)
                self._repeats = (repeated, local_ns[repeated], late_ns[repeated])
        return early.cast(TS)

    def _second_pass(self, ts: pa.Array, contracts: pa.DictionaryArray) -> pa.Array:
        """Rows in an hour that the end of DST repeats (01:00-01:59 twice in Chicago): in a
        file in time order the first pass is the earlier instant; once a row's local time is
        before an earlier row of its contract in that hour, the clock went back and it and
        the rest of the hour are the later instant. State carries across batches."""
        assert self._repeats is not None
        where, local, late = self._repeats
        self._repeats = None
        codes = pc.fill_null(contracts.indices.take(pa.array(where)), -1).to_numpy(
            zero_copy_only=False
        )
        names = [*contracts.dictionary.to_pylist(), ""]  # code -1: no contract
        day = local // _NS_PER_DAY
        keys = codes.astype(np.int64) * 1_000_000 + (day - day.min())
        order = np.argsort(keys, kind="stable")
        bounds = np.flatnonzero(np.diff(keys[order])) + 1
        second = np.zeros(where.size, dtype=bool)
        for group in np.split(order, bounds):  # one group per contract and repeated hour
            key = (names[int(codes[group[0]])], int(day[group[0]]))
            latest, went_back = self._repeat_state.get(key, (np.iinfo(np.int64).min, False))
            seen = np.maximum.accumulate(np.concatenate([[latest], local[group]]))
            back = np.logical_or.accumulate(np.concatenate([[went_back], local[group] < seen[:-1]]))
            second[group] = back[1:]
            self._repeat_state[key] = (int(seen[-1]), bool(back[-1]))
        values = pc.fill_null(ts.cast(pa.int64()), 0).to_numpy(zero_copy_only=False).copy()
        values[where[second]] = late[second]
        return pa.array(values, pa.int64(), mask=ts.is_null().to_numpy(zero_copy_only=False)).cast(
            TS
        )

    # -- contracts -------------------------------------------------------------------------
    def _contracts(self, batch: pa.Table, ts: pa.Array, rows: I64) -> pa.DictionaryArray:
        """Long symbols, dictionary-encoded so that later grouping by contract needs no
        hashing of strings; rows whose symbol cannot be resolved are null."""
        if self.contract is not None:
            zeros = pa.array(np.zeros(batch.num_rows, dtype=np.int32))
            return pa.DictionaryArray.from_arrays(zeros, pa.array([self.contract]))
        if "contract" not in self.columns:
            raise MappingError("no contract: give --contract (e.g. ESZ24) or a symbol column")
        column = batch.column(self.columns["contract"]).cast(pa.string()).combine_chunks()
        encoded = pc.dictionary_encode(column)
        codes = small_codes(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False))
        self.out.add_rows(
            "contract_missing",
            codes < 0,
            rows,
            column=self.columns["contract"],
            values=None,
            message="contract symbol is missing",
        )
        # Each distinct symbol is parsed once per year it appears in (the year anchors one-
        # and two-digit symbol years); when its first and last year give the same contract,
        # as they almost always do, that one answer serves all its rows.
        latest = pc.max(ts).cast(pa.int64()).as_py() or 0
        stamps = ts.cast(pa.int64()).fill_null(latest).to_numpy(zero_copy_only=False)
        order = np.argsort(codes, kind="stable")
        starts = np.concatenate([[0], np.flatnonzero(np.diff(codes[order])) + 1]).astype(np.intp)
        low = _years(np.minimum.reduceat(stamps[order], starts))
        high = _years(np.maximum.reduceat(stamps[order], starts))
        names = encoded.dictionary.to_pylist()
        resolved: list[str | None] = [None] * len(names)
        per_row: dict[int, tuple[I64, I64, dict[int, str | None]]] = {}
        for at, first, last in zip(order[starts].tolist(), low, high, strict=True):
            code = int(codes[at])
            if code < 0:
                continue
            symbol = names[code].strip().upper()
            resolved[code] = self._resolve(symbol, first, int(rows[at]))
            if last != first and self._resolve(symbol, last, int(rows[at])) != resolved[code]:
                mine = np.flatnonzero(codes == code)
                years = np.asarray(_years(stamps[mine]), dtype=np.int64)
                per_row[code] = (
                    mine,
                    years,
                    {y: self._resolve(symbol, y, int(rows[at])) for y in np.unique(years).tolist()},
                )
        longs = sorted(
            {r for r in resolved if r is not None}
            | {r for _, _, by in per_row.values() for r in by.values() if r}
        )
        index = {name: i for i, name in enumerate(longs)}
        lookup = np.array([index.get(r, -1) if r else -1 for r in resolved] + [-1], np.int32)
        out = lookup[codes]  # code -1 (missing) picks the trailing -1
        for mine, years, by_year in per_row.values():
            known = np.array(sorted(by_year), dtype=np.int64)
            ids = np.array([index.get(by_year[y] or "", -1) for y in known.tolist()], np.int32)
            out[mine] = ids[np.searchsorted(known, years)]
        return pa.DictionaryArray.from_arrays(
            pa.array(out, mask=out < 0), pa.array(longs, pa.string())
        )

    def _resolve(self, symbol: str, year: int, row: int) -> str | None:
        key = (symbol, year)
        if key in self._symbols:
            return self._symbols[key]
        text = symbol
        if self.symbol_prefix and not text.startswith(self.symbol_prefix):
            text = self.symbol_prefix + text
        long_symbol: str | None = None
        try:
            if self.spec_given and self.spec is not None:
                contract = parse_symbol(text, reference_year=year or None)
            else:
                contract = self.registry.parse(text, reference_year=year or None)
        except (KeyError, ValueError) as exc:
            self.out.add(
                "contract_unknown",
                f"symbol {symbol!r}: {str(exc).strip(chr(39))}",
                row=row,
                column=self.columns["contract"],
                value=symbol,
            )
        else:
            if self.root is None:
                self.root = contract.root
                self.spec = self.registry.spec(contract.root)
            if contract.root != self.root:
                self.out.add(
                    "contract_other_root",
                    f"symbol {symbol!r} is a {contract.root} contract but this file is "
                    f"{self.root} (a dataset holds one market)",
                    row=row,
                    column=self.columns["contract"],
                    value=symbol,
                )
            else:
                long_symbol = contract.long_symbol
        self._symbols[key] = long_symbol
        return long_symbol


def _years(ns: I64) -> list[int]:
    """Calendar years (UTC) of nanosecond timestamps."""
    years = ns.astype("datetime64[ns]").astype("datetime64[Y]").astype(np.int64) + 1970
    return [int(y) for y in years]


def _guess_format(sample: str | None) -> str:
    if sample is None:
        return "iso"
    for pattern, fmt in _DATE_FORMATS:
        if re.match(pattern, sample):
            return fmt
    if re.match(_ISO, sample):
        return "iso"
    for pattern, fmt in _TIME_FORMATS:
        if re.match(pattern, sample):
            return fmt
    raise MappingError(
        f"timestamp {sample!r}: unknown format; give --time-format "
        "(strptime codes, e.g. '%d.%m.%Y %H:%M')"
    )


def _epoch(column: pa.Array) -> pa.Array:
    values = column.cast(pa.int64())
    magnitude = pc.max(pc.abs(values)).as_py() or 0
    # Seconds, ms, us or ns since 1970: each unit puts dates of 1970-2200 in its own range.
    scale = (
        1_000_000_000
        if magnitude < 1e11
        else 1_000_000
        if magnitude < 1e14
        else (1_000 if magnitude < 1e17 else 1)
    )
    return pc.multiply(values, scale).cast(TS)
