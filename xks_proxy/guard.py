"""Admission control for client connections: who gets a connection slot, and for how long.

The threat (docs/xks-proxy.md, "Threat model"): anyone on the Internet can open connections to the
proxy and send unauthenticated requests; the access key id is not secret. KMS must still be served
within its 250 ms timeout. The rules:

- a connection is *unauthenticated* from accept until one of its requests passes SigV4; such
  connections share a bounded pool (``max_unauthenticated``, TLS handshakes included). When the pool
  is full the *oldest* unauthenticated connection is evicted to admit the new one, so a flood cannot
  keep a newcomer (KMS) out: it can only make everyone's window shorter;
- per source address: at most ``max_unauthenticated_per_ip`` unauthenticated connections and
  ``connection_rate_per_ip`` new connections per second (token bucket, burst of 2 s), both totals over
  every worker process (kept in fleet.py's shared table, checked and taken atomically). With PROXY
  protocol from a trusted load balancer the source address is the client's, not the balancer's;
- ``max_connections`` and ``max_unauthenticated`` are per worker: they bound one process's descriptors
  and memory, and the oldest-first eviction that keeps a newcomer in is a per-process decision;
- an unauthenticated connection gets one request: any request that does not authenticate closes it
  (so each rejected request costs the attacker a TLS handshake), and it is closed if the handshake
  does not finish within ``handshake_timeout_s`` or no request authenticates within
  ``auth_timeout_s``;
- authenticated connections are never evicted; only a successfully authenticated request resets the
  idle timer.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from .fleet import FleetState

log = logging.getLogger("xks_proxy")


@dataclass(frozen=True)
class GuardLimits:
    max_connections: int
    max_unauthenticated: int
    max_unauthenticated_per_ip: int
    connection_rate_per_ip: float
    handshake_timeout_s: float
    auth_timeout_s: float
    idle_timeout_s: float


class Guarded(Protocol):
    source_ip: str
    authenticated: bool
    accepted_at: float
    last_authenticated: float
    handshaking: bool
    busy: bool

    def evict(self, reason: str) -> None: ...


class SampledLog:
    """At most ``per_second`` lines per event name; the next line says how many were suppressed."""

    def __init__(self, per_second: float = 5.0) -> None:
        self.per_second = per_second
        self._window: dict[str, tuple[float, int, int]] = {}  # event -> (window start, logged, dropped)

    def warning(self, event: str, **fields: object) -> None:
        now = time.monotonic()
        start, logged, dropped = self._window.get(event, (now, 0, 0))
        if now - start >= 1.0:
            start, logged = now, 0
        if logged >= self.per_second:
            self._window[event] = (start, logged, dropped + 1)
            return
        if dropped:
            fields["suppressed_since_last"] = dropped
        self._window[event] = (start, logged + 1, 0)
        log.warning(event, extra={"fields": fields})


class ConnectionGuard:
    def __init__(self, limits: GuardLimits, fleet: FleetState | None = None, worker: int = 0) -> None:
        self.limits = limits
        self.fleet = fleet or FleetState(1)
        self.worker = worker
        self.connections: set[Guarded] = set()
        self.unauthenticated: OrderedDict[Guarded, None] = OrderedDict()  # oldest first
        self.unauth_per_ip: dict[str, int] = {}  # this worker's share; the totals are in the fleet table
        self.rejected: dict[str, int] = {}
        self.rejections = SampledLog()

    # -------------------------------------------------------------------- counts

    @property
    def handshaking(self) -> int:
        return sum(1 for c in self.unauthenticated if c.handshaking)

    def _reject(self, reason: str, ip: str) -> bool:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        self.rejections.warning("connection_refused", reason=reason, source=ip)
        return False

    # -------------------------------------------------------------------- life cycle

    def admit(self, conn: Guarded, per_ip_limits: bool = True) -> bool:
        """A new connection (or a new source address learnt from PROXY protocol): admit or refuse.

        ``per_ip_limits`` is False for a trusted load balancer's connection until its PROXY header
        names the client: the balancer's own address carries everyone's traffic.
        """
        ip, lim = conn.source_ip, self.limits
        refused = self.fleet.admit_source(
            ip,
            self.worker,
            lim.connection_rate_per_ip,
            lim.connection_rate_per_ip * 2,
            lim.max_unauthenticated_per_ip,
            check=per_ip_limits,
        )
        if refused:
            return self._reject(refused, ip)
        if len(self.connections) >= lim.max_connections or (
            len(self.unauthenticated) >= lim.max_unauthenticated
        ):
            if not self.unauthenticated:
                self.fleet.release_source(ip, self.worker)
                return self._reject("max_connections", ip)  # every slot is an authenticated client
            oldest = next(iter(self.unauthenticated))
            self.forget(oldest)
            oldest.evict("evicted_for_newer_connection")
        self.connections.add(conn)
        self.unauthenticated[conn] = None
        self.unauth_per_ip[ip] = self.unauth_per_ip.get(ip, 0) + 1
        return True

    def _drop_unauth(self, conn: Guarded) -> None:
        if self.unauthenticated.pop(conn, 0) is None:
            self.fleet.release_source(conn.source_ip, self.worker)
            n = self.unauth_per_ip.get(conn.source_ip, 0) - 1
            if n > 0:
                self.unauth_per_ip[conn.source_ip] = n
            else:
                self.unauth_per_ip.pop(conn.source_ip, None)

    def forget(self, conn: Guarded) -> None:
        self._drop_unauth(conn)
        self.connections.discard(conn)

    def move(self, conn: Guarded, new_ip: str) -> bool:
        """The source address changed (PROXY protocol header): re-admit under the real address."""
        self.forget(conn)
        conn.source_ip = new_ip
        return self.admit(conn)

    def authenticated(self, conn: Guarded) -> None:
        conn.last_authenticated = time.monotonic()
        if not conn.authenticated:
            conn.authenticated = True
            self._drop_unauth(conn)

    def sweep(self) -> None:
        """Once a second: handshake, first-request and idle timeouts."""
        now = time.monotonic()
        lim = self.limits
        for conn in list(self.connections):
            if conn.busy:
                continue
            if not conn.authenticated:
                age = now - conn.accepted_at
                if conn.handshaking and age > lim.handshake_timeout_s:
                    self.forget(conn)
                    conn.evict("handshake_timeout")
                elif age > lim.auth_timeout_s:
                    self.forget(conn)
                    conn.evict("no_authenticated_request")
            elif now - conn.last_authenticated > lim.idle_timeout_s:
                self.forget(conn)
                conn.evict("idle")
