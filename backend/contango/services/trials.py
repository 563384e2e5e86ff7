"""Where the trial registry lives: one JSON file per :class:`TrialKey` under
``<data_dir>/research/trials/``.

Writes replace the file atomically (write a temporary file, then rename), so a reader never
sees half a log. A writer holds an exclusive lock on ``<log>.lock`` from reading the log to
renaming the new one into place, so two sweeps recording the same key at once both land:
the second reads the first one's trials and adds its own, instead of overwriting them.

The records themselves (a trial's id context, one record per parameter set) are built here
too, for sweeps and walk-forward windows alike.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from contango.research.trials import TrialColumns, TrialKey, TrialLog, TrialRecord, all_finite
from contango.settings import get_settings

if TYPE_CHECKING:  # annotations only: recording trials needs no sweep machinery loaded
    from contango.research.config import ResearchConfig
    from contango.research.sweep import ParamSets

F64 = npt.NDArray[np.float64]


def trials_folder() -> Path:
    """The registry's folder in the configured data directory."""
    return get_settings().data_dir / "research" / "trials"


def _path(key: TrialKey, folder: Path | None) -> Path:
    return (folder or trials_folder()) / f"{key.strategy}-{key.key_id}.json"


def load_trial_log(key: TrialKey, folder: Path | None = None) -> TrialLog:
    """The trials recorded under ``key`` (an empty log if none yet)."""
    path = _path(key, folder)
    if not path.is_file():
        return TrialLog(key=key)
    data = path.read_bytes()
    known = _KNOWN.get(path)
    if known is not None and known[0] == data:
        log = known[1]
    else:
        log = TrialLog.from_json(data.decode("utf-8"))
        _remember(path, data, log)
    if log.key != key:
        raise ValueError(f"{path} holds the trials of {log.key}, not {key}")
    return log


# The logs this process last read or wrote, with the file's bytes then. A log is a function
# of its file's bytes, so when the file still holds exactly those bytes (compared in full,
# much cheaper than parsing them) the log is the one parsed before: a sweep re-run, or one
# recording after another, does not parse thousands of trials again. Any other content is
# parsed as usual, so what is returned never depends on what this process did before.
_KNOWN: dict[Path, tuple[bytes, TrialLog]] = {}
_KNOWN_LOGS = 8
_KNOWN_LOCK = threading.Lock()


def _remember(path: Path, data: bytes, log: TrialLog) -> None:
    with _KNOWN_LOCK:
        _KNOWN.pop(path, None)
        _KNOWN[path] = (data, log)
        while len(_KNOWN) > _KNOWN_LOGS:
            del _KNOWN[next(iter(_KNOWN))]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold the exclusive lock of the log at ``path`` (released when the block ends, or by
    the operating system if the process dies)."""
    with path.with_name(path.name + ".lock").open("a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def record_trials(
    key: TrialKey, records: Iterable[TrialRecord], folder: Path | None = None
) -> TrialLog:
    """Add ``records`` to the log of ``key`` and save it; returns the updated log.

    A re-run that adds no new trial leaves the file untouched. A log of the earlier
    one-object-per-trial format is read and rewritten in columns when trials are added.
    """
    path = _path(key, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        before = load_trial_log(key, folder)
        log = before.with_trials(records)
        if log is before and path.is_file():
            return log
        data = log.to_json().encode("utf-8")
        _replace(path, data)
        read_back = _as_read(log)
        if read_back is not None:
            _remember(path, data, read_back)
    return log


def _as_read(log: TrialLog) -> TrialLog | None:
    """``log`` as reading its file back would give it, or ``None`` when that cannot be told
    without parsing the file: non-finite Sharpe ratios come back as NaN, numbers as floats,
    and parameter sets are known to come back equal only when they came with their JSON
    texts (flat objects of JSON scalars, as a sweep's sets are)."""
    t = log.trials
    exact = ((t.trial_id, str), (t.sweep_id, str), (t.recorded_at, str), (t.n_obs, int))
    if t.params_json is None or any(set(map(type, c)) - {kind} for c, kind in exact):
        return None
    sharpe, per_bar = _as_read_floats(t.sharpe), _as_read_floats(t.sharpe_per_bar)
    if sharpe is t.sharpe and per_bar is t.sharpe_per_bar:
        return log
    return TrialLog(key=log.key, trials=replace(t, sharpe=sharpe, sharpe_per_bar=per_bar))


def _as_read_floats(values: tuple[float, ...]) -> tuple[float, ...]:
    if set(map(type, values)) <= {float} and all_finite(values):
        return values
    return tuple(float(v) if math.isfinite(v) else math.nan for v in values)


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".trials-", suffix=".json")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def trial_context(config: ResearchConfig, start: str, end: str) -> dict[str, Any]:
    """What shapes a trial besides its parameters (hashed into its id): period, markets,
    simulation settings."""
    return {
        "start": start,
        "end": end,
        "markets": [m.model_dump(mode="json") for m in config.backtest.markets],
        "simulation": config.backtest.simulation.model_dump(mode="json"),
    }


def trial_records(
    sets: ParamSets, ids: list[str], sharpe: F64, per_bar: F64, *, n_obs: int, sweep_id: str
) -> TrialColumns:
    """The trials of the parameter sets of ``sets`` (with their ids), in order, as columns
    (a sequence of :class:`TrialRecord`; :func:`record_trials` takes them as they are)."""
    if not len(ids) == len(sets.values) == sharpe.size == per_bar.size:
        raise ValueError(
            f"{sharpe.size} trials were run for {len(sets.values)} parameter sets "
            f"({len(ids)} ids, {per_bar.size} per-bar Sharpe ratios)"
        )
    now = datetime.now(UTC).isoformat(timespec="seconds")
    k = len(ids)
    return TrialColumns(
        trial_id=tuple(ids),
        params=tuple(sets.values),
        sharpe=tuple(np.asarray(sharpe, dtype=np.float64).ravel().tolist()),
        sharpe_per_bar=tuple(np.asarray(per_bar, dtype=np.float64).ravel().tolist()),
        n_obs=(n_obs,) * k,
        sweep_id=(sweep_id,) * k,
        recorded_at=(now,) * k,
        params_json=tuple(sets.value_texts) if len(sets.value_texts) == k else None,
    )


def config_id(config: ResearchConfig) -> str:
    """A short name of the configuration the trials were recorded by."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
