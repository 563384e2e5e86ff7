"""Prometheus metrics of one app: request latency, jobs, queue depth, engine throughput.

Each app gets its own registry (two apps in one test process must not collide); ``/metrics``
serves it in the text exposition format.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class Metrics:
    """The instruments of one Contango process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "contango_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.jobs_finished = Counter(
            "contango_jobs_finished_total",
            "Jobs that ended, by kind and final status.",
            ["kind", "status"],
            registry=self.registry,
        )
        self.job_seconds = Histogram(
            "contango_job_duration_seconds",
            "Wall time of a job from start to end, by kind.",
            ["kind"],
            buckets=JOB_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "contango_job_queue_depth",
            "Jobs waiting for a worker in this process.",
            registry=self.registry,
        )
        self.bars_simulated = Counter(
            "contango_engine_bars_simulated_total",
            "Bars x markets simulated by finished backtests (rate() gives engine throughput).",
            registry=self.registry,
        )
        self.backtests_run = Counter(
            "contango_engine_backtests_total",
            "Backtests simulated, counting every parameter set of sweeps and walk-forward runs.",
            registry=self.registry,
        )

    def watch_queue(self, depth: Callable[[], int]) -> None:
        """Report ``depth()`` as the queue depth at every scrape."""
        self.queue_depth.set_function(lambda: float(depth()))
