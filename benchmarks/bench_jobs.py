"""Jobs under fire: 100 backtests on real Celery workers while worker processes are SIGKILLed.

Two ``celery worker`` processes (two pool children each) serve an API on Celery; 100 backtests
are submitted through the API, each a custom strategy that sleeps in its sandbox (so kills land
in the middle of jobs). Every ``--kill-every`` seconds (uniformly random around it) the killer
SIGKILLs either the pool child that runs a job or a whole worker (parent, children, sandboxes),
and starts a new worker in place of a dead one, for ``--kill-for`` seconds; the run ends when
every job ended (or at ``--deadline``: what has not ended then is counted lost).

Reported: results stored (succeeded jobs with a results folder), duplicates (audited ends
beyond one per job: the proof of "stored once"), lost jobs (not ended after ``--deadline``),
quarantined jobs, kills, and the time to recover (from a kill to the next attempt of each job
the victim held: median and max).

    .venv/bin/python benchmarks/bench_jobs.py [--jobs 100] [--kill-every 3] [--kill-for 90]

A scratch PostgreSQL database is created and dropped on the server; the Redis database given
(``--redis-url``, default the test database 15) is flushed before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import redis
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from contango.api.app import create_app
from contango.data.samples.load import load_samples
from contango.data.store import open_store
from contango.db.migrate import upgrade
from contango.db.models import AuthSession, Job, Team, User
from contango.db.models.audit import AuditEntry, AuditIntake
from contango.services.context import ServiceContext
from contango.settings import Settings

CODE = ("import time\ndef targets(bars, params):\n    time.sleep(params['sleep'])\n"
        "    return np.where(np.isnan(bars.close), np.nan, 1.0)\n")  # fmt: skip
FINAL = {"succeeded", "failed", "cancelled"}
LOCK = Path(tempfile.gettempdir()) / "contango-test-redis-db.lock"  # as tests/integration


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """A migrated scratch database on ``server``; its SQLAlchemy URL."""
    name = f"contango_bench_jobs_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    url = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(server: str, statement: str) -> None:
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def start_worker(settings: Settings, folder: Path, number: int) -> subprocess.Popen[bytes]:
    """A ``celery worker`` with two pool children, in a process group of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTANGO_")}
    env.update(CONTANGO_DATA_DIR=str(settings.data_dir),
               CONTANGO_DATABASE_URL=str(settings.database_url),
               CONTANGO_REDIS_URL=settings.redis_url, CONTANGO_JOB_BACKEND="celery",
               CONTANGO_LEASE_SECONDS=str(settings.lease_seconds),
               CONTANGO_HEARTBEAT_SECONDS=str(settings.heartbeat_seconds),
               CONTANGO_MAX_ATTEMPTS=str(settings.max_attempts),
               CONTANGO_LOG_FORMAT="text")  # fmt: skip
    log = str(folder / f"w{number}.log")
    command = [str(Path(sys.executable).with_name("celery")), "-A", "contango.workers.celery_app",
               "worker", "-Q", "backtest", "-c", "2", "-n", f"bench-{number}@%h",
               "--without-mingle", "--without-gossip", "-f", log]  # fmt: skip
    return subprocess.Popen(command, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def children(pid: int) -> list[int]:
    """The pool children of a worker."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


async def _token(context: ServiceContext) -> str:
    async with context.database.transaction() as session:
        team = Team(name="bench")
        session.add(team)
        await session.flush()
        user = User(email="q@bench.example.com", display_name="q", role="quant_developer",
                    team_id=team.id)  # fmt: skip
        session.add(user)
        await session.flush()
        live = AuthSession(user_id=user.id, expires_at=datetime.now(UTC) + timedelta(hours=2),
                           mfa_verified=True)  # fmt: skip
        session.add(live)
        await session.flush()
        return context.tokens.issue_access(user_id=user.id, session_id=live.id,
                                           role="quant_developer")  # fmt: skip


async def _rows(context: ServiceContext) -> list[tuple[uuid.UUID, str, int, str | None]]:
    async with context.database.transaction() as session:
        rows = await session.execute(select(Job.id, Job.status, Job.attempt, Job.lease_owner))
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def _ends(context: ServiceContext) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with context.database.transaction() as session:
        for table in (AuditIntake, AuditEntry):
            found = await session.execute(
                select(table.target, func.count())
                .where(table.action.in_(["backtest.succeeded", "backtest.failed"]))
                .group_by(table.target)
            )
            for target, n in found:
                counts[str(target)] = counts.get(str(target), 0) + int(n)
    return counts


def submit(client: TestClient, headers: dict[str, str], jobs: int, rng: random.Random) -> None:
    """Store the sleeping strategy and submit ``jobs`` backtests of it."""
    made = client.post("/api/v1/strategies/custom", json={"name": "sleepy", "code": CODE},
                       headers=headers).json()  # fmt: skip
    for _ in range(jobs):
        config = {"name": "bench", "start": "2023-06-01", "end": "2025-12-31", "seed": 0,
                  "markets": [{"root": "ES", "dataset": "ES.1d", "mode": "continuous"}],
                  "strategy": {"name": f"custom:{made['id']}",
                               "params": {"sleep": round(rng.uniform(0.5, 2.0), 2)}},
                  "simulation": {"capital": 250_000}}  # fmt: skip
        response = client.post("/api/v1/backtests", json={"config": config}, headers=headers)
        response.raise_for_status()


class Killer:
    """SIGKILLs worker processes at random moments; remembers whose jobs it interrupted."""

    def __init__(
        self, settings: Settings, folder: Path, rng: random.Random, every: float, period: float
    ):
        self.settings, self.folder, self.rng, self.every = settings, folder, rng, every
        self.until = time.monotonic() + period  # kills stop then; the jobs must all end after
        self.workers = [start_worker(settings, folder, n) for n in range(2)]
        self.numbered = len(self.workers)
        self.next_at = time.monotonic() + rng.uniform(0.5, 2 * every)
        self.kills = {"child": 0, "worker": 0}
        self.victims: list[tuple[uuid.UUID, int, float]] = []  # job, attempt, kill time

    def tick(self, rows: list[tuple[uuid.UUID, str, int, str | None]]) -> None:
        """Kill something if it is time (only while jobs run, so that kills hit jobs)."""
        running = [r for r in rows if r[1] == "running" and r[3]]
        if time.monotonic() < self.next_at or time.monotonic() > self.until or not running:
            return
        self.next_at = time.monotonic() + self.rng.uniform(0.5, 2 * self.every)
        owner = self.rng.choice(running)[3]
        pid = int(str(owner).rsplit(":", 1)[1])
        parent = next((w for w in self.workers if pid in children(w.pid)), None)
        if parent is None:
            return
        held = {int(str(r[3]).rsplit(":", 1)[1]): r for r in running}
        if self.rng.random() < 0.5:
            pids = [pid]
            os.kill(pid, signal.SIGKILL)
            self.kills["child"] += 1
        else:
            pids = children(parent.pid)
            os.killpg(parent.pid, signal.SIGKILL)
            parent.wait()
            self.workers.remove(parent)
            self.workers.append(start_worker(self.settings, self.folder, self.numbered))
            self.numbered += 1
            self.kills["worker"] += 1
        now = time.monotonic()
        self.victims += [(held[p][0], held[p][2], now) for p in pids if p in held]

    def stop(self) -> None:
        """Kill every worker."""
        for worker in self.workers:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def recovery_times(killer: Killer, seen: dict[tuple[uuid.UUID, int], float]) -> list[float]:
    """From each kill to the moment its job ran again (its next attempt started)."""
    return [seen[(job, attempt + 1)] - at for job, attempt, at in killer.victims
            if (job, attempt + 1) in seen]  # fmt: skip


def run(args: argparse.Namespace, url: str, folder: Path) -> dict[str, Any]:
    """The benchmark on database ``url``; its figures."""
    rng = random.Random(args.seed)
    load_samples(markets=["ES"], years=3, minute_markets=[], store=open_store(folder / "store"))
    settings = Settings(data_dir=folder, database_url=url, redis_url=args.redis_url,
                        job_backend="celery", lease_seconds=6.0, heartbeat_seconds=2.0,
                        max_attempts=5, log_format="text")  # fmt: skip
    with TestClient(create_app(settings)) as client:
        context: ServiceContext = client.app.state.context  # type: ignore[attr-defined]
        token = client.portal.call(_token, context)  # type: ignore[union-attr]
        killer = Killer(settings, folder, rng, args.kill_every, args.kill_for)
        started = time.monotonic()
        submit(client, {"Authorization": f"Bearer {token}"}, args.jobs, rng)
        seen: dict[tuple[uuid.UUID, int], float] = {}
        try:
            while time.monotonic() - started < args.deadline:
                rows = client.portal.call(_rows, context)  # type: ignore[union-attr]
                for job_id, status, attempt, _ in rows:
                    if status != "queued":
                        seen.setdefault((job_id, attempt), time.monotonic())
                if all(r[1] in FINAL for r in rows):
                    break
                killer.tick(rows)
                time.sleep(0.1)
        finally:
            killer.stop()
        elapsed = time.monotonic() - started
        rows = client.portal.call(_rows, context)  # type: ignore[union-attr]
        ends = client.portal.call(_ends, context)  # type: ignore[union-attr]
    stored = sum(
        1 for r in rows if r[1] == "succeeded" and (settings.results_dir / str(r[0])).is_dir()
    )
    recover = recovery_times(killer, seen)
    return {
        "jobs": len(rows), "results stored": stored,
        "duplicates": sum(n - 1 for n in ends.values() if n > 1),
        "lost": sum(1 for r in rows if r[1] not in FINAL),
        "failed (quarantined or other)": sum(1 for r in rows if r[1] == "failed"),
        "kills (pool child / whole worker)": f"{killer.kills['child']} / {killer.kills['worker']}",
        "jobs interrupted": len(killer.victims),
        "recovery s (median / max)": f"{statistics.median(recover):.1f} / {max(recover):.1f}"
        if recover else "n/a",
        "wall time s": round(elapsed, 1),
    }  # fmt: skip


def main() -> None:
    """Parse the options, run, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--kill-every", type=float, default=3.0, help="mean seconds between kills")
    parser.add_argument(
        "--kill-for", type=float, default=90.0, help="seconds during which workers are killed"
    )
    parser.add_argument("--deadline", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres", default=os.environ.get(
        "CONTANGO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))  # fmt: skip
    parser.add_argument("--redis-url", default=os.environ.get(
        "CONTANGO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))  # fmt: skip
    args = parser.parse_args()
    broker = redis.Redis.from_url(args.redis_url)
    # The test suite's lock on the Redis test database: a flush by a test running meanwhile
    # would wipe this run's queue (and count its jobs as lost).
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        broker.flushdb()
        try:
            with tempfile.TemporaryDirectory() as tmp, scratch_database(args.postgres) as url:
                figures = run(args, url, Path(tmp))
        finally:
            broker.flushdb()
            broker.close()
    for name, value in figures.items():
        print(f"{name:>36}: {value}")


if __name__ == "__main__":
    main()
