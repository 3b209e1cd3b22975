"""Prometheus text-format metrics, served on a separate, non-public port (see server.py)."""

from __future__ import annotations

import bisect
import os
from collections import defaultdict

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
HEALTH_VALUES = {"ACTIVE": 2, "DEGRADED": 1, "UNAVAILABLE": 0}


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int, str], int] = defaultdict(int)
        self.latency_buckets: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.connections = 0
        self.connections_total = 0
        self.tls_failures = 0
        self.hsm_health = "UNAVAILABLE"
        self.hsm_outstanding = 0
        self.hsm_stalled = False
        self.hsm_replaced_sessions = 0
        self.unauthenticated = 0
        self.handshaking = 0
        self.refused: dict[str, int] = {}
        self.evicted: dict[str, int] = {}
        self.key_encryptions: dict[str, int] = {}
        self.worker = 0

    def observe(self, keystore: str, operation: str, status: int, error: str, seconds: float) -> None:
        self.requests[(keystore, operation, status, error)] += 1
        self.latency_buckets[operation][bisect.bisect_left(BUCKETS, seconds)] += 1
        self.latency_sum[operation] += seconds

    def render(self) -> bytes:
        lines = [
            "# HELP xks_worker The worker process that answered this scrape (metrics are per worker).",
            "# TYPE xks_worker gauge",
            f'xks_worker{{index="{self.worker}",pid="{os.getpid()}"}} 1',
            "# HELP xks_requests_total XKS API requests by key store, operation, HTTP status and errorName.",
            "# TYPE xks_requests_total counter",
        ]
        for (ks, op, status, err), n in sorted(self.requests.items()):
            lines.append(
                f'xks_requests_total{{keystore="{ks}",operation="{op}",status="{status}",error="{err}"}} {n}'
            )
        lines += [
            "# HELP xks_request_duration_seconds Time from a complete request to its response.",
            "# TYPE xks_request_duration_seconds histogram",
        ]
        for op, counts in sorted(self.latency_buckets.items()):
            acc = 0
            for bound, n in zip((*BUCKETS, float("inf")), counts, strict=True):
                acc += n
                le = "+Inf" if bound == float("inf") else repr(bound)
                lines.append(f'xks_request_duration_seconds_bucket{{operation="{op}",le="{le}"}} {acc}')
            lines.append(f'xks_request_duration_seconds_sum{{operation="{op}"}} {self.latency_sum[op]:.6f}')
            lines.append(f'xks_request_duration_seconds_count{{operation="{op}"}} {acc}')
        lines += [
            "# HELP xks_hsm_health HSM health from the deep probe: 2 ACTIVE, 1 DEGRADED, 0 UNAVAILABLE.",
            "# TYPE xks_hsm_health gauge",
            f"xks_hsm_health {HEALTH_VALUES[self.hsm_health]}",
            "# HELP xks_hsm_outstanding HSM operations queued or running.",
            "# TYPE xks_hsm_outstanding gauge",
            f"xks_hsm_outstanding {self.hsm_outstanding}",
            "# HELP xks_hsm_stalled 1 while an HSM call has overrun the operation timeout.",
            "# TYPE xks_hsm_stalled gauge",
            f"xks_hsm_stalled {int(self.hsm_stalled)}",
            "# HELP xks_connections Open client connections.",
            "# TYPE xks_connections gauge",
            f"xks_connections {self.connections}",
            "# HELP xks_connections_total Accepted client connections.",
            "# TYPE xks_connections_total counter",
            f"xks_connections_total {self.connections_total}",
            "# HELP xks_tls_client_rejected_total Connections closed for a client certificate with the wrong subject.",
            "# TYPE xks_tls_client_rejected_total counter",
            f"xks_tls_client_rejected_total {self.tls_failures}",
            "# HELP xks_connections_unauthenticated Connections with no authenticated request yet (TLS handshakes included).",
            "# TYPE xks_connections_unauthenticated gauge",
            f"xks_connections_unauthenticated {self.unauthenticated}",
            "# HELP xks_connections_handshaking Connections still in their TLS handshake.",
            "# TYPE xks_connections_handshaking gauge",
            f"xks_connections_handshaking {self.handshaking}",
            "# HELP xks_connections_refused_total Connections refused at accept, by limit.",
            "# TYPE xks_connections_refused_total counter",
            *(f'xks_connections_refused_total{{reason="{r}"}} {n}' for r, n in sorted(self.refused.items())),
            "# HELP xks_connections_closed_total Connections closed by the proxy, by reason.",
            "# TYPE xks_connections_closed_total counter",
            *(f'xks_connections_closed_total{{reason="{r}"}} {n}' for r, n in sorted(self.evicted.items())),
            "# HELP xks_hsm_replaced_sessions_total HSM sessions abandoned as stuck and replaced.",
            "# TYPE xks_hsm_replaced_sessions_total counter",
            f"xks_hsm_replaced_sessions_total {self.hsm_replaced_sessions}",
            "# HELP xks_key_encryptions_total Encryptions per external key by this process (NIST SP 800-38D: 2^32 per key with random IVs).",
            "# TYPE xks_key_encryptions_total counter",
            *(f'xks_key_encryptions_total{{key="{k}"}} {n}' for k, n in sorted(self.key_encryptions.items())),
        ]
        return ("\n".join(lines) + "\n").encode()
