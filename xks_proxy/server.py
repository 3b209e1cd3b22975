"""The proxy process: API listener (transport.py, guard.py), private ops port, HSM pool, workers.

``server.workers`` processes (default: one per core) each bind the same API and ops ports with
SO_REUSEPORT, so the kernel spreads connections across them; each has its own event loop, HSM worker
threads and PKCS#11 sessions. What must hold for the proxy as a whole is shared (fleet.py): per-address
and per-key-store limits, heartbeats, the config generation. A scrape or ``/healthz`` probe reaches one
worker but answers for all of them: metrics are aggregated over every worker (metrics.py), and
``/healthz`` fails while any worker has stopped beating or cannot reach the HSM.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import pickle
import resource
import signal
import socket
import ssl
import time
from collections.abc import Callable
from http import HTTPStatus

from .api import XksApi
from .config import ConfigError, ProxyConfig, TlsConfig, reload_config
from .fleet import FleetState
from .guard import ConnectionGuard, GuardLimits
from .hsm import HsmUnavailable, Pkcs11Hsm
from .metrics import Metrics
from .transport import ClientConnection

log = logging.getLogger("xks_proxy")

OPS_MAX_CONNECTIONS = 32
OPS_TIMEOUT_S = 5.0


def tls_context(tls: TlsConfig) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # TLS 1.2: forward-secret AEAD suites only (the spec's list plus their AES-128/ChaCha siblings);
    # TLS 1.3 suites are all AEAD and stay at OpenSSL's defaults.
    ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
    # No session tickets: a ticket key living as long as the process would let its theft decrypt
    # every resumed session's traffic; KMS keeps connections open, so resumption buys little.
    ctx.options |= (
        ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_TICKET
    )
    ctx.num_tickets = 0
    ctx.load_cert_chain(str(tls.certificate), str(tls.private_key))
    ctx.set_alpn_protocols(["http/1.1"])
    if tls.client_ca is not None and tls.client_certificate != "off":
        # "optional": a certificate presented is verified against the CA (a bad one fails the handshake);
        # none presented is accepted. config.py says why the default is optional.
        ctx.verify_mode = ssl.CERT_REQUIRED if tls.client_certificate == "required" else ssl.CERT_OPTIONAL
        ctx.load_verify_locations(cafile=str(tls.client_ca))
    return ctx


class OpsProtocol(asyncio.Protocol):
    """Plain-HTTP metrics and load-balancer health endpoint, on a private port (capped, timed out)."""

    def __init__(self, server: ProxyServer) -> None:
        self.server = server
        self.buf = b""
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        srv = self.server
        if len(srv.ops_connections) >= OPS_MAX_CONNECTIONS:
            # Full: the oldest goes, so idle connections cannot keep the balancer's probe out.
            oldest = next(iter(srv.ops_connections))
            srv.ops_connections.pop(oldest)
            oldest.transport.abort()
        srv.ops_connections[self] = None
        self.timer = srv.loop.call_later(OPS_TIMEOUT_S, transport.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.ops_connections.pop(self, None)
        if self.timer:
            self.timer.cancel()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 8192:
                self.transport.abort()
            return
        line = self.buf.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        path = parts[1] if len(parts) == 3 else ""
        srv = self.server
        if path == "/metrics":
            srv.refresh_gauges()
            status, ctype, body = HTTPStatus.OK, "text/plain; version=0.0.4", srv.metrics.render()
        elif path == "/healthz":
            # Load balancer check: in rotation while every worker beats and can reach the HSM
            # (ACTIVE or DEGRADED): the kernel gives any worker its share of connections.
            ok, detail = srv.fleet_health()
            status = HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE
            ctype, body = "text/plain", (srv.api.health.status + "\n" + detail).encode()
        else:
            status, ctype, body = HTTPStatus.NOT_FOUND, "text/plain", b"not found\n"
        self.transport.write(
            f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        self.transport.close()


class ProxyServer:
    def __init__(  # noqa: PLR0917
        self,
        cfg: ProxyConfig,
        config_path: str | None = None,
        reuse_port: bool = False,
        fleet: FleetState | None = None,
        worker: int = 0,
        generation: int = 1,
    ) -> None:
        self.cfg = cfg
        self.reuse_port = reuse_port
        self.config_path = config_path
        # One process alone owns its table; workers share the parent's (workers.py).
        self.owns_fleet = fleet is None
        self.fleet = fleet or FleetState(1)
        self.worker = worker
        self.generation = generation
        if self.owns_fleet:
            self.fleet.set_generation(generation)
        self.metrics = Metrics(self.fleet, cfg.heartbeat_timeout_s)
        self.metrics.worker = worker
        self.hsm = Pkcs11Hsm(cfg.hsm)
        self.api = XksApi(cfg, self.hsm, self.metrics, self.fleet)
        self.guard = ConnectionGuard(
            GuardLimits(
                max_connections=cfg.max_connections,
                max_unauthenticated=cfg.max_unauthenticated,
                max_unauthenticated_per_ip=cfg.max_unauthenticated_per_ip,
                connection_rate_per_ip=cfg.connection_rate_per_ip,
                handshake_timeout_s=cfg.handshake_timeout_s,
                auth_timeout_s=cfg.auth_timeout_s,
                idle_timeout_s=cfg.idle_timeout_s,
            ),
            self.fleet,
            worker,
        )
        self.ssl_context = tls_context(cfg.tls) if cfg.tls else None
        self._trusted_lbs = tuple(ipaddress.ip_network(n, strict=False) for n in cfg.proxy_protocol_from)
        self.ops_connections: dict[OpsProtocol, None] = {}  # insertion order: oldest first
        self.in_flight = 0
        self.draining = False
        self.loop: asyncio.AbstractEventLoop = asyncio.get_event_loop_policy().get_event_loop()
        self._servers: list[asyncio.Server] = []
        self._sweeper: asyncio.Task[None] | None = None
        self._heart: asyncio.Task[None] | None = None
        self._control = bytearray()
        self.stopped = asyncio.Event()
        self.port = cfg.listen_port
        self.metrics_port = cfg.metrics_port

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        try:
            await self.loop.run_in_executor(None, self.hsm.connect)
        except HsmUnavailable as exc:
            # Start anyway: health says UNAVAILABLE and the proxy reconnects by itself.
            log.error("hsm_unavailable_at_start", extra={"fields": {"reason": str(exc)}})
        info = self.hsm.token_info
        if self.cfg.is_software_hsm or (info and "softhsm" in (info.manufacturer + info.model).lower()):
            log.warning(
                "software_hsm",
                extra={
                    "fields": {"detail": "SoftHSM holds keys in files on this host: not fit for production"}
                },
            )
        self.hsm.start(self.loop)
        # One probe before listening: the first heartbeat, and /healthz, carry the real HSM health.
        await self.api.health.probe_now()
        self.api.health.start()
        ssl_ctx = self.ssl_context
        if ssl_ctx is None:
            log.warning("tls_disabled", extra={"fields": {"detail": "plain HTTP: for local tests only"}})
        raise_fd_limit(self.cfg.max_connections + OPS_MAX_CONNECTIONS + 256)
        api_server = await self.loop.create_server(
            lambda: ClientConnection(self),
            self.cfg.listen_host,
            self.cfg.listen_port,
            backlog=1024,
            reuse_address=True,
            reuse_port=self.reuse_port,
        )
        ops_server = await self.loop.create_server(
            lambda: OpsProtocol(self),
            self.cfg.metrics_host,
            self.metrics_port,
            reuse_address=True,
            reuse_port=self.reuse_port,
        )
        self._servers = [api_server, ops_server]
        self.port = api_server.sockets[0].getsockname()[1]
        self.metrics_port = ops_server.sockets[0].getsockname()[1]
        for sock in api_server.sockets:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sweeper = self.loop.create_task(self._sweep())
        self.fleet.beat(self.worker, self.generation, self.api.health.status)
        self._heart = self.loop.create_task(self._heartbeat())
        log.info(
            "listening",
            extra={
                "fields": {
                    "api": f"{self.cfg.listen_host}:{self.port}",
                    "tls": ssl_ctx is not None,
                    "mtls": self.cfg.tls.client_certificate if self.cfg.tls else "off",
                    "metrics": f"{self.cfg.metrics_host}:{self.metrics_port}",
                    "keystores": [ks.uri_path for ks in self.cfg.keystores],
                }
            },
        )

    async def _sweep(self) -> None:
        """Handshake, first-request and idle timeouts (guard.py), once a second."""
        while True:
            await asyncio.sleep(1.0)
            self.guard.sweep()

    async def _heartbeat(self) -> None:
        """Tell the parent (fleet table) this event loop runs, and publish this worker's counters."""
        interval = min(0.5, self.cfg.heartbeat_timeout_s / 4)
        while True:
            self.fleet.beat(self.worker, self.generation, self.api.health.status)
            self.refresh_gauges()
            await asyncio.sleep(interval)

    def fleet_health(self) -> tuple[bool, str]:
        """Whether every worker beats and reaches the HSM (and this one is not draining), with one line each."""
        now = time.monotonic()
        stale_after = self.cfg.heartbeat_timeout_s / 2
        ok = not self.draining and self.api.health.status != "UNAVAILABLE"
        lines = []
        for view in self.fleet.worker_views():
            if view.index == self.worker:
                health, age = self.api.health.status, 0.0
            else:
                health, age = view.health, now - view.heartbeat
            alive = bool(view.pid) and age < stale_after
            ok = ok and alive and health != "UNAVAILABLE"
            state = health if alive else "NOT-ANSWERING"
            lines.append(f"worker {view.index}: {state}\n")
        return ok, "".join(lines)

    def trusts_proxy_header(self, ip: str) -> bool:
        if not self._trusted_lbs:
            return False
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in net for net in self._trusted_lbs)

    def refresh_gauges(self) -> None:
        self.metrics.sync(
            outstanding=self.hsm.outstanding,
            stalled=self.hsm.stalled,
            connections=len(self.guard.connections),
            unauthenticated=len(self.guard.unauthenticated),
            handshaking=self.guard.handshaking,
            refused=self.guard.rejected,
            replaced_sessions=self.hsm.replaced_sessions,
            encryptions=self.hsm.encryptions,
            gcm_leased=self.hsm.budget.leased,
            gcm_limit=self.cfg.hsm.gcm_invocation_limit,
        )

    def apply_config(self, new: ProxyConfig, generation: int) -> None:
        """Serve a validated config: key stores (credentials, allowed keys, quotas) and log level."""
        self.api.reload_keystores(new)
        logging.getLogger("xks_proxy").setLevel(new.log_level)
        self.cfg, self.generation = new, generation
        self.fleet.beat(self.worker, generation, self.api.health.status)
        log.info(
            "reloaded",
            extra={"fields": {"generation": generation, "keystores": [ks.uri_path for ks in new.keystores]}},
        )

    def reload(self) -> None:
        """SIGHUP with one process: re-read and validate the config file, then serve it (or keep the old)."""
        if not self.config_path:
            return
        try:
            new = reload_config(self.config_path, self.cfg)
        except ConfigError as exc:
            self.fleet.count_reload_failure()
            log.error("reload_failed", extra={"fields": {"error": str(exc), "generation": self.generation}})
            return
        generation = self.generation + 1
        self.fleet.set_generation(generation)
        self.apply_config(new, generation)

    def control_readable(self, fd: int) -> None:
        """Worker: configs from the parent, each a 4-byte length and a pickled (generation, config).

        The pipe is private between the parent and this worker (created before the fork), so the
        pickle is the parent's own. End of file means the parent is gone: stop.
        """
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return
        if not chunk:
            self.loop.remove_reader(fd)
            log.error("parent_gone", extra={"fields": {"worker": self.worker}})
            os.kill(os.getpid(), signal.SIGTERM)
            return
        self._control += chunk
        while len(self._control) >= 4:
            size = int.from_bytes(self._control[:4], "big")
            if len(self._control) < 4 + size:
                return
            generation, cfg = pickle.loads(bytes(self._control[4 : 4 + size]))  # noqa: S301 - our parent
            del self._control[: 4 + size]
            self.apply_config(cfg, generation)

    async def stop(self) -> None:
        self.draining = True
        for srv in self._servers:
            srv.close()
        deadline = time.monotonic() + 5
        while self.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for conn in list(self.guard.connections):
            conn.evict("shutdown")
        if self._sweeper:
            self._sweeper.cancel()
        if self._heart:
            self._heart.cancel()
        self.api.health.stop()
        await self.hsm.stop()
        self.stopped.set()


async def serve(  # noqa: PLR0917
    cfg: ProxyConfig,
    config_path: str | None,
    ready: Callable[[ProxyServer], None] | None = None,
    reuse_port: bool = False,
    worker: int = 0,
    fleet: FleetState | None = None,
    control_fd: int | None = None,
    generation: int = 1,
) -> None:
    server = ProxyServer(
        cfg, config_path, reuse_port=reuse_port, fleet=fleet, worker=worker, generation=generation
    )
    await server.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        if control_fd is None:
            loop.add_signal_handler(signal.SIGHUP, server.reload)
    if control_fd is not None:
        # A worker's config comes from the parent only: it alone re-reads the file on SIGHUP.
        os.set_blocking(control_fd, False)
        loop.add_reader(control_fd, server.control_readable, control_fd)
    if ready:
        ready(server)
    await stop.wait()
    log.info("stopping")
    await server.stop()


def raise_fd_limit(wanted: int) -> None:
    """Soft descriptor limit up to the hard one, and a warning if the connection caps exceed it.

    With every cap below the limit, accept() never fails for lack of descriptors: excess connections
    are accepted and closed at once instead of piling up in the backlog.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < wanted:
        log.warning(
            "fd_limit_low",
            extra={
                "fields": {
                    "limit": soft,
                    "needed": wanted,
                    "detail": "raise LimitNOFILE or lower server.max_connections",
                }
            },
        )
