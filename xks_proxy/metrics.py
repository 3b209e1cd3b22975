"""Prometheus metrics for the whole proxy, whichever worker answers the scrape (private ops port).

With several workers (workers.py) the parent points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh private
directory before forking: each worker's ``prometheus_client`` values live in its own memory-mapped file
there, and a scrape, answered by any worker, aggregates every file (``prometheus_client``'s
multiprocess mode, made for pre-forked servers). Counters of a worker that died stay in its file, so
fleet totals never go back; live gauges of dead workers are dropped (``mark_process_dead``).

Fleet-level series (per-worker heartbeat age, config generation, restarts, reload failures) are read
from the shared table of fleet.py at scrape time, so they are the same whichever worker answers.

Request counts and latencies are recorded as they happen; everything the proxy already counts
elsewhere (connections refused, closed, HSM sessions replaced, encryptions) is copied into the
registry by ``sync`` once a second and before each scrape, which keeps the request path as it was.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import values as prometheus_values
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from .fleet import HEALTH_CODES, FleetState

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
HEALTH_VALUES = HEALTH_CODES
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call] # no *_created series: they would differ per worker


def enable_multiprocess(directory: str) -> None:
    """Parent, before forking: every value created afterwards lives in ``directory`` (one file per pid)."""
    os.environ[MULTIPROC_ENV] = directory
    # prometheus_client picks its value class when first imported; this process may have imported it
    # before the directory was known.
    prometheus_values.ValueClass = prometheus_values.get_value_class()  # type: ignore[no-untyped-call]


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


class FleetCollector(Collector):
    """Series read from the shared fleet table: identical from every worker."""

    def __init__(self, fleet: FleetState, heartbeat_timeout_s: float) -> None:
        self.fleet = fleet
        self.heartbeat_timeout_s = heartbeat_timeout_s

    def collect(self) -> Iterator[Metric]:
        now = time.monotonic()
        counters = self.fleet.counters()
        workers = GaugeMetricFamily("xks_workers", "Worker processes configured (server.workers).")
        workers.add_metric([], self.fleet.workers)
        up = GaugeMetricFamily(
            "xks_worker_up",
            "1 while the worker's event loop beat within half of server.heartbeat_timeout_s.",
            labels=["worker"],
        )
        age = GaugeMetricFamily(
            "xks_worker_heartbeat_age_seconds",
            "Seconds since the worker's last heartbeat.",
            labels=["worker"],
        )
        served = GaugeMetricFamily(
            "xks_config_generation", "Config generation each worker serves.", labels=["worker"]
        )
        health = GaugeMetricFamily(
            "xks_worker_hsm_health",
            "Each worker's HSM health: 2 ACTIVE, 1 DEGRADED, 0 UNAVAILABLE.",
            labels=["worker"],
        )
        info = GaugeMetricFamily(
            "xks_worker_info", "The process id of each worker.", labels=["worker", "pid"]
        )
        for view in self.fleet.worker_views():
            label = [str(view.index)]
            if view.pid:
                info.add_metric([str(view.index), str(view.pid)], 1)
            beat_age = max(0.0, now - view.heartbeat) if view.pid else float("inf")
            up.add_metric(label, 1 if view.pid and beat_age < self.heartbeat_timeout_s / 2 else 0)
            age.add_metric(label, beat_age if view.pid else -1)
            served.add_metric(label, view.generation)
            health.add_metric(label, HEALTH_CODES[view.health])
        loaded = GaugeMetricFamily(
            "xks_config_loaded_generation",
            "Generation of the config the parent last validated and handed out.",
        )
        loaded.add_metric([], counters.generation)
        failures = CounterMetricFamily(
            "xks_config_reload_failures",
            "Reloads refused (invalid config, or a change that needs a restart).",
        )
        failures.add_metric([], counters.reload_failures)
        restarts = CounterMetricFamily(
            "xks_worker_restarts", "Workers replaced, by reason.", labels=["reason"]
        )
        restarts.add_metric(["exited"], counters.worker_exits)
        restarts.add_metric(["unresponsive"], counters.worker_kills)
        yield from (workers, info, up, age, served, health, loaded, failures, restarts)


class Metrics:
    def __init__(self, fleet: FleetState | None = None, heartbeat_timeout_s: float = 10.0) -> None:
        self.fleet = fleet or FleetState(1)
        self.registry = CollectorRegistry(auto_describe=False)
        self._fleet_collector = FleetCollector(self.fleet, heartbeat_timeout_s)
        reg = self.registry
        self.requests = Counter(
            "xks_requests",
            "XKS API requests by key store, operation, HTTP status and errorName.",
            ["keystore", "operation", "status", "error"],
            registry=reg,
        )
        self.duration = Histogram(
            "xks_request_duration_seconds",
            "Time from a complete request to its response.",
            ["operation"],
            buckets=BUCKETS,
            registry=reg,
        )
        self.hsm_health_gauge = Gauge(
            "xks_hsm_health",
            "Worst HSM health over live workers: 2 ACTIVE, 1 DEGRADED, 0 UNAVAILABLE.",
            registry=reg,
            multiprocess_mode="livemin",
        )
        self.outstanding = Gauge(
            "xks_hsm_outstanding",
            "HSM operations queued or running.",
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.stalled = Gauge(
            "xks_hsm_stalled",
            "1 while an HSM call has overrun the operation timeout (any worker).",
            registry=reg,
            multiprocess_mode="livemax",
        )
        self.open_connections = Gauge(
            "xks_connections", "Open client connections.", registry=reg, multiprocess_mode="livesum"
        )
        self.unauth_gauge = Gauge(
            "xks_connections_unauthenticated",
            "Connections with no authenticated request yet (TLS handshakes included).",
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.handshaking_gauge = Gauge(
            "xks_connections_handshaking",
            "Connections still in their TLS handshake.",
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.accepted = Counter("xks_connections_accepted", "Accepted client connections.", registry=reg)
        self.tls_rejected = Counter(
            "xks_tls_client_rejected",
            "TLS handshakes failed or client certificates with the wrong subject.",
            registry=reg,
        )
        self.refused_total = Counter(
            "xks_connections_refused", "Connections refused at accept, by limit.", ["reason"], registry=reg
        )
        self.closed_total = Counter(
            "xks_connections_closed", "Connections closed by the proxy, by reason.", ["reason"], registry=reg
        )
        self.replaced = Counter(
            "xks_hsm_replaced_sessions", "HSM sessions abandoned as stuck and replaced.", registry=reg
        )
        self.encryptions = Counter(
            "xks_key_encryptions",
            "GCM encryptions per external key (all workers; since the proxy started).",
            ["key"],
            registry=reg,
        )
        self.gcm_leased = Gauge(
            "xks_key_gcm_leased_invocations",
            "GCM invocations leased in the HSM per key by every proxy process of every host, ever "
            "(budget.py; NIST SP 800-38D caps random-IV encryptions at 2^32 per key).",
            ["key"],
            registry=reg,
            multiprocess_mode="max",
        )
        self.gcm_limit = Gauge(
            "xks_key_gcm_invocation_limit",
            "hsm.gcm_invocation_limit: encryption is refused before a key's leases would pass it.",
            registry=reg,
            multiprocess_mode="max",
        )
        self.hsm_health = "UNAVAILABLE"
        self.evicted: dict[str, int] = {}
        self.tls_failures = 0
        self.connections_total = 0
        self._synced: dict[tuple[str, str], float] = {}
        self._request_children: dict[tuple[str, str, int, str], Counter] = {}
        self._duration_children: dict[str, Histogram] = {}
        self.worker = 0

    def observe(self, keystore: str, operation: str, status: int, error: str, seconds: float) -> None:
        # Labelled children cached: ``labels()`` takes a lock and builds a key on every call.
        key = (keystore, operation, status, error)
        counter = self._request_children.get(key)
        if counter is None:
            counter = self._request_children[key] = self.requests.labels(
                keystore, operation, str(status), error
            )
        histogram = self._duration_children.get(operation)
        if histogram is None:
            histogram = self._duration_children[operation] = self.duration.labels(operation)
        counter.inc()
        histogram.observe(seconds)

    def _sync_counter(self, counter: Counter, name: str, total: float, *labels: str) -> None:
        """Bring ``counter`` up to ``total`` (a count kept elsewhere in this process)."""
        key = (name, "\0".join(labels))
        delta = total - self._synced.get(key, 0)
        if delta > 0:
            (counter.labels(*labels) if labels else counter).inc(delta)
            self._synced[key] = total

    def sync(
        self,
        *,
        outstanding: int,
        stalled: bool,
        connections: int,
        unauthenticated: int,
        handshaking: int,
        refused: Mapping[str, int],
        replaced_sessions: int,
        encryptions: Mapping[str, int],
        gcm_leased: Mapping[str, int],
        gcm_limit: int,
    ) -> None:
        self.hsm_health_gauge.set(HEALTH_VALUES[self.hsm_health])
        self.outstanding.set(outstanding)
        self.stalled.set(int(stalled))
        self.open_connections.set(connections)
        self.unauth_gauge.set(unauthenticated)
        self.handshaking_gauge.set(handshaking)
        self.gcm_limit.set(gcm_limit)
        self._sync_counter(self.accepted, "accepted", self.connections_total)
        self._sync_counter(self.tls_rejected, "tls", self.tls_failures)
        self._sync_counter(self.replaced, "replaced", replaced_sessions)
        for reason, n in refused.items():
            self._sync_counter(self.refused_total, "refused", n, reason)
        for reason, n in self.evicted.items():
            self._sync_counter(self.closed_total, "closed", n, reason)
        for key, n in encryptions.items():
            self._sync_counter(self.encryptions, "enc", n, key)
        for key, n in gcm_leased.items():
            self.gcm_leased.labels(key).set(n)

    def render(self) -> bytes:
        directory = multiprocess_dir()
        if directory is None:
            registry = self.registry
        else:
            registry = CollectorRegistry(auto_describe=False)
            MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        registry.register(self._fleet_collector)
        try:
            return generate_latest(registry)
        finally:
            registry.unregister(self._fleet_collector)
