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
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from contango.research.trials import TrialKey, TrialLog, TrialRecord
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
    log = TrialLog.from_json(path.read_text(encoding="utf-8"))
    if log.key != key:
        raise ValueError(f"{path} holds the trials of {log.key}, not {key}")
    return log


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
        _replace(path, log.to_json())
    return log


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".trials-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
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
) -> list[TrialRecord]:
    """One record per parameter set of ``sets`` (with its id), in order."""
    if not len(ids) == len(sets.values) == sharpe.size == per_bar.size:
        raise ValueError(
            f"{sharpe.size} trials were run for {len(sets.values)} parameter sets "
            f"({len(ids)} ids, {per_bar.size} per-bar Sharpe ratios)"
        )
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return [
        TrialRecord(
            trial_id=identity,
            params=values,
            sharpe=float(annual),
            sharpe_per_bar=float(bar_sharpe),
            n_obs=n_obs,
            sweep_id=sweep_id,
            recorded_at=now,
        )
        for values, identity, annual, bar_sharpe in zip(
            sets.values, ids, sharpe.tolist(), per_bar.tolist(), strict=True
        )
    ]


def config_id(config: ResearchConfig) -> str:
    """A short name of the configuration the trials were recorded by."""
    text = json.dumps(config.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
