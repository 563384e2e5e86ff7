"""Celery on Redis, for running jobs on as many machines as a deployment needs.

``celery -A contango.workers.celery_app worker -Q backtest`` starts a worker pool for one domain
queue (data, backtest, risk, ml), so each domain can be deployed and scaled on its own from one
codebase. Celery alone would lose or duplicate work: a killed task with ``acks_late`` but
without ``task_reject_on_worker_lost`` is acknowledged and dropped, and Redis redelivers an
unacknowledged message only after its visibility timeout. So messages are acknowledged late,
rejected (requeued) when their worker dies, prefetched one at a time, and tasks carry only the
job id: the database lease and attempt decide who runs and who writes (``contango.workers.
tasks``), every worker recovers expired leases itself, and the visibility timeout is short
(a redelivered duplicate claims nothing, so it costs one UPDATE, never a second run).
"""

from __future__ import annotations

from celery import Celery
from celery.signals import worker_process_init
from kombu.entity import Queue

from contango.observability.tracing import setup_celery_tracing
from contango.settings import Settings, get_settings

QUEUES = ("data", "backtest", "risk", "ml")
QUEUE_OF_KIND = {"backtest": "backtest", "sweep": "backtest", "walkforward": "backtest"}
RUN_JOB = "contango.run_job"
# Redis serves lower numbers first. A job requeued after its worker died goes ahead of the
# queued backlog, so it runs again within a lease or two, not after everything submitted since.
PRIORITY_NEW = 6
PRIORITY_RECOVERED = 0
SWEEP_CHUNK = "contango.run_sweep_chunk"


def queue_of(kind: str) -> str:
    """The domain queue a job of ``kind`` runs on."""
    return QUEUE_OF_KIND.get(kind, "backtest")


def visibility_seconds(lease_seconds: float) -> int:
    """How long Redis keeps a delivered, unacknowledged message hidden: two leases, >= 10 s."""
    return max(10, round(2 * lease_seconds))


def make_celery(settings: Settings) -> Celery:
    """A Celery application on ``settings.redis_url`` with the delivery guarantees above."""
    app = Celery("contango", broker=settings.redis_url, include=["contango.workers.tasks"])
    app.conf.update(
        task_queues=[Queue(name) for name in QUEUES],  # type: ignore[no-untyped-call]
        task_default_queue="backtest",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # A message whose worker vanished (SIGKILL, lost machine) is redelivered after this;
        # a short timeout is safe because a redelivered message of a job that runs (or ran)
        # claims nothing, and it rescues jobs whose message a dead worker had reserved but
        # not started (their lease never existed, so lease recovery cannot see them).
        # Each worker looks for such messages every 5 s (kombu scans only every tenth look
        # unless told otherwise), and a worker killed while it held the scan's lock blocks the
        # others for 30 s, not kombu's 5 minutes.
        broker_transport_options={
            "visibility_timeout": visibility_seconds(settings.lease_seconds),
            "unacked_restore_interval": 5,
            "unacked_restore_throttle": 1,
            "unacked_mutex_expire": 30,
        },
        worker_hijack_root_logger=False,
    )
    return app


def _trace_worker_process(**_: object) -> None:
    """Each pool process sets up its own tracer (exporters do not survive a fork)."""
    setup_celery_tracing(get_settings())


worker_process_init.connect(_trace_worker_process, weak=False)


# The worker command line needs a module-level application; it reads the process settings.
app = make_celery(get_settings())
