"""Where the trial registry lives: one JSON file per :class:`TrialKey` under
``<data_dir>/research/trials/``.

Writes replace the file atomically (write a temporary file, then rename), so a reader never
sees half a log; two sweeps recording the same key at the same instant would still race (the
later write wins), which a database-backed registry will settle.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from contango.research.trials import TrialKey, TrialLog, TrialRecord
from contango.settings import get_settings


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


def record_trials(
    key: TrialKey, records: Iterable[TrialRecord], folder: Path | None = None
) -> TrialLog:
    """Add ``records`` to the log of ``key`` and save it; returns the updated log.

    A re-run that adds no new trial leaves the file untouched. A log of the earlier
    one-object-per-trial format is read and rewritten in columns when trials are added.
    """
    path = _path(key, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    before = load_trial_log(key, folder)
    log = before.with_trials(records)
    if log is before and path.is_file():
        return log
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".trials-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(log.to_json())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return log
