"""The sandboxed process that runs custom strategy code: ``python -m
contango.workers.sandbox.child <folder> <cpu_seconds> <memory_mb>``.

It reads ``bars.npz``, ``meta.json`` and ``strategy.py`` from ``folder``, confines itself
(:mod:`contango.workers.sandbox.confine`), runs the code and writes ``targets.npy`` or
``error.json`` ({"reason", "message", "traceback", "bar", "ts"}) back into the folder, the only
place it may write. Nothing of the worker (database, settings, keys) is imported here.
"""

from __future__ import annotations

import encodings.idna  # noqa: F401 - socket errors need it after the confinement
import errno
import json
import sys
import traceback
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from contango.workers.sandbox.confine import ConfinementError, confine

SERIES = ("open", "high", "low", "close", "volume")


def _bars(folder: Path) -> tuple[SimpleNamespace, dict[str, Any]]:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    with np.load(folder / "bars.npz") as data:
        arrays = {name: data[name] for name in ("ts", *SERIES)}
    for array in arrays.values():
        array.setflags(write=False)
    return SimpleNamespace(markets=tuple(meta["markets"]), **arrays), meta["params"]


def _history(bars: SimpleNamespace, end: int) -> SimpleNamespace:
    """Bars 0..end only: an ``on_bar`` strategy cannot look ahead."""
    views = {name: getattr(bars, name)[: end + 1] for name in ("ts", *SERIES)}
    return SimpleNamespace(markets=bars.markets, **views)


def _run(namespace: dict[str, Any], bars: SimpleNamespace, params: dict[str, Any]) -> Any:
    """Call ``targets`` once, or ``on_bar`` bar by bar (then a failure names its bar)."""
    if callable(namespace.get("targets")):
        return namespace["targets"](bars, params)
    on_bar = namespace.get("on_bar")
    if not callable(on_bar):
        raise _RefusedError("the code defines neither targets(bars, params) nor on_bar(...)")
    n, m = bars.close.shape
    out = np.full((n, m), np.nan)
    state: dict[str, Any] = {}
    for i in range(n):
        try:
            out[i] = on_bar(i, _history(bars, i), params, state)
        except Exception as error:
            error.bar = i  # type: ignore[attr-defined]
            raise
    return out


class _RefusedError(Exception):
    """The code does not follow the interface."""


def _reason(error: BaseException) -> str:
    if isinstance(error, MemoryError):
        return "memory"
    if isinstance(error, OSError) and error.errno in {errno.ENETUNREACH, errno.EACCES,
                                                      errno.EPERM, errno.ECONNREFUSED}:  # fmt: skip
        return "forbidden"
    if isinstance(error, _RefusedError):
        return "interface"
    return "exception"


def _report(folder: Path, error: BaseException, bars: SimpleNamespace | None) -> None:
    bar = getattr(error, "bar", None)
    ts = int(bars.ts[bar]) if bars is not None and bar is not None else None
    detail = {
        "reason": _reason(error),
        "message": f"{type(error).__name__}: {error}",
        "traceback": "".join(traceback.format_exception(error)),
        "bar": bar,
        "ts": ts,
    }
    (folder / "error.json").write_text(json.dumps(detail), encoding="utf-8")


def main(argv: list[str]) -> int:
    """Confine, run, report; exit 0 when a result or an error report was written."""
    folder, cpu_seconds, memory_mb = Path(argv[0]), int(argv[1]), int(argv[2])
    code = (folder / "strategy.py").read_text(encoding="utf-8")
    bars, params = _bars(folder)
    try:
        confine(folder, cpu_seconds, memory_mb)
    except (ConfinementError, OSError) as error:
        print(f"sandbox unavailable: {error}", file=sys.stderr)
        return 3
    try:
        namespace: dict[str, Any] = {"__name__": "strategy", "np": np}
        exec(compile(code, "strategy.py", "exec"), namespace)  # noqa: S102 - confined above
        targets = np.asarray(_run(namespace, bars, params), dtype=np.float64)
        np.save(folder / "targets.npy", targets)
    except BaseException as error:
        _report(folder, error, bars)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
