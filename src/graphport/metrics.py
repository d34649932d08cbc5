"""Prometheus metrics: what `GET /metrics` serves (text, or `?format=json`).

The reference's names, so existing dashboards work: `lg_api_workers_{max,active,available}`
(job slots), `lg_api_http_requests_total{method,path,status}` and
`lg_api_http_requests_latency{method,path}` (milliseconds), `path` being the route template and
meta routes (health, info, metrics, docs) not counted. graphport's own: runs by terminal status,
run duration and queue wait per graph, webhook deliveries by outcome, live server processes,
and the queue (pending, running, wait) read from storage at each scrape.

With `--workers N` one scrape shows the whole server: the processes share a directory of
prometheus_client's multiprocess files (`PROMETHEUS_MULTIPROC_DIR`, made by `graphport serve`),
each writes its own, and the process answering a scrape sums them (gauges over live processes
only). The queue figures come from the shared database, so they are whole-server in any case.
"""

from __future__ import annotations

import glob
import os
import statistics
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:  # the `--workers` supervisor imports this module without storage's langgraph
    from graphport.storage.base import QueueEntry

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS_MS = (10, 100, 500, 1000, 5000, 15000, 30000, 60000, 120000, 300000, 600000,
                      1800000, 3600000)  # fmt: skip
RUN_BUCKETS_S = (0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 3600, 14400, 86400)
WAIT_BUCKETS_S = (0.01, 0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 3600)


class Labelled:
    """A metric's children by label values, looked up once: prometheus-client's `labels()`
    validates and locks on every call, which is measurable per request and per run (a child,
    once made, is never replaced)."""

    def __init__(self, metric: Any) -> None:
        self.metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self.metric.labels(*values)
        return child


class Metrics:
    """This process's instruments (one per app, on its own registry)."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` series, as in the reference
        self.registry = registry = CollectorRegistry()
        if not self.multiprocess:  # per-process figures cannot be summed: one process only
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                registry.register(collector)

        def live(name: str, doc: str) -> Gauge:  # summed over the live processes
            return Gauge(name, doc, registry=registry, multiprocess_mode="livesum")

        self.workers_max = live("lg_api_workers_max", "Job slots")
        self.workers_active = live("lg_api_workers_active", "Job slots in use")
        self.workers_available = live("lg_api_workers_available", "Free job slots")
        self.processes = live("graphport_server_processes", "Live server processes")
        self.requests = Counter(
            "lg_api_http_requests", "HTTP requests", ["method", "path", "status"],
            registry=registry,
        )  # fmt: skip
        self.latency = Histogram(
            "lg_api_http_requests_latency", "HTTP request latency in milliseconds",
            ["method", "path"], buckets=LATENCY_BUCKETS_MS, registry=registry,
        )  # fmt: skip
        self.runs = Counter(
            "graphport_runs", "Runs ended, by graph and terminal status", ["graph", "status"],
            registry=registry,
        )  # fmt: skip
        self.run_duration = Histogram(
            "graphport_run_duration_seconds", "Run execution time, start to end",
            ["graph"], buckets=RUN_BUCKETS_S, registry=registry,
        )  # fmt: skip
        self.queue_wait = Histogram(
            "graphport_run_queue_wait_seconds", "Time from a run's creation to its first start",
            ["graph"], buckets=WAIT_BUCKETS_S, registry=registry,
        )  # fmt: skip
        self.webhooks = Counter(
            "graphport_webhook_deliveries", "Webhook delivery attempts, by outcome "
            "(delivered, retried, failed)", ["outcome"], registry=registry,
        )  # fmt: skip
        self.requests_by = Labelled(self.requests)
        self.latency_by = Labelled(self.latency)
        self._runs_by = Labelled(self.runs)
        self._duration_by = Labelled(self.run_duration)
        self._wait_by = Labelled(self.queue_wait)

    def start(self, slots: int) -> None:
        """This process serves (called from the lifespan, so a parent process that only
        checks the app before forking its workers is not counted)."""
        self.processes.set(1)
        self.slots(slots, slots)

    def slots(self, total: int, free: int) -> None:
        self.workers_max.set(total)
        self.workers_available.set(free)
        self.workers_active.set(total - free)

    def run_started(self, graph: str, created_at: str, attempt: int) -> None:
        if attempt <= 1:  # a taken-over run's wait would count its earlier execution
            waited = time.time() - datetime.fromisoformat(created_at).timestamp()
            self._wait_by(graph).observe(max(0.0, waited))

    def run_ended(self, graph: str, status: str, seconds: float) -> None:
        self._runs_by(graph, status).inc()
        self._duration_by(graph).observe(seconds)

    def stop(self) -> None:
        if self.multiprocess:  # this process's live gauges leave the sums
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    # -- scraping ------------------------------------------------------------------------------

    def _scraped(self) -> CollectorRegistry:
        """The registry to read: this process's, or every process's multiprocess files."""
        if not self.multiprocess:
            return self.registry
        _forget_dead_processes()
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry

    def text(self, queue: dict[str, Any]) -> bytes:
        extra = CollectorRegistry()
        extra.register(_QueueCollector(queue))
        return generate_latest(self._scraped()) + generate_latest(extra)

    def json(self, queue: dict[str, Any]) -> dict[str, Any]:
        """The reference's `?format=json` shape: queue, api (request counts), workers; and
        graphport's `processes` (live server processes)."""
        requests: list[dict[str, Any]] = []
        workers = {"max": 0, "active": 0, "available": 0}
        processes = 0
        for metric in self._scraped().collect():
            for sample in metric.samples:
                if sample.name == "lg_api_http_requests_total":
                    labels = sample.labels
                    requests.append({
                        "method": labels["method"], "path": labels["path"],
                        "status": int(labels["status"]), "count": int(sample.value),
                    })  # fmt: skip
                elif sample.name.startswith("lg_api_workers_"):
                    workers[sample.name.removeprefix("lg_api_workers_")] = int(sample.value)
                elif sample.name == "graphport_server_processes":
                    processes = int(sample.value)
        api = {"http_requests_total": requests}
        return {"queue": queue, "api": api, "workers": workers, "processes": processes}


def queue_stats(queue: Iterable[QueueEntry], now: float | None = None) -> dict[str, Any]:
    """n_pending, n_running and pending wait times (max, median; max of those whose thread
    runs nothing, i.e. waiting for a slot or their `after_seconds`), from storage's queue."""
    now = time.time() if now is None else now
    entries = list(queue)
    busy_threads = {e.thread_id for e in entries if e.status == "running"}
    pending = [e for e in entries if e.status == "pending"]
    waits = [max(0.0, now - e.created_at) for e in pending]
    unblocked = [max(0.0, now - e.created_at) for e in pending if e.thread_id not in busy_threads]
    return {
        "n_pending": len(pending),
        "pending_runs_wait_time_max_secs": max(waits) if waits else None,
        "pending_runs_wait_time_med_secs": statistics.median(waits) if waits else None,
        "pending_unblocked_runs_wait_time_max_secs": max(unblocked) if unblocked else None,
        "n_running": len(entries) - len(pending),
    }


class _QueueCollector(Collector):
    def __init__(self, queue: dict[str, Any]) -> None:
        self.queue = queue

    def collect(self) -> Iterator[Metric]:
        q = self.queue
        yield GaugeMetricFamily("graphport_runs_pending", "Pending runs", q["n_pending"])
        yield GaugeMetricFamily("graphport_runs_running", "Running runs", q["n_running"])
        yield GaugeMetricFamily(
            "graphport_runs_pending_wait_max_seconds", "Longest wait of a pending run",
            q["pending_runs_wait_time_max_secs"] or 0.0,
        )  # fmt: skip


def _forget_dead_processes() -> None:
    """A process that died without `stop` (kill -9, replaced by uvicorn's supervisor) leaves
    its live gauges' files behind: drop them so the sums count live processes only."""
    directory = os.environ[MULTIPROC_ENV]
    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        pid = int(path.rsplit("_", 1)[1].removesuffix(".db"))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
        except PermissionError:
            pass  # alive, another user's


class RequestMetrics:
    """Count and time every HTTP request by method, route template and status; requests to
    `uncounted` routes (health, info, metrics, docs) are left out. A path no route matched is
    counted with path "" (as the reference does)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, uncounted: Iterable[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.uncounted = {id(route) for route in uncounted}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = scope.get("route")
            if id(route) not in self.uncounted:
                # a Mount here means nothing under the prefix matched
                path = "" if route is None or isinstance(route, Mount) else str(route.path)
                method = scope["method"]
                self.metrics.requests_by(method, path, str(status)).inc()
                elapsed_ms = (time.perf_counter() - start) * 1000
                self.metrics.latency_by(method, path).observe(elapsed_ms)
