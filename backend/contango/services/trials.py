"""Where the trial registry lives: one JSON file per :class:`TrialKey` under
``<data_dir>/research/trials/``.

Writes replace the file atomically (write a temporary file, then rename), so a reader never
sees half a log. A writer holds an exclusive lock on ``<log>.lock`` from reading the log to
renaming the new one into place, so two sweeps recording the same key at once both land:
the second reads the first one's trials and adds its own, instead of overwriting them.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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
