"""HTTPS server: asyncio protocols, HTTP/1.1 keep-alive, TLS 1.2+ terminated here, optional mTLS.

The HTTP layer is deliberately small: the XKS API is POST + Content-Length JSON, answered with JSON.
Keep-alive connections (KMS reuses them) and a parser with no per-request allocations beyond the
request itself keep a single Python process well above AWS's 1,800 requests/s quota per key store.
Limits: 16 KiB of headers, 64 KiB of body (the largest legal XKS request is about 33 KiB), no chunked
bodies, idle connections closed after ``idle_timeout_s``, half-sent requests after 10 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

from .api import Outcome, Request, XksApi
from .config import ConfigError, ProxyConfig, TlsConfig, load_config
from .errors import ThrottlingException, ValidationException, XksError
from .hsm import HsmUnavailable, Pkcs11Hsm
from .metrics import Metrics

log = logging.getLogger("xks_proxy")

MAX_HEADER = 16 * 1024
MAX_BODY = 64 * 1024
HEADER_TIMEOUT_S = 10.0
MAX_IN_FLIGHT = 2048
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


def tls_context(tls: TlsConfig) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # TLS 1.2: forward-secret AEAD suites only (the spec's list plus their AES-128/ChaCha siblings);
    # TLS 1.3 suites are all AEAD and stay at OpenSSL's defaults.
    ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION | ssl.OP_CIPHER_SERVER_PREFERENCE
    ctx.load_cert_chain(str(tls.certificate), str(tls.private_key))
    ctx.set_alpn_protocols(["http/1.1"])
    if tls.client_ca is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=str(tls.client_ca))
    return ctx


def _client_cn(peercert: Any) -> str | None:
    if not peercert:
        return None
    for rdn in peercert.get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                return str(value)
    return None


class HttpProtocol(asyncio.Protocol):
    """One client connection. Requests on a connection are answered in order (pipelining-safe)."""

    def __init__(self, server: ProxyServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.busy = False
        self.closing = False
        self.last_active = time.monotonic()
        self.partial_since: float | None = None
        self.peer = "-"

    # asyncio callbacks -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        srv = self.server
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "-"
        if len(srv.connections) >= srv.cfg.max_connections:
            transport.abort()
            return
        tls = srv.cfg.tls
        if tls is not None and tls.client_subject_cn is not None:
            cn = _client_cn(transport.get_extra_info("peercert"))
            if cn != tls.client_subject_cn:
                # Spec: terminate when the client certificate has a different subject name.
                srv.metrics.tls_failures += 1
                log.warning("tls_client_rejected", extra={"fields": {"peer": self.peer, "subjectCN": cn}})
                transport.abort()
                return
        srv.connections.add(self)
        srv.metrics.connections = len(srv.connections)
        srv.metrics.connections_total += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.server.connections.discard(self)
        self.server.metrics.connections = len(self.server.connections)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self.last_active = time.monotonic()
        if len(self.buf) > MAX_HEADER + MAX_BODY + 1024 and self.transport:
            self.transport.pause_reading()  # a client pipelining too much waits for us
        if not self.busy:
            self._next()

    # parsing -----------------------------------------------------------------------------------

    def _next(self) -> None:  # noqa: PLR0911, PLR0912, PLR0915
        """Parse one complete request from the buffer, if there is one, and start handling it."""
        buf = self.buf
        if not buf:
            self.partial_since = None
            return
        end = buf.find(b"\r\n\r\n", 0, MAX_HEADER + 4)
        if end < 0:
            if len(buf) > MAX_HEADER:
                self._fail(ValidationException("request headers exceed 16 KiB"))
            elif self.partial_since is None:
                self.partial_since = time.monotonic()
            return
        try:
            head = bytes(buf[:end]).decode("latin-1")
            lines = head.split("\r\n")
            method, target, version = lines[0].split(" ")
            if not version.startswith("HTTP/1."):
                raise ValueError
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if not sep or not name or name != name.strip():
                    raise ValueError
                lname = name.lower()
                if lname in headers:
                    if lname in (
                        "content-length",
                        "host",
                        "authorization",
                        "x-amz-date",
                        "transfer-encoding",
                    ):
                        raise ValueError  # duplicated framing or auth headers: refuse, do not guess
                    headers[lname] += "," + value.strip()
                else:
                    headers[lname] = value.strip()
        except ValueError:
            self._fail(ValidationException("malformed HTTP request"))
            return
        if "transfer-encoding" in headers:
            self._fail(ValidationException("chunked request bodies are not supported; send Content-Length"))
            return
        cl = headers.get("content-length", "0")
        if not cl.isdigit():
            self._fail(ValidationException("malformed Content-Length"))
            return
        length = int(cl)
        if length > MAX_BODY:
            self._fail(ValidationException(f"request body exceeds {MAX_BODY} bytes"))
            return
        total = end + 4 + length
        if len(buf) < total:
            if headers.get("expect", "").lower() == "100-continue" and len(buf) == end + 4 and self.transport:
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            if self.partial_since is None:
                self.partial_since = time.monotonic()
            return
        body = bytes(buf[end + 4 : total])
        del buf[:total]
        self.partial_since = None
        keep_alive = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
        self.busy = True
        req = Request(method, target, headers, body, self.peer)
        srv = self.server
        if srv.in_flight >= MAX_IN_FLIGHT:
            # The event loop itself is saturated: answer at once rather than let KMS time out.
            exc = ThrottlingException("the proxy is overloaded; retry later")
            self._respond(Outcome(exc.status, exc.body(), error=exc.error_name), keep_alive)
            return
        srv.in_flight += 1
        task = srv.loop.create_task(srv.api.handle(req))
        task.add_done_callback(lambda t: self._done(t, keep_alive))

    def _done(self, task: asyncio.Task[Outcome], keep_alive: bool) -> None:
        self.server.in_flight -= 1
        if task.cancelled():
            if self.transport:
                self.transport.abort()
            return
        self._respond(task.result(), keep_alive)

    def _respond(self, out: Outcome, keep_alive: bool) -> None:
        self.busy = False
        transport = self.transport
        if transport is None or self.closing or transport.is_closing():
            return
        head = (
            f"HTTP/1.1 {out.status} {_REASONS.get(out.status, 'Error')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(out.body)}\r\n"
        )
        if out.status == 405:
            head += "Allow: POST\r\n"
        if not keep_alive or self.server.draining:
            transport.write((head + "Connection: close\r\n\r\n").encode() + out.body)
            transport.close()
            self.closing = True
            return
        transport.write((head + "\r\n").encode() + out.body)
        self.last_active = time.monotonic()
        if self.buf:
            if len(self.buf) < MAX_HEADER + MAX_BODY:
                transport.resume_reading()
            self._next()

    def _fail(self, exc: XksError) -> None:
        """A request we cannot frame: answer it and close, since the stream position is unknown."""
        self.busy = True
        self.buf.clear()
        self.server.metrics.observe("-", "unknown", exc.status, exc.error_name, 0.0)
        self._respond(Outcome(exc.status, exc.body(), error=exc.error_name), keep_alive=False)


class OpsProtocol(asyncio.Protocol):
    """Plain-HTTP metrics and load-balancer health endpoint, on a private port."""

    def __init__(self, server: ProxyServer) -> None:
        self.server = server
        self.buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 8192:
                self.transport.close()
            return
        line = self.buf.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ")
        path = parts[1] if len(parts) == 3 else ""
        srv = self.server
        if path == "/metrics":
            srv.metrics.hsm_outstanding = srv.hsm.outstanding
            srv.metrics.hsm_stalled = srv.hsm.stalled
            status, ctype, body = "200 OK", "text/plain; version=0.0.4", srv.metrics.render()
        elif path == "/healthz":
            # Load balancer check: in rotation while the HSM can serve (ACTIVE or DEGRADED).
            ok = srv.api.health.status != "UNAVAILABLE" and not srv.draining
            status = "200 OK" if ok else "503 Service Unavailable"
            ctype, body = "text/plain", (srv.api.health.status + "\n").encode()
        else:
            status, ctype, body = "404 Not Found", "text/plain", b"not found\n"
        self.transport.write(
            f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + body
        )
        self.transport.close()


class ProxyServer:
    def __init__(self, cfg: ProxyConfig, config_path: str | None = None) -> None:
        self.cfg = cfg
        self.config_path = config_path
        self.metrics = Metrics()
        self.hsm = Pkcs11Hsm(cfg.hsm)
        self.api = XksApi(cfg, self.hsm, self.metrics)
        self.connections: set[HttpProtocol] = set()
        self.in_flight = 0
        self.draining = False
        self.loop: asyncio.AbstractEventLoop = asyncio.get_event_loop_policy().get_event_loop()
        self._servers: list[asyncio.Server] = []
        self._sweeper: asyncio.Task[None] | None = None
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
        self.api.health.start()
        ssl_ctx = tls_context(self.cfg.tls) if self.cfg.tls else None
        if ssl_ctx is None:
            log.warning("tls_disabled", extra={"fields": {"detail": "plain HTTP: for local tests only"}})
        api_server = await self.loop.create_server(
            lambda: HttpProtocol(self),
            self.cfg.listen_host,
            self.cfg.listen_port,
            ssl=ssl_ctx,
            ssl_handshake_timeout=10,
            backlog=1024,
            reuse_address=True,
        )
        ops_server = await self.loop.create_server(
            lambda: OpsProtocol(self), self.cfg.metrics_host, self.cfg.metrics_port, reuse_address=True
        )
        self._servers = [api_server, ops_server]
        self.port = api_server.sockets[0].getsockname()[1]
        self.metrics_port = ops_server.sockets[0].getsockname()[1]
        for sock in api_server.sockets:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sweeper = self.loop.create_task(self._sweep())
        log.info(
            "listening",
            extra={
                "fields": {
                    "api": f"{self.cfg.listen_host}:{self.port}",
                    "tls": ssl_ctx is not None,
                    "mtls": bool(self.cfg.tls and self.cfg.tls.client_ca),
                    "metrics": f"{self.cfg.metrics_host}:{self.metrics_port}",
                    "keystores": [ks.uri_path for ks in self.cfg.keystores],
                }
            },
        )

    async def _sweep(self) -> None:
        """Close idle keep-alive connections and half-sent requests (slowloris), once a second."""
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for conn in list(self.connections):
                if conn.busy or conn.transport is None:
                    continue
                if conn.partial_since is not None and now - conn.partial_since > HEADER_TIMEOUT_S:
                    conn.transport.abort()
                elif now - conn.last_active > self.cfg.idle_timeout_s:
                    conn.transport.close()

    def reload(self) -> None:
        """SIGHUP: re-read the config file's key stores (credential rotation) without dropping connections."""
        if not self.config_path:
            return
        try:
            new = load_config(self.config_path)
        except ConfigError as exc:
            log.error("reload_failed", extra={"fields": {"error": str(exc)}})
            return
        self.api.reload_keystores(new)
        log.info("reloaded", extra={"fields": {"keystores": [ks.uri_path for ks in new.keystores]}})

    async def stop(self) -> None:
        self.draining = True
        for srv in self._servers:
            srv.close()
        deadline = time.monotonic() + 5
        while self.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        for conn in list(self.connections):
            if conn.transport:
                conn.transport.close()
        if self._sweeper:
            self._sweeper.cancel()
        self.api.health.stop()
        await self.hsm.stop()
        self.stopped.set()


async def serve(
    cfg: ProxyConfig, config_path: str | None, ready: Callable[[ProxyServer], None] | None = None
) -> None:
    server = ProxyServer(cfg, config_path)
    await server.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGHUP, server.reload)
    if ready:
        ready(server)
    await stop.wait()
    log.info("stopping")
    await server.stop()
