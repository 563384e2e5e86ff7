"""The trial registry: every parameter set ever backtested, per strategy, markets and data.

The Deflated Sharpe Ratio must count every trial behind a choice, not just the last sweep's;
a researcher who ran 400 sets last week and 50 today has made 450 trials. So each sweep records
its trials under a :class:`TrialKey` (strategy name + markets + data versions) and the DSR
takes ``N`` and the variance of the Sharpe ratios from the whole log.

A trial's identity is the hash of its parameters, period and simulation settings: re-running
the very same backtest adds no information and is not counted again, while the same
parameters over another period or with other costs are a new trial.

This module is pure (records in, records out, JSON text); where the log lives on disk is
``contango.services.trials``'s business.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from operator import attrgetter
from typing import Any, overload

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
LOG_FORMAT = 2  # columns; format 1 (no "format" field) held one object per trial
_FIELDS = ("trial_id", "params", "sharpe", "sharpe_per_bar", "n_obs", "sweep_id", "recorded_at")


# One encoder, configured once: ``json.dumps`` with these options builds a new encoder per
# call, which is most of the cost of canonicalising thousands of small parameter sets.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def canonical_json(payload: Any) -> str:
    """The canonical JSON text of ``payload`` (sorted keys, no spaces) that ids hash."""
    return _ENCODER.encode(payload)


_canonical = canonical_json

# ``json.dumps`` with its defaults, as the log's file is written: to write a part of the file
# (one parameter set's object) exactly as dumping the whole log would.
_FILE_ENCODER = json.JSONEncoder()


def canonical_item(name: str, value: Any) -> str:
    """``"name":value`` as :func:`canonical_json` writes it in a flat object."""
    return _ENCODER.encode(name) + ":" + _ENCODER.encode(value)


def file_item(name: str, value: Any) -> str:
    """``"name": value`` as ``json.dumps`` writes it in an object (the log's file)."""
    return _FILE_ENCODER.encode(name) + ": " + _FILE_ENCODER.encode(value)


def canonical_texts(payloads: Sequence[Mapping[str, Any]]) -> list[str]:
    """:func:`canonical_json` of each of ``payloads`` (flat mappings, as a sweep's parameter
    sets), character for character, built column by column.

    With no indent a JSON value's text does not depend on where it sits, so a flat object's
    canonical text is ``{`` + its ``"key":value`` fragments in key order, joined by ``,`` +
    ``}``. A sweep repeats each grid value hundreds of times: each fragment of a scalar is
    encoded once per column and reused (keyed by type too: ``1``, ``1.0`` and ``True`` are
    equal keys of a dict; and by the sign of a zero). Payloads whose keys differ from the
    first one's are encoded whole.
    """
    if not payloads:
        return []
    names = sorted(payloads[0])
    if not all(type(name) is str for name in names):
        return [canonical_json(dict(p)) for p in payloads]
    same = [p.keys() == payloads[0].keys() for p in payloads]
    columns = [
        _fragments(name, [p[name] if s else None for p, s in zip(payloads, same, strict=True)])
        for name in names
    ]
    rows = zip(*columns, strict=True) if columns else [()] * len(payloads)
    return [
        "{" + ",".join(parts) + "}" if s else canonical_json(dict(p))
        for p, s, parts in zip(payloads, same, rows, strict=True)
    ]


def _fragments(name: str, values: list[Any]) -> list[str]:
    """The ``"name":value`` text of each value, each distinct scalar encoded once."""
    head = _ENCODER.encode(name) + ":"
    done: dict[tuple[Any, Any], str] = {}
    out = []
    for value in values:
        kind = type(value)
        if kind is float:  # NaN is never found again; 0.0 and -0.0 are equal keys
            if math.isnan(value):
                key = None
            else:
                key = (kind, value) if value else ("zero", math.copysign(1.0, value))
        else:
            key = (kind, value) if kind in _CACHED else None
        text = done.get(key) if key is not None else None
        if text is None:
            text = head + _ENCODER.encode(value)
            if key is not None:
                done[key] = text
        out.append(text)
    return out


_CACHED = frozenset({int, str, bool, type(None)})


def _digest(payload: Any) -> str:
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True, kw_only=True)
class TrialKey:
    """What trials are comparable: one strategy on the same markets and the same data."""

    strategy: str
    markets: tuple[str, ...]
    data_versions: tuple[tuple[str, str], ...]  # (dataset, version), sorted

    @classmethod
    def of(
        cls, strategy: str, markets: Iterable[str], data_versions: Mapping[str, str]
    ) -> TrialKey:
        """A key with its parts in canonical order."""
        return cls(
            strategy=strategy,
            markets=tuple(sorted(markets)),
            data_versions=tuple(sorted(data_versions.items())),
        )

    @property
    def key_id(self) -> str:
        """A short stable name for the key (a file name, a database key)."""
        return _digest(asdict(self))[:20]


def trial_id(params: Mapping[str, Any], context: Mapping[str, Any]) -> str:
    """The identity of one backtest: its parameters and what else shaped it (period,
    simulation settings)."""
    return _digest({"params": dict(params), "context": dict(context)})


def trial_ids(params: Iterable[Mapping[str, Any]], context: Mapping[str, Any]) -> list[str]:
    """:func:`trial_id` of each parameter set in the same ``context``, which is written out
    once: with sorted keys the hashed text is ``{"context":...,"params":...}``, so only the
    parameters and one hash remain per trial."""
    return trial_ids_of_texts((canonical_json(dict(p)) for p in params), context)


def trial_ids_of_texts(texts: Iterable[str], context: Mapping[str, Any]) -> list[str]:
    """:func:`trial_ids` of parameter sets given as their :func:`canonical_json` texts (a
    sweep has them already: they are how it finds duplicate sets)."""
    head = '{"context":' + canonical_json(dict(context)) + ',"params":'
    # The context is most of the hashed text: hash it once and resume from a copy per trial.
    resume = hashlib.sha256(head.encode("utf-8")).copy
    ids: list[str] = []
    add = ids.append
    for text in texts:
        digest = resume()
        digest.update(text.encode("utf-8"))
        digest.update(b"}")
        add(digest.hexdigest())
    return ids


@dataclass(frozen=True, kw_only=True)
class TrialRecord:
    """One backtest in the log: per-bar and annualised Sharpe, bars it spans, its sweep."""

    trial_id: str
    params: dict[str, Any]
    sharpe: float  # annualised
    sharpe_per_bar: float
    n_obs: int
    sweep_id: str
    recorded_at: str  # ISO 8601 UTC


@dataclass(frozen=True, kw_only=True)
class TrialColumns(Sequence[TrialRecord]):
    """Trials as one tuple per field of :class:`TrialRecord` (trial ``i`` is entry ``i`` of
    each): what a sweep records and what a log holds. Thousands of trials are then seven
    tuples to join, check and write, not thousands of objects to build and take apart
    again; indexing or iterating still gives :class:`TrialRecord` objects."""

    trial_id: tuple[str, ...] = ()
    params: tuple[dict[str, Any], ...] = ()
    sharpe: tuple[float, ...] = ()  # annualised
    sharpe_per_bar: tuple[float, ...] = ()
    n_obs: tuple[int, ...] = ()
    sweep_id: tuple[str, ...] = ()
    recorded_at: tuple[str, ...] = ()
    # ``json.dumps`` of each of ``params`` when known (a sweep's parameter sets come with
    # theirs), so writing the log does not encode them again; not part of the trials.
    params_json: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        sizes = {len(getattr(self, name)) for name in _FIELDS}
        if self.params_json is not None:
            sizes.add(len(self.params_json))
        if len(sizes) > 1:
            raise ValueError(f"trial columns of different lengths {sorted(sizes)}")

    @classmethod
    def of_records(cls, records: Iterable[TrialRecord]) -> TrialColumns:
        """The columns of ``records``, in order."""
        rows = tuple(records)
        return cls(**{name: tuple(map(attrgetter(name), rows)) for name in _FIELDS})

    def __len__(self) -> int:
        return len(self.trial_id)

    @overload
    def __getitem__(self, index: int) -> TrialRecord: ...

    @overload
    def __getitem__(self, index: slice) -> TrialColumns: ...

    def __getitem__(self, index: int | slice) -> TrialRecord | TrialColumns:
        if isinstance(index, slice):
            return self.take(range(len(self))[index])
        return TrialRecord(**{name: getattr(self, name)[index] for name in _FIELDS})

    def __iter__(self) -> Iterator[TrialRecord]:
        columns = (getattr(self, name) for name in _FIELDS)
        for identity, params, sharpe, per_bar, n_obs, sweep, at in zip(*columns, strict=True):
            yield TrialRecord(
                trial_id=identity,
                params=params,
                sharpe=sharpe,
                sharpe_per_bar=per_bar,
                n_obs=n_obs,
                sweep_id=sweep,
                recorded_at=at,
            )

    def take(self, rows: Sequence[int]) -> TrialColumns:
        """The trials at ``rows``, in that order."""
        texts = self.params_json
        return TrialColumns(
            **{name: tuple(getattr(self, name)[i] for i in rows) for name in _FIELDS},
            params_json=None if texts is None else tuple(texts[i] for i in rows),
        )

    def joined(self, later: TrialColumns) -> TrialColumns:
        """These trials, then ``later``'s."""
        texts = [() if not c.trial_id else c.params_json for c in (self, later)]
        return TrialColumns(
            **{name: getattr(self, name) + getattr(later, name) for name in _FIELDS},
            params_json=None if texts[0] is None or texts[1] is None else texts[0] + texts[1],
        )


@dataclass(frozen=True, kw_only=True, init=False)
class TrialLog:
    """Every distinct trial recorded under one key, in recording order."""

    key: TrialKey
    trials: TrialColumns

    def __init__(
        self,
        *,
        key: TrialKey,
        trials: TrialColumns | None = None,
        records: Iterable[TrialRecord] | None = None,
    ) -> None:
        """A log of ``trials``, or of ``records`` (one object per trial)."""
        if trials is not None and records is not None:
            raise TypeError("give the trials as columns or as records, not both")
        columns = trials if trials is not None else TrialColumns.of_records(records or ())
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "trials", columns)

    @cached_property
    def records(self) -> tuple[TrialRecord, ...]:
        """One :class:`TrialRecord` per trial (built when first asked for)."""
        return tuple(self.trials)

    @property
    def n_trials(self) -> int:
        """The number of distinct trials: the ``N`` of the Deflated Sharpe Ratio."""
        return len(self.trials)

    def sharpes_per_bar(self) -> F64:
        """Every trial's per-bar Sharpe (NaN for a trial whose returns had no dispersion)."""
        return np.array(self.trials.sharpe_per_bar, dtype=np.float64)

    def with_trials(self, new: Iterable[TrialRecord]) -> TrialLog:
        """The log with ``new`` (records, or :class:`TrialColumns`) added; trials already
        recorded (same id) are kept once."""
        batch = new if isinstance(new, TrialColumns) else TrialColumns.of_records(new)
        seen = set(self.trials.trial_id)
        before = len(seen)
        seen.update(batch.trial_id)
        if len(seen) == before:
            return self
        if len(seen) - before < len(batch):  # some recorded already, or twice in ``new``
            seen = set(self.trials.trial_id)
            rows = []
            for row, identity in enumerate(batch.trial_id):
                if identity not in seen:
                    seen.add(identity)
                    rows.append(row)
            batch = batch.take(rows)
        return TrialLog(key=self.key, trials=self.trials.joined(batch))

    def to_json(self) -> str:
        """The log as JSON text, one list per field (NaN Sharpe ratios as null): the text of
        ``json.dumps({"format": ..., "key": ..., "trials": {field: [...], ...}})``.

        Columns rather than one object per trial: no field names repeated per trial, and
        each column is one call of the standard library's C encoder (an indented dump goes
        through its pure-Python encoder); the parameter sets' own texts are used when the
        trials came with them, since encoding thousands of small objects is most of it.
        """
        t = self.trials
        key = {
            "strategy": self.key.strategy,
            "markets": list(self.key.markets),
            "data_versions": [list(d) for d in self.key.data_versions],
        }
        params = _dumps(t.params) if t.params_json is None else f"[{', '.join(t.params_json)}]"
        columns = {
            "trial_id": _dumps_texts(t.trial_id),
            "params": params,
            "sharpe": _dumps(_finite_column(t.sharpe)),
            "sharpe_per_bar": _dumps(_finite_column(t.sharpe_per_bar)),
            "n_obs": _dumps(t.n_obs),
            "sweep_id": _dumps_texts(t.sweep_id),
            "recorded_at": _dumps_texts(t.recorded_at),
        }
        body = ", ".join(f"{_dumps(name)}: {text}" for name, text in columns.items())
        return f'{{"format": {_dumps(LOG_FORMAT)}, "key": {_dumps(key)}, "trials": {{{body}}}}}'

    @classmethod
    def from_json(cls, text: str) -> TrialLog:
        """Read :meth:`to_json`'s output back, or a log written before the columns (a list
        of ``records``, one object per trial)."""
        payload = json.loads(text)
        if payload.get("format", 1) > LOG_FORMAT:
            raise ValueError(f"trial log format {payload['format']} is newer than {LOG_FORMAT}")
        raw_key = payload["key"]
        key = TrialKey(
            strategy=raw_key["strategy"],
            markets=tuple(raw_key["markets"]),
            data_versions=tuple((d, v) for d, v in raw_key["data_versions"]),
        )
        c = payload.get("trials")
        if c is None:  # format 1: one object per trial
            c = {name: [r[name] for r in payload["records"]] for name in _FIELDS}
        trials = TrialColumns(
            trial_id=tuple(c["trial_id"]),
            params=tuple(c["params"]),
            sharpe=_float_column(c["sharpe"]),
            sharpe_per_bar=_float_column(c["sharpe_per_bar"]),
            n_obs=tuple(c["n_obs"]),
            sweep_id=tuple(c["sweep_id"]),
            recorded_at=tuple(c["recorded_at"]),
        )
        return cls(key=key, trials=trials)


_dumps = _FILE_ENCODER.encode


def _dumps_texts(texts: tuple[str, ...]) -> str:
    """``json.dumps`` of a list of strings; joined as they are when none needs escaping
    (ids, dates: printable ASCII but quote and backslash, which the encoder copies)."""
    try:
        joined = '", "'.join(texts)
        plain = not joined.encode("ascii").translate(None, _COPIED)
    except (TypeError, UnicodeEncodeError):  # not all strings, or not all ASCII
        plain = False
    if texts and plain and joined.count('"') == 2 * len(texts) - 2:
        return f'["{joined}"]'
    return _dumps(texts)


# What JSON's encoder copies into a string as it is (the rest it escapes), and the separator.
_COPIED = bytes(c for c in range(32, 127) if chr(c) not in '"\\') + b'"'


def all_finite(values: Sequence[float]) -> bool:
    """Whether no value is NaN or infinite: one sum, since either makes the sum so too
    (an overflowing sum of finite values is looked at value by value)."""
    try:
        if math.isfinite(sum(values)):
            return True
    except OverflowError:
        pass
    return all(map(math.isfinite, values))


def _finite_column(values: tuple[float, ...]) -> Sequence[float | None]:
    return values if all_finite(values) else [v if math.isfinite(v) else None for v in values]


def _float_column(values: list[float | None]) -> tuple[float, ...]:
    if set(map(type, values)) <= {float}:  # no null, no integer: nothing to convert
        return tuple(values)  # type: ignore[arg-type]
    return tuple(math.nan if v is None else float(v) for v in values)
