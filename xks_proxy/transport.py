"""One client connection: PROXY protocol v2, TLS on memory BIOs, HTTP/1.1 with h11.

TLS is driven here (``ssl.SSLObject`` over memory BIOs) rather than by asyncio's ``ssl=`` so that a
connection is visible, counted and subject to the admission rules of ``guard.py`` from the moment it
is accepted, while still in its handshake, and so that a PROXY protocol header sent in clear before
the ClientHello by a trusted load balancer can be read first.

HTTP: h11 parses and frames (bad framing, a non-ASCII digit in Content-Length, NUL or a bare CR in
a header, conflicting Content-Length are its RemoteProtocolError), with two stricter rules of ours:
the header block must use CRLF only (h11 accepts a bare LF as a line end, which RFC 9112 lets a
server reject and which hides headers from other parsers), and bodies are Content-Length only, at
most 64 KiB. A request that cannot be framed gets 400 and the connection is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import ssl
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import h11

from .api import Outcome, Request
from .errors import ThrottlingException, ValidationException, XksError

if TYPE_CHECKING:
    from .server import ProxyServer

log = logging.getLogger("xks_proxy")

MAX_HEADER = 16 * 1024
MAX_BODY = 64 * 1024  # the largest legal XKS request is about 33 KiB
MAX_IN_FLIGHT = 2048
_READ_CHUNK = 256 * 1024
PROXY_V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
_JSON_HEADERS = [(b"content-type", b"application/json")]


class ProxyHeaderError(ValueError):
    pass


def parse_proxy_v2(buf: bytes | bytearray) -> tuple[int, str | None] | None:
    """(header length, client address or None for LOCAL) or None if more bytes are needed."""
    if len(buf) < 16:
        if not PROXY_V2_SIGNATURE.startswith(bytes(buf[:12])):
            raise ProxyHeaderError("not a PROXY protocol v2 header")
        return None
    if bytes(buf[:12]) != PROXY_V2_SIGNATURE:
        raise ProxyHeaderError("not a PROXY protocol v2 header")
    ver_cmd, family = buf[12], buf[13]
    length = 16 + int.from_bytes(buf[14:16], "big")
    if ver_cmd >> 4 != 2 or ver_cmd & 0xF not in (0, 1) or length > 16 + 536:
        raise ProxyHeaderError("unsupported PROXY protocol version or command")
    if len(buf) < length:
        return None
    if ver_cmd & 0xF == 0:  # LOCAL: the balancer's own connection (e.g. a health check)
        return length, None
    if family == 0x11 and length >= 16 + 12:
        return length, str(ipaddress.IPv4Address(bytes(buf[16:20])))
    if family == 0x21 and length >= 16 + 36:
        return length, str(ipaddress.IPv6Address(bytes(buf[16:32])))
    raise ProxyHeaderError("PROXY protocol v2 header is not TCP over IPv4 or IPv6")


def _client_cn(peercert: Any) -> str | None:
    if not peercert:
        return None
    for rdn in peercert.get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                return str(value)
    return None


class ClientConnection(asyncio.Protocol):
    """Phases: PROXY header (trusted balancer only) -> TLS handshake -> HTTP requests, in order."""

    def __init__(self, server: ProxyServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.peer = "-"
        self.source_ip = "-"
        self.accepted_at = time.monotonic()
        self.last_authenticated = 0.0
        self.authenticated = False
        self.handshaking = server.ssl_context is not None
        self.busy = False
        self.closed = False
        self._proxy_pending = False
        self._proxy_buf = bytearray()
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls: ssl.SSLObject | None = None
        self._inbuf = bytearray()
        self._http = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEADER)
        self._head_checked = False
        self._body_left = 0
        self._request: h11.Request | None = None
        self._body = bytearray()

    # ------------------------------------------------------------------ asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        srv = self.server
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.source_ip = str(peer[0])
            self.peer = f"{peer[0]}:{peer[1]}"
        self._proxy_pending = srv.trusts_proxy_header(self.source_ip)
        if not srv.guard.admit(self, per_ip_limits=not self._proxy_pending):
            self.closed = True
            transport.abort()
            return
        srv.metrics.connections_total += 1
        if srv.ssl_context is not None:
            self._tls = srv.ssl_context.wrap_bio(self._incoming, self._outgoing, server_side=True)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.guard.forget(self)

    def evict(self, reason: str) -> None:
        """Called by the guard: close now (no response; the client sent nothing we owe one for)."""
        if not self.closed:
            self.closed = True
            self.server.metrics.evicted[reason] = self.server.metrics.evicted.get(reason, 0) + 1
            if self.transport is not None:
                self.transport.abort()

    def data_received(self, data: bytes) -> None:  # noqa: PLR0911, PLR0912
        if self.closed:
            return
        if self._proxy_pending:
            data = self._read_proxy_header(data)
            if not data:
                return
        if self._tls is None:
            self._http_data(data)
            return
        self._incoming.write(data)
        if self.handshaking:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                return
            except (ssl.SSLError, OSError) as exc:
                self._flush()
                self.server.metrics.tls_failures += 1
                self.server.guard.rejections.warning(
                    "tls_handshake_failed", source=self.source_ip, error=type(exc).__name__
                )
                self._abort()
                return
            self._flush()
            if not self._handshake_done():
                return
        chunks = []
        try:
            while True:
                chunk = self._tls.read(_READ_CHUNK)
                if not chunk:
                    break
                chunks.append(chunk)
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLZeroReturnError, ssl.SSLError, OSError):
            self._flush()
            self._close()
            return
        if chunks:
            self._http_data(b"".join(chunks))

    # ------------------------------------------------------------------ PROXY protocol and TLS

    def _read_proxy_header(self, data: bytes) -> bytes:
        self._proxy_buf += data
        try:
            parsed = parse_proxy_v2(self._proxy_buf)
        except ProxyHeaderError as exc:
            self.server.guard.rejections.warning("proxy_header_rejected", source=self.peer, error=str(exc))
            self._abort()
            return b""
        if parsed is None:
            return b""
        length, client = parsed
        rest = bytes(self._proxy_buf[length:])
        self._proxy_buf.clear()
        self._proxy_pending = False
        if client is not None:
            self.peer = f"{client} via {self.peer}"
            if not self.server.guard.move(self, client):
                self.closed = True
                if self.transport is not None:
                    self.transport.abort()
                return b""
        return rest

    def _handshake_done(self) -> bool:
        assert self._tls is not None
        self.handshaking = False
        tls = self.server.cfg.tls
        if tls is not None and tls.client_subject_cn is not None:
            peercert = self._tls.getpeercert()
            if not peercert and tls.client_certificate == "optional":
                return True  # no certificate presented: SigV4 still authenticates every request
            cn = _client_cn(peercert)
            if cn != tls.client_subject_cn:
                # Spec: terminate when the client certificate has a different subject name.
                self.server.metrics.tls_failures += 1
                self.server.guard.rejections.warning(
                    "tls_client_rejected", source=self.source_ip, subjectCN=cn
                )
                self._abort()
                return False
        return True

    def _flush(self) -> None:
        out = self._outgoing.read()
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(out)

    def _send(self, data: bytes) -> None:
        if self._tls is None:
            if self.transport is not None and not self.transport.is_closing():
                self.transport.write(data)
            return
        try:
            self._tls.write(data)
        except (ssl.SSLError, OSError):
            self._abort()
            return
        self._flush()

    def _abort(self) -> None:
        self.closed = True
        self.server.guard.forget(self)
        if self.transport is not None:
            self.transport.abort()

    def _close(self) -> None:
        """Graceful close: TLS close_notify, then FIN once written."""
        if self.closed:
            return
        self.closed = True
        self.server.guard.forget(self)
        if self._tls is not None:
            with contextlib.suppress(ssl.SSLError, OSError):
                self._tls.unwrap()
            self._flush()
        if self.transport is not None:
            self.transport.close()

    # ------------------------------------------------------------------ HTTP

    def _http_data(self, data: bytes) -> None:
        self._inbuf += data
        if len(self._inbuf) > MAX_HEADER + MAX_BODY + 1024 and self.transport is not None:
            self.transport.pause_reading()  # a client pipelining too much waits for us
        if not self.busy:
            self._next()

    def _next(self) -> None:
        """Frame one request from the buffer, if complete, and start handling it."""
        try:
            event = self._frame()
        except h11.RemoteProtocolError:
            self._fail(ValidationException("malformed HTTP request"))
            return
        except XksError as exc:
            self._fail(exc)
            return
        if event is None:
            return
        if event is h11.ConnectionClosed:
            self._close()
            return
        assert self._request is not None
        req = self._request
        body = bytes(self._body)
        self._request, self._body = None, bytearray()
        headers: dict[str, str] = {}
        for name, value in req.headers:
            key = name.decode("ascii")
            headers[key] = (
                f"{headers[key]},{value.decode('latin-1')}" if key in headers else value.decode("latin-1")
            )
        self.busy = True
        srv = self.server
        request = Request(req.method.decode("ascii"), req.target.decode("latin-1"), headers, body, self.peer)
        if srv.in_flight >= MAX_IN_FLIGHT:
            # The event loop itself is saturated: answer at once rather than let KMS time out.
            busy = ThrottlingException("the proxy is overloaded; retry later")
            self._respond(Outcome(busy.status, busy.body(), error=busy.error_name))
            return
        srv.in_flight += 1
        task = srv.loop.create_task(srv.api.handle(request))
        task.add_done_callback(self._done)

    def _frame(self) -> Any:  # noqa: PLR0912
        """Feed h11 one request at a time; returns True when a whole request is ready."""
        http = self._http
        while True:
            if http.their_state is h11.IDLE and not self._head_checked:
                end = self._inbuf.find(b"\r\n\r\n", 0, MAX_HEADER + 4)
                if end < 0:
                    if len(self._inbuf) > MAX_HEADER:
                        raise ValidationException("request headers exceed 16 KiB")
                    if b"\n\n" in self._inbuf or b"\r\n\n" in self._inbuf:
                        raise ValidationException("malformed HTTP request: header lines must end in CRLF")
                    return None
                head = self._inbuf[: end + 4]
                crlf = head.count(b"\r\n")
                if head.count(b"\n") != crlf or head.count(b"\r") != crlf:
                    raise ValidationException("malformed HTTP request: bare CR or LF in the header block")
                http.receive_data(bytes(head))
                del self._inbuf[: end + 4]
                self._head_checked = True
            event = http.next_event()
            if event is h11.NEED_DATA:
                if self._body_left and self._inbuf:
                    take = bytes(self._inbuf[: self._body_left])
                    del self._inbuf[: len(take)]
                    http.receive_data(take)
                    continue
                return None
            if event is h11.PAUSED:
                return None
            if isinstance(event, h11.Request):
                if http.their_http_version not in {b"1.1", b"1.0"}:
                    raise ValidationException("only HTTP/1.1 is supported")
                if any(n == b"transfer-encoding" for n, _ in event.headers):
                    raise ValidationException("chunked request bodies are not supported; send Content-Length")
                length = next((int(v) for n, v in event.headers if n == b"content-length"), 0)
                if length > MAX_BODY:
                    raise ValidationException(f"request body exceeds {MAX_BODY} bytes")
                self._request, self._body_left = event, length
                if any(n == b"expect" and v.lower() == b"100-continue" for n, v in event.headers):
                    self._send(http.send(h11.InformationalResponse(status_code=100, headers=[])))
            elif isinstance(event, h11.Data):
                self._body += event.data
                self._body_left -= len(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return True
            elif isinstance(event, h11.ConnectionClosed):
                return h11.ConnectionClosed

    def _done(self, task: asyncio.Task[Outcome]) -> None:
        self.server.in_flight -= 1
        if task.cancelled():
            self._abort()
            return
        self._respond(task.result())

    def _respond(self, out: Outcome) -> None:
        if out.authenticated:
            self.server.guard.authenticated(self)
        if self.closed or self.transport is None or self.transport.is_closing():
            return
        http = self._http
        headers = [*_JSON_HEADERS, (b"content-length", str(len(out.body)).encode())]
        if out.status == 405:
            headers.append((b"allow", b"POST"))
        # An unauthenticated connection gets one request; a failed authentication ends any connection.
        close = not self.authenticated or out.status == 401 or self.server.draining
        if close:
            headers.append((b"connection", b"close"))
        try:
            data = http.send(
                h11.Response(status_code=out.status, headers=headers, reason=HTTPStatus(out.status).phrase)
            )
            data = (
                (data or b"")
                + (http.send(h11.Data(data=out.body)) or b"")
                + (http.send(h11.EndOfMessage()) or b"")
            )
        except h11.LocalProtocolError:
            self._abort()
            return
        self._send(data)
        self.busy = False
        if http.our_state is h11.MUST_CLOSE or close:
            self._close()
            return
        http.start_next_cycle()
        self._head_checked = False
        if self._inbuf:
            if self.transport is not None and len(self._inbuf) < MAX_HEADER + MAX_BODY:
                self.transport.resume_reading()
            self._next()

    def _fail(self, exc: XksError) -> None:
        """A request we cannot frame: answer 400 and close, since the stream position is unknown."""
        self.server.metrics.observe("-", "unknown", exc.status, exc.error_name, 0.0)
        self.server.guard.rejections.warning("http_rejected", source=self.source_ip, error=exc.message)
        self._inbuf.clear()
        self.busy = True
        if self.closed:
            return
        if self._http.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            body = exc.body()
            raw = (
                f"HTTP/1.1 {exc.status} {HTTPStatus(exc.status).phrase}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode() + body
            self._send(raw)  # h11 refuses to send after the peer's protocol error: written as-is
        self._close()
