"""Audit log append throughput on PostgreSQL: concurrent writers, one transaction per append.

Each writer is an asyncio task with an engine (and so a connection) of its own, appending in
its own transactions as API requests do. The chain serializes appends on the head row, so the
figure is bounded by how long each writer holds that lock (one statement and its commit).

    .venv/bin/python benchmarks/bench_audit.py [--writers 8] [--seconds 5] [--url postgresql://...]

A scratch database is created and dropped on the server; the chain is verified at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import asyncpg

from contango.audit import record_event
from contango.audit.verify import VerificationReport, verify_log
from contango.db.migrate import upgrade_async
from contango.db.session import Database

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


async def _writer(url: str, stop_at: float, latencies: list[float]) -> int:
    database = Database(url, pool_size=1, max_overflow=0)
    count = 0
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            async with database.transaction() as session:
                await record_event(
                    session,
                    action="backtest.submit",
                    actor_id=uuid.uuid4(),
                    actor="bench@desk-a.example.com",
                    target=f"job:{count}",
                    details={"strategy": "ma_crossover", "contract": "ESZ2024", "fast": 10},
                )
            latencies.append(time.perf_counter() - started)
            count += 1
    finally:
        await database.dispose()
    return count


async def _verify(url: str) -> VerificationReport:
    database = Database(url)
    try:
        async with database.sessions() as session, session.begin():
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            return await verify_log(session, [], Ed25519PrivateKey.generate().public_key())
    finally:
        await database.dispose()


async def main(server: str, writers: int, seconds: float) -> None:
    name = f"contango_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    url = f"{base}/{name}"
    try:
        await upgrade_async(url)
        latencies: list[float] = []
        stop_at = time.perf_counter() + seconds
        started = time.perf_counter()
        counts = await asyncio.gather(*(_writer(url, stop_at, latencies) for _ in range(writers)))
        elapsed = time.perf_counter() - started
        total = sum(counts)
        latencies.sort()
        report = await _verify(url)
        print(f"writers {writers}, {elapsed:.1f} s, appends {total:,}: {total / elapsed:,.0f}/s")
        print(
            f"latency per append: median {1000 * latencies[len(latencies) // 2]:.2f} ms, "
            f"p99 {1000 * latencies[int(len(latencies) * 0.99)]:.2f} ms"
        )
        print(f"chain verified: {report.entries:,} entries, problems {len(report.problems)}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="server (its database is not used)")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.url, arguments.writers, arguments.seconds))
