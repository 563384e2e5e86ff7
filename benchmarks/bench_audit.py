"""Audit log throughput on PostgreSQL: concurrent writers recording, a sealer chaining.

Each writer is an asyncio task with an engine (and so a connection) of its own, recording one
event per transaction as API requests do; with ``--processes P`` the writers are spread over P
processes, so the figure is the database's rather than one Python thread's. One sealer
(:func:`contango.audit.run_sealer`, as the API runs it) moves events into the chain meanwhile
(``--sealers`` runs more, as several API processes would).

``--client session`` (the default) records through :func:`contango.audit.record_event` in a
SQLAlchemy session per event, as requests do; on a small machine the clients' own CPU (about
half a millisecond per SQLAlchemy transaction) then bounds the figure. ``--client asyncpg``
runs the very INSERT that ``record_event`` compiles, with the values it would send, on plain
asyncpg connections: what the database sustains when the clients are not the limit.

Reported: committed appends/s, sealed/s over the same window, the lag from each writer's
commit to the commit of the batch that sealed it (median, p99, max), the load average, and
the chain verified at the end.

    .venv/bin/python benchmarks/bench_audit.py [--writers 8] [--seconds 4] [--processes 1]

A scratch database is created and dropped on the server.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import time
import uuid
from dataclasses import dataclass

import asyncpg
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url

from contango.audit import Sealed, record_event, run_sealer, seal_pending
from contango.audit.chain import _RECORD, _checked_fields
from contango.audit.verify import VerificationReport, verify_log
from contango.db.migrate import upgrade_async
from contango.db.session import Database

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


async def _writer(url: str, window: tuple[float, float], committed: dict[int, float]) -> None:
    # One connection held throughout: no pre-ping round trip per transaction.
    database = Database(url, pool_size=1, max_overflow=0, pool_pre_ping=False)
    count = 0
    start_at, stop_at = window
    try:
        async with database.transaction() as session:  # connect before the window opens
            await session.connection()
        await asyncio.sleep(max(0.0, start_at - time.time()))
        while time.time() < stop_at:
            async with database.transaction() as session:
                pending = await record_event(
                    session,
                    action="backtest.submit",
                    actor_id=uuid.uuid4(),
                    actor="bench@desk-a.example.com",
                    target=f"job:{count}",
                    details={"strategy": "ma_crossover", "contract": "ESZ2024", "fast": 10},
                )
            committed[pending.intake_id] = time.time()
            count += 1
    finally:
        await database.dispose()


async def _plain_writer(url: str, window: tuple[float, float], committed: dict[int, float]) -> None:
    keys = ["occurred_at", "actor_id", "actor", "action", "target", "outcome", "details"]
    keys += ["request_id", "client_ip"]
    compiled = _RECORD.compile(dialect=make_url(url).get_dialect()(), column_keys=keys)
    names = compiled.positiontup or ()
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    count = 0
    start_at, stop_at = window
    try:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        while time.time() < stop_at:
            fields = _checked_fields(
                action="backtest.submit",
                actor_id=uuid.uuid4(),
                actor="bench@desk-a.example.com",
                target=f"job:{count}",
                outcome="success",
                details={"strategy": "ma_crossover", "contract": "ESZ2024", "fast": 10},
            )
            values = {
                "occurred_at": fields.time,
                "actor_id": fields.actor_id,
                "actor": fields.actor,
                "action": fields.action,
                "target": fields.target,
                "outcome": fields.outcome,
                "details": rfc8785.dumps(dict(fields.details)).decode(),
                "request_id": fields.request_id,
                "client_ip": fields.client_ip,
            }
            async with connection.transaction():
                intake_id = await connection.fetchval(
                    str(compiled), *(values[name] for name in names)
                )
            committed[intake_id] = time.time()
            count += 1
    finally:
        await connection.close()


async def _writers(
    url: str, writers: int, window: tuple[float, float], client: str
) -> dict[int, float]:
    committed: dict[int, float] = {}
    writer = _writer if client == "session" else _plain_writer
    await asyncio.gather(*(writer(url, window, committed) for _ in range(writers)))
    return committed


def _process(url: str, writers: int, window: tuple[float, float], client: str) -> dict[int, float]:
    return asyncio.run(_writers(url, writers, window, client))


async def _run_writers(
    url: str, arguments: argparse.Namespace, window: tuple[float, float]
) -> dict[int, float]:
    """Intake id -> wall time of its commit, from every writer of every process."""
    writers, processes, client = arguments.writers, arguments.processes, arguments.client
    if processes == 1:
        return await _writers(url, writers, window, client)
    shares = [writers // processes + (i < writers % processes) for i in range(processes)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        results = [pool.apply_async(_process, (url, share, window, client)) for share in shares]
        done = await asyncio.gather(*(asyncio.to_thread(result.get) for result in results))
    return {key: value for part in done for key, value in part.items()}


@dataclass(frozen=True)
class _SealerContext:
    """What a sealer needs of a service context: an engine of its own, as each API process has."""

    database: Database


async def _verify(database: Database) -> VerificationReport:
    async with database.sessions() as session, session.begin():
        return await verify_log(session, [], Ed25519PrivateKey.generate().public_key())


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))]


async def _measure(url: str, arguments: argparse.Namespace) -> None:
    database = Database(url)
    sealed_at: dict[int, float] = {}

    def note(batch: Sealed) -> None:
        now = time.time()
        sealed_at.update(dict.fromkeys(batch.intake_ids, now))

    contexts = [_SealerContext(Database(url)) for _ in range(arguments.sealers)]
    sealers = [asyncio.create_task(run_sealer(context, on_sealed=note)) for context in contexts]
    load_before = os.getloadavg()
    # Processes need a few seconds to start and connect; the measured window opens after.
    started = time.time() + (1.0 if arguments.processes == 1 else 4.0)
    stop_at = started + arguments.seconds
    try:
        committed = await _run_writers(url, arguments, (started, stop_at))
        await asyncio.sleep(0.5)  # let the sealers catch up, then make sure nothing is left
    finally:
        for task in sealers:
            task.cancel()
        await asyncio.gather(*sealers, return_exceptions=True)
        for context in contexts:
            await context.database.dispose()
    elapsed = stop_at - started
    sealed_in_window = sum(1 for moment in sealed_at.values() if moment <= stop_at)
    leftover = await seal_pending(database)
    lags = sorted(sealed_at[key] - moment for key, moment in committed.items() if key in sealed_at)
    report = await _verify(database)
    await database.dispose()
    total = len(committed)
    print(
        f"{arguments.client} writers {arguments.writers} in {arguments.processes} process(es), "
        f"sealers "
        f"{arguments.sealers}, {elapsed:.1f} s; load {load_before[0]:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after"
    )
    print(f"committed appends {total:,}: {total / elapsed:,.0f}/s")
    print(f"sealed during the run {sealed_in_window:,}: {sealed_in_window / elapsed:,.0f}/s")
    print(
        f"commit-to-sealed lag: median {1000 * _quantile(lags, 0.5):.1f} ms, p99 "
        f"{1000 * _quantile(lags, 0.99):.1f} ms, max {1000 * lags[-1]:.1f} ms "
        f"({len(lags):,} by the running sealers, {leftover} sealed after)"
    )
    print(
        f"chain verified: {report.entries:,} entries (expected {total:,}), "
        f"problems {len(report.problems)}"
    )


async def main(arguments: argparse.Namespace) -> None:
    """Create a scratch database, measure, drop it."""
    name = f"contango_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(arguments.url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = arguments.url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        await upgrade_async(f"{base}/{name}")
        await _measure(f"{base}/{name}", arguments)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="server (its database is not used)")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--processes", type=int, default=1, help="processes the writers share")
    parser.add_argument("--sealers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--client", choices=("session", "asyncpg"), default="session")
    asyncio.run(main(parser.parse_args()))
