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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

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
    return [hashlib.sha256((head + text + "}").encode("utf-8")).hexdigest() for text in texts]


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
class TrialLog:
    """Every distinct trial recorded under one key, in recording order."""

    key: TrialKey
    records: tuple[TrialRecord, ...] = field(default=())

    @property
    def n_trials(self) -> int:
        """The number of distinct trials: the ``N`` of the Deflated Sharpe Ratio."""
        return len(self.records)

    def sharpes_per_bar(self) -> F64:
        """Every trial's per-bar Sharpe (NaN for a trial whose returns had no dispersion)."""
        return np.array([r.sharpe_per_bar for r in self.records], dtype=np.float64)

    def with_trials(self, new: Iterable[TrialRecord]) -> TrialLog:
        """The log with ``new`` added; trials already recorded (same id) are kept once."""
        seen = {r.trial_id for r in self.records}
        added: list[TrialRecord] = []
        for record in new:
            if record.trial_id not in seen:
                seen.add(record.trial_id)
                added.append(record)
        if not added:
            return self
        return TrialLog(key=self.key, records=self.records + tuple(added))

    def to_json(self) -> str:
        """The log as JSON text, one list per field (NaN Sharpe ratios as null).

        Columns rather than one object per trial: no field names repeated per trial, and
        NumPy-free lists that the standard library's C encoder writes in a few milliseconds
        for thousands of trials (an indented dump goes through its pure-Python encoder).
        """
        r = self.records
        columns: dict[str, list[Any]] = {
            "trial_id": [x.trial_id for x in r],
            "params": [x.params for x in r],
            "sharpe": [_finite(x.sharpe) for x in r],
            "sharpe_per_bar": [_finite(x.sharpe_per_bar) for x in r],
            "n_obs": [x.n_obs for x in r],
            "sweep_id": [x.sweep_id for x in r],
            "recorded_at": [x.recorded_at for x in r],
        }
        key = {
            "strategy": self.key.strategy,
            "markets": list(self.key.markets),
            "data_versions": [list(d) for d in self.key.data_versions],
        }
        return json.dumps({"format": LOG_FORMAT, "key": key, "trials": columns})

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
        records = tuple(
            TrialRecord(
                trial_id=tid,
                params=params,
                sharpe=_nan(sharpe),
                sharpe_per_bar=_nan(per_bar),
                n_obs=n_obs,
                sweep_id=sweep,
                recorded_at=at,
            )
            for tid, params, sharpe, per_bar, n_obs, sweep, at in zip(
                c["trial_id"],
                c["params"],
                c["sharpe"],
                c["sharpe_per_bar"],
                c["n_obs"],
                c["sweep_id"],
                c["recorded_at"],
                strict=True,
            )
        )
        return cls(key=key, records=records)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)
