"""The Prometheus objects, one set per process, and the scrape's text.

One worker: a private registry.  ``serve --workers N`` sets ``PROMETHEUS_MULTIPROC_DIR``
(``cli/serve.py``) before the workers start; prometheus-client then keeps every value in a
file there, and a scrape, whichever worker answers it, reads all the workers' files
(``MultiProcessCollector``), so the numbers are the service's, not one process's.
"""

from __future__ import annotations

import os
from functools import cache

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess

from powerdialer.dialer.outcomes import BUILT_IN

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
CUSTOM_OUTCOME = "custom"
"""The label of every project-defined outcome code: the built-in codes are a fixed set, a
project's own are not, and a label's values must stay few."""


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "powerdialer_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ("route", "method", "status"),
            registry=registry,
        )
        self.duration = Histogram(
            "powerdialer_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            ("route", "method"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch_size = Histogram(
            "powerdialer_writer_batch_size",
            "Payloads a writer applied in one transaction, by writer (its thread).",
            ("writer",),
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.queue_depth = Gauge(
            "powerdialer_writer_queue_depth",
            "Payloads waiting for a writer when it took its last batch (summed over workers).",
            ("writer",),
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.leases = Counter(
            "powerdialer_leases", "Contacts leased to operators (dialer next).", registry=registry
        )
        self.outcomes = Counter(
            "powerdialer_outcomes",
            "Outcomes recorded, by code (project-defined codes as 'custom').",
            ("outcome",),
            registry=registry,
        )
        self.rows = Counter(
            "powerdialer_rows_stored",
            "Rows answered as stored, by source: compat, api (bulk), ui.",
            ("source",),
            registry=registry,
        )
        self.deliveries = Counter(
            "powerdialer_webhook_deliveries",
            "Webhook delivery attempts, by result: delivered, failed (to be retried), "
            "given_up (after 24 hours of retries).",
            ("result",),
            registry=registry,
        )
        self.lag = Histogram(
            "powerdialer_webhook_delivery_lag_seconds",
            "From an event's commit to its delivery's 2xx answer.",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self._rows: dict[str, Counter] = {}
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    # The hooks (``telemetry.hooks``).
    def writer_batch(self, writer: str, size: int, waiting: int) -> None:
        """``writer``: the writer's thread name (``powerdialer-writer``, and on PostgreSQL
        ``pd-lane`` for imports and ``pd-dialer`` for the dialer's payloads)."""
        self.batch_size.labels(writer).observe(size)
        self.queue_depth.labels(writer).set(waiting)

    def stored(self, source: str, rows: int) -> None:
        """``source``: ``compat``, or the bulk write's (``api``, ``ui``): a few literals."""
        child = self._rows.get(source)
        if child is None:
            child = self._rows[source] = self.rows.labels(source)
        if rows:
            child.inc(rows)

    def leased(self) -> None:
        self.leases.inc()

    def recorded(self, outcome: str) -> None:
        self.outcomes.labels(outcome if outcome in BUILT_IN else CUSTOM_OUTCOME).inc()

    def webhooks(self, delivered: int, failed: int, given_up: int, lags: list[float]) -> None:
        """One sender tick's results (``webhooks.sender``)."""
        for result, count in (("delivered", delivered), ("failed", failed), ("given_up", given_up)):
            if count:
                self.deliveries.labels(result).inc(count)
        for lag in lags:
            self.lag.observe(lag)

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        # ``labels()`` costs half of a request's metrics (a lock, a tuple of checks): each
        # label set's children are looked up once.  Routes, methods and statuses are few.
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(route, method, str(status)),
                self.duration.labels(route, method),
            )
        children[0].inc()
        children[1].observe(seconds)

    def scrape(self) -> bytes:
        """The text a scrape gets: every worker's numbers in multiprocess mode."""
        if multiprocess_dir() is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)


@cache
def metrics() -> Metrics:
    """This process's metrics, made once (a metric name can be registered once)."""
    return Metrics()


def process_exits() -> None:
    """In multiprocess mode, drop this process's live gauges (its queue depth)."""
    if multiprocess_dir() is not None:
        prom_multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
