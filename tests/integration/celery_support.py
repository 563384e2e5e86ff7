"""Real Celery workers for the integration tests: subprocesses of the ``celery`` command.

Each worker runs in its own session (process group), so a test can SIGKILL one pool child
(the process that runs a job) or the whole worker (parent, children and their sandboxes) the
way an out-of-memory killer or a lost machine would. Workers are configured only through the
environment, exactly as a deployment configures them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from fastapi.testclient import TestClient

from app_support import context_of, count_audited, make_user_token, run_in_app
from contango.auth.rbac import Role
from contango.db.models import Job
from contango.settings import Settings

T = TypeVar("T")
Headers = dict[str, str]
FINAL = {"succeeded", "failed", "cancelled"}
CELERY = str(Path(sys.executable).with_name("celery"))
READY_SECONDS = 60.0


def worker_environment(settings: Settings) -> dict[str, str]:
    """The environment of a worker process that shares ``settings`` with the test's API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTANGO_")}
    env.update(
        CONTANGO_DATA_DIR=str(settings.data_dir),
        CONTANGO_DATABASE_URL=str(settings.database_url),
        CONTANGO_REDIS_URL=settings.redis_url,
        CONTANGO_JOB_BACKEND="celery",
        CONTANGO_LEASE_SECONDS=str(settings.lease_seconds),
        CONTANGO_HEARTBEAT_SECONDS=str(settings.heartbeat_seconds),
        CONTANGO_MAX_ATTEMPTS=str(settings.max_attempts),
        CONTANGO_REDISPATCH_SECONDS=str(settings.redispatch_seconds),
        CONTANGO_SWEEP_CHUNK_SIZE=str(settings.sweep_chunk_size),
        CONTANGO_SANDBOX_CPU_SECONDS=str(settings.sandbox_cpu_seconds),
        CONTANGO_LOG_FORMAT="text",
        CONTANGO_LOG_LEVEL="INFO",
    )
    return env


@dataclass
class CeleryWorker:
    """One ``celery worker`` process (a parent and its pool children)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def ready(self) -> bool:
        """Whether the worker said it is ready to take tasks."""
        return self.log.exists() and b" ready." in self.log.read_bytes()

    def children(self) -> list[int]:
        """Process ids of the pool children (the processes that run tasks)."""
        found = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [int(pid) for pid in found.read_text().split()]
        return []

    def kill_all(self) -> None:
        """SIGKILL the worker's whole process group: parent, pool children, sandboxes."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@dataclass
class CeleryWorkers:
    """The workers of one test; all of them are killed when the test ends."""

    settings: Settings
    folder: Path
    queues: str = "data,backtest,risk,ml"
    started: list[CeleryWorker] = field(default_factory=list)

    def start(self, name: str, concurrency: int = 1) -> CeleryWorker:
        """Start a worker named ``name`` consuming every domain queue."""
        log = self.folder / f"{name}-{len(self.started)}.log"
        node = f"{name}-{len(self.started)}@%h"
        command = [CELERY, "-A", "contango.workers.celery_app", "worker", "-Q", self.queues,
                   "-c", str(concurrency), "-n", node, "--without-mingle", "--without-gossip",
                   "--loglevel", "INFO", "-f", str(log)]  # fmt: skip
        with log.with_suffix(".err").open("wb") as errors:  # the child keeps its own copy
            process = subprocess.Popen(
                command,
                env=worker_environment(self.settings),
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
        worker = CeleryWorker(name=name, process=process, log=log)
        self.started.append(worker)
        return worker

    def wait_ready(self) -> None:
        """Block until every started worker is ready (or fail with its log)."""
        deadline = time.monotonic() + READY_SECONDS
        for worker in self.started:
            while not worker.ready():
                if worker.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"worker {worker.name} did not start:\n{self.logs()}")
                time.sleep(0.1)

    def logs(self) -> str:
        """Every worker's log, for an assertion message."""
        paths = sorted(self.folder.glob("*.log")) + sorted(self.folder.glob("*.err"))
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}" for path in paths
        )

    def stop(self) -> None:
        """Kill every worker (their jobs are the test's; nothing else to keep)."""
        for worker in self.started:
            if worker.process.poll() is None:
                worker.kill_all()


def login(client: TestClient, role: Role = Role.QUANT_DEVELOPER) -> Headers:
    """Bearer headers of a new user of ``role`` (made directly in the database)."""
    email = f"{role.value}-{time.monotonic_ns()}@example.com"
    token = run_in_app(client, make_user_token, context_of(client), role, f"desk-{email}", email)
    return {"Authorization": f"Bearer {token}"}


def job_row(client: TestClient, job_id: str) -> Job:
    """The job's row as the database holds it now."""

    async def read() -> Job:
        async with context_of(client).database.transaction() as session:
            job = await session.get(Job, uuid.UUID(job_id))
            assert job is not None
            return job

    return run_in_app(client, read)


def audited_ends(client: TestClient, job_id: str, action: str) -> int:
    """How many ends of the job the audit log holds (one per stored result)."""
    return run_in_app(client, count_audited, context_of(client), f"job:{job_id}", action)


def wait_until(what: Callable[[], T | None], timeout: float, message: Callable[[], str]) -> T:
    """Poll ``what()`` until it returns something other than None."""
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s: {message()}")
        time.sleep(0.05)


def owner_pid(job: Job) -> int | None:
    """The process id of the worker that holds the job's lease (``host:pid``)."""
    if job.lease_owner is None:
        return None
    return int(job.lease_owner.rsplit(":", 1)[1])


def pids_alive(pids: Iterator[int] | list[int]) -> list[int]:
    """The given processes that still exist."""
    alive = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 0)
            alive.append(pid)
    return alive
