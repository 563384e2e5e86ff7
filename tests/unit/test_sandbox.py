"""The custom strategy sandbox: results come back, and every escape ends as a clear failure."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from contango.engine.bars import Bars
from contango.services.job_execution import JobCancelledError, JobFailedError
from contango.workers.sandbox import SandboxLimits, run_custom_targets

N = 40
LIMITS = SandboxLimits(cpu_seconds=2, memory_mb=512)


def _bars() -> Bars:
    ones = np.ones((N, 1))
    close = np.arange(N, dtype=np.float64).reshape(N, 1)
    ts = np.arange(N, dtype=np.int64) * 86_400 * 10**9
    return Bars(ts=ts, markets=("ES",), open=ones, high=ones, low=ones, close=close, volume=ones)


def _run(code: str) -> np.ndarray:
    return run_custom_targets(code, _bars(), {"k": 20}, threading.Event(), LIMITS)


def test_targets_and_on_bar_return_what_the_code_computes() -> None:
    vector = _run(
        "def targets(bars, params):\n    return np.where(bars.close > params['k'], 2.0, -1.0)\n"
    )
    expected = np.where(np.arange(N) > 20, 2.0, -1.0).reshape(N, 1)
    np.testing.assert_array_equal(vector, expected)
    # on_bar sees only bars 0..i: the last close it sees is always its own bar's
    stepwise = _run("def on_bar(i, bars, params, state):\n    return [len(bars.close) - 1 - i]\n")
    np.testing.assert_array_equal(stepwise, np.zeros((N, 1)))


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (
            "def on_bar(i, bars, params, state):\n"
            "    if i == 7: raise ValueError('boom')\n"
            "    return [1]\n",
            "raised at bar 7 (1970-01-08",
        ),
        ("def targets(bars, params):\n    while True: pass\n", "CPU time limit of 2 s"),
        (
            "def targets(bars, params):\n    x = [bytearray(10**7) for _ in range(1000)]\n",
            "memory limit of 512 MiB",
        ),
        (
            "import socket\n"
            "def targets(bars, params):\n"
            "    socket.create_connection(('127.0.0.1', 6379), 1)\n",
            "forbids",
        ),
        (
            "def targets(bars, params):\n    open('/tmp/contango-escape.txt', 'w').write('x')\n",
            "forbids",
        ),
        ("x = 1\n", "does not follow the interface"),
    ],
)
def test_escapes_and_failures_are_reported(code: str, reason: str) -> None:
    with pytest.raises(JobFailedError) as caught:
        _run(code)
    assert reason in str(caught.value)
    assert not Path("/tmp/contango-escape.txt").exists()


def test_a_sleeping_run_is_stopped_by_cancel() -> None:
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    code = "import time\ndef targets(b, p):\n    time.sleep(60)\n"
    with pytest.raises(JobCancelledError):
        run_custom_targets(code, _bars(), {}, stop, LIMITS)


def test_files_of_the_worker_cannot_be_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("key", encoding="utf-8")
    with pytest.raises(JobFailedError, match="forbids"):
        _run(f"def targets(bars, params):\n    return open({str(secret)!r}).read()\n")


def test_sandbox_folders_of_dead_workers_are_removed(tmp_path: Path) -> None:
    from contango.workers.sandbox.run import SANDBOX_PREFIX, _remove_orphans

    dead_pid = 2**22 + 17  # above the largest pid Linux can hand out (4,194,304)
    dead = tmp_path / f"{SANDBOX_PREFIX}{dead_pid}-abc"
    mine = tmp_path / f"{SANDBOX_PREFIX}{os.getpid()}-def"
    other = tmp_path / "unrelated-1-2"
    for folder in (dead, mine, other):
        folder.mkdir()
        (folder / "bars.npz").write_bytes(b"x")
    _remove_orphans(tmp_path)
    assert not dead.exists()
    assert mine.exists()
    assert other.exists()
