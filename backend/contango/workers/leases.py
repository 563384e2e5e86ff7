"""Recovery of jobs whose worker stopped (and of queue messages lost on the way): run in every
process that runs workers.

A worker killed in the middle of a job (SIGKILL, out of memory, a lost machine) cannot say so;
its attempt's lease simply stops being renewed. Every few seconds each recoverer queues such
jobs again, or quarantines those that used up their attempts (a job that crashes its worker
every time must not take the pool down forever). The database decides which recoverer acts
(the UPDATE is conditional on the attempt), so running several recoverers is safe.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable

from contango.services import jobs
from contango.services.context import ServiceContext
from contango.services.job_dispatch import due_for_dispatch
from contango.services.jobs import Recovered

log = logging.getLogger("contango.jobs")

Dispatch = Callable[[Recovered], None]


def worker_name(pid: int | None = None) -> str:
    """The lease owner name of a worker process: ``host:pid``."""
    return f"{socket.gethostname()}:{pid if pid is not None else os.getpid()}"


def recovery_seconds(lease_seconds: float) -> float:
    """How often to look for expired leases: a third of a lease (0.5 s to 10 s)."""
    return max(0.5, min(lease_seconds / 3, 10.0))


async def recover_once(
    context: ServiceContext, dispatch: Dispatch | None = None
) -> list[Recovered]:
    """Requeue or quarantine the jobs whose lease expired; ``dispatch`` each requeued one.

    With a ``dispatch`` (runners that send queue messages), also send again the messages of
    queued jobs never known to be sent (after a lease: the submitter's own send comes first)
    or sent ``redispatch_seconds`` ago and not taken (see ``contango.services.job_dispatch``).
    """
    settings = context.settings
    async with context.database.transaction() as session:
        recovered = await jobs.recover_expired(session, max_attempts=settings.max_attempts)
    for item in recovered:
        log.warning("job %s: lease expired, %s", item.job_id, item.outcome)
        if item.outcome == "requeued" and dispatch is not None:
            dispatch(item)
    if dispatch is None:
        return recovered
    async with context.database.transaction() as session:
        due = await due_for_dispatch(
            session,
            never_sent_after=settings.lease_seconds,
            resend_after=settings.redispatch_seconds,
        )
    for item in due:
        log.warning(
            "job %s: queued but its queue message is unaccounted for; sent again", item.job_id
        )
        dispatch(item)
    return recovered + due


async def recover_forever(context: ServiceContext, dispatch: Dispatch | None = None) -> None:
    """Run :func:`recover_once` until cancelled, surviving database hiccups."""
    every = recovery_seconds(context.settings.lease_seconds)
    while True:
        try:
            await recover_once(context, dispatch)
        except Exception:
            log.exception("lease recovery failed; retrying")
        await asyncio.sleep(every)
