"""The worker's side of the sandbox: hand the bars to a confined child, read its targets.

The child (:mod:`contango.workers.sandbox.child`) is a fresh interpreter, not a fork of the
worker, so it inherits no database connection, key or open file of the worker.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from contango.engine.bars import Bars
from contango.services.job_execution import CustomTargets, JobCancelledError, JobFailedError
from contango.settings import Settings

F64 = npt.NDArray[np.float64]
POLL_SECONDS = 0.1


@dataclass(frozen=True, kw_only=True)
class SandboxLimits:
    """Per-run limits: CPU seconds (RLIMIT_CPU), address space in MiB (RLIMIT_AS), and the
    wall-clock time after which a process that sleeps instead of computing is killed."""

    cpu_seconds: int
    memory_mb: int

    @property
    def wall_seconds(self) -> float:
        """Twice the CPU time plus start-up: a run blocked on nothing cannot hold a worker."""
        return 2.0 * self.cpu_seconds + 10.0


def _prepare(folder: Path, code: str, bars: Bars, params: dict[str, Any]) -> None:
    series = {name: getattr(bars, name) for name in ("open", "high", "low", "close", "volume")}
    np.savez(folder / "bars.npz", ts=bars.ts, **series)
    meta = {"markets": list(bars.markets), "params": params}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    (folder / "strategy.py").write_text(code, encoding="utf-8")


def _wait(child: subprocess.Popen[bytes], limits: SandboxLimits, stop: threading.Event) -> str:
    """Wait for the child; 'done', 'cancelled' or 'wall' (killed for either of the last two)."""
    deadline = time.monotonic() + limits.wall_seconds
    while child.poll() is None:
        if stop.is_set() or time.monotonic() > deadline:
            child.kill()
            child.wait()
            return "cancelled" if stop.is_set() else "wall"
        time.sleep(POLL_SECONDS)
    return "done"


def _failure(message: str, detail: str) -> JobFailedError:
    return JobFailedError(f"custom strategy {message}", f"custom strategy {message}\n\n{detail}")


def _bar_text(error: dict[str, Any]) -> str:
    if error.get("bar") is None:
        return ""
    when = datetime.fromtimestamp(int(error["ts"]) / 1e9, UTC).isoformat()
    return f" at bar {error['bar']} ({when})"


def _outcome(
    folder: Path, child: subprocess.Popen[bytes], ended: str, limits: SandboxLimits
) -> F64:
    stderr = (child.stderr.read() if child.stderr else b"").decode(errors="replace")[-4000:]
    if ended == "cancelled":
        raise JobCancelledError
    if ended == "wall":
        raise _failure(f"ran longer than {limits.wall_seconds:.0f} s (wall clock)", stderr)
    if child.returncode in {-signal.SIGXCPU, -signal.SIGKILL}:
        raise _failure(f"exceeded its CPU time limit of {limits.cpu_seconds} s", stderr)
    if child.returncode == 3:
        raise _failure("could not be sandboxed, so it was not run", stderr.strip())
    error_file = folder / "error.json"
    if error_file.exists():
        error = json.loads(error_file.read_text(encoding="utf-8"))
        reason = {
            "memory": f"exceeded its memory limit of {limits.memory_mb} MiB",
            "forbidden": "tried what the sandbox forbids (network, files outside its folder)",
            "interface": "does not follow the interface",
        }.get(error["reason"], "raised")
        raise _failure(f"{reason}{_bar_text(error)}: {error['message']}", error["traceback"])
    targets = folder / "targets.npy"
    if child.returncode != 0 or not targets.exists():
        raise _failure(f"process ended with code {child.returncode} and no result", stderr)
    loaded: F64 = np.load(targets, allow_pickle=False)
    return loaded


SANDBOX_PREFIX = "contango-sandbox-"


def _remove_orphans(root: Path) -> None:
    """Delete sandbox folders whose worker process is gone.

    A worker killed mid-job (SIGKILL) cannot remove its sandbox folder; the folder names carry
    the worker's process id, so the next sandbox on the machine clears what the dead left.
    """
    for folder in root.glob(f"{SANDBOX_PREFIX}*-*"):
        pid_text = folder.name.removeprefix(SANDBOX_PREFIX).split("-", 1)[0]
        if not pid_text.isdigit() or Path(f"/proc/{pid_text}").exists():
            continue
        shutil.rmtree(folder, ignore_errors=True)


def run_custom_targets(
    code: str, bars: Bars, params: dict[str, Any], stop: threading.Event, limits: SandboxLimits
) -> F64:
    """Run ``code`` on ``bars`` in a confined child; its targets, or JobFailedError saying why."""
    root = Path(tempfile.gettempdir())
    _remove_orphans(root)
    prefix = f"{SANDBOX_PREFIX}{os.getpid()}-"
    with tempfile.TemporaryDirectory(prefix=prefix, dir=root) as name:
        folder = Path(name)
        _prepare(folder, code, bars, params)
        command = [sys.executable, "-I", "-m", "contango.workers.sandbox.child", str(folder),
                   str(limits.cpu_seconds), str(limits.memory_mb)]  # fmt: skip
        env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        with subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, cwd=folder, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        ) as child:  # fmt: skip
            ended = _wait(child, limits, stop)
            return _outcome(folder, child, ended, limits)


def sandboxed_targets(settings: Settings) -> CustomTargets:
    """The sandbox runner a worker hands to its jobs, with the deployment's limits."""
    limits = SandboxLimits(
        cpu_seconds=settings.sandbox_cpu_seconds, memory_mb=settings.sandbox_memory_mb
    )

    def run(code: str, bars: Bars, params: dict[str, Any], stop: threading.Event) -> F64:
        return run_custom_targets(code, bars, params, stop, limits)

    return run
