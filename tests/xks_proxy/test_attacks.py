"""The proxy under attack, on loopback: slot exhaustion, floods, malformed HTTP, a hung HSM session.

Attackers connect from other loopback addresses (127.0.0.2...) than the signed client (127.0.0.1),
as distinct Internet hosts would. Every loop is bounded; each test stays well under 30 s.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import statistics
import threading
import time
from typing import Any

import pytest

from tests.xks_proxy.test_xks_api import encrypt_payload, health_payload, wait_for
from tests.xks_proxy.xks_helpers import KEY, RunningProxy
from xks_proxy.errors import AuthenticationFailedException
from xks_proxy.transport import PROXY_V2_SIGNATURE


def _tcp(proxy: RunningProxy, src: str = "127.0.0.1", port: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((src, 0))
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port or proxy.server.port))
    return sock


def _tls(proxy: RunningProxy, src: str = "127.0.0.1", sock: socket.socket | None = None) -> ssl.SSLSocket:
    ctx = ssl.create_default_context(cafile=str(proxy.setup.ca_cert))
    return ctx.wrap_socket(sock or _tcp(proxy, src), server_hostname="localhost")


def _read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection (EOF), or a timeout error."""
    out = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return out
        out += chunk


def _signed_call_ms(proxy: RunningProxy) -> tuple[int, float]:
    """A fresh connection (as KMS after a reset), a signed health request: status and milliseconds."""
    client = proxy.client(timeout=5)
    start = time.perf_counter()
    try:
        r = client.call("health", health_payload())
    finally:
        client.close()
    return r.status, (time.perf_counter() - start) * 1000


# ----------------------------------------------------------------------------------- HTTP parser


@pytest.mark.parametrize(
    "raw",
    [
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: \xc2\xb2\r\n\r\nab",  # non-ASCII digit
        b"POST /x HTTP/1.1\r\nHost: a\r\nX-A: b\nContent-Length: 2\r\n\r\nab",  # bare LF hides a header
        b"POST /x HTTP/1.1\nHost: a\nContent-Length: 2\n\nab",  # LF-only request
        b"POST /x HTTP/1.1\r\nHost: a\x00b\r\nContent-Length: 2\r\n\r\nab",  # NUL
        b"POST /x HTTP/1.1\r\nHost: a\r\nX-A: b\rContent-Length: 2\r\n\r\nab",  # bare CR
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab",
        b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 999999\r\n\r\n",
        b"GARBAGE\r\n\r\n",
    ],
    ids=[
        "superscript-two",
        "bare-lf-hidden-header",
        "lf-only",
        "nul",
        "bare-cr",
        "two-lengths",
        "chunked",
        "too-big",
        "garbage",
    ],
)
def test_malformed_http_gets_400_and_close(proxy: RunningProxy, raw: bytes) -> None:
    with _tls(proxy) as sock:
        sock.sendall(raw)
        reply = _read_all(sock)
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n"), reply[:200]
    assert b"connection: close" in head.lower()
    assert json.loads(body)["errorName"] == "ValidationException"
    assert proxy.client().call("health", health_payload()).status == 200  # the proxy is fine


# ----------------------------------------------------------------------------------- authentication


def test_failed_authentication_closes_the_connection_with_one_message(proxy: RunningProxy) -> None:
    path = f"{proxy.uri_path}/health"
    body = json.dumps(health_payload()).encode()
    replies = []
    for headers in (
        {"Content-Type": "application/json"},  # unsigned
        proxy.client().signed_headers(path, body, secret="w" * 44),  # wrong secret
    ):
        with _tls(proxy) as sock:
            head = "".join(
                f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() not in ("content-length", "host")
            )
            req = f"POST {path} HTTP/1.1\r\nHost: localhost\r\n{head}Content-Length: {len(body)}\r\n\r\n"
            # Two pipelined requests: the second must never be answered.
            sock.sendall(req.encode() + body + req.encode() + body)
            reply = _read_all(sock)
        assert reply.count(b"HTTP/1.1 ") == 1, reply
        replies.append(json.loads(reply.partition(b"\r\n\r\n")[2]))
    other = proxy.client()
    other.creds = other.creds.__class__("AAAAAAAAAAAAAAAAAAAAAAAA", proxy.secret)  # unknown access key id
    replies.append(other.call("health", health_payload()).body)
    expected = {
        "errorName": "AuthenticationFailedException",
        "errorMessage": AuthenticationFailedException.MESSAGE,
    }
    assert replies == [expected] * 3


def test_idle_timer_is_reset_only_by_authenticated_requests(proxy_factory: Any) -> None:
    proxy = proxy_factory(server_overrides={"auth_timeout_s": 1.0})
    with _tls(proxy, "127.0.0.2") as sock:
        # Half a request, trickled: without an authenticated request the connection still ends.
        sock.sendall(b"POST / HTTP/1.1\r\n")
        deadline = time.monotonic() + 4
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                sock.sendall(b"X-A: b\r\n")
                sock.settimeout(0.3)
                closed = sock.recv(1) == b""
            except TimeoutError:
                continue
            except OSError:
                closed = True
        assert closed


# ----------------------------------------------------------------------------------- exhaustion


def test_half_open_tls_and_unauthenticated_slots_cannot_lock_kms_out(proxy_factory: Any) -> None:
    proxy = proxy_factory(server_overrides={"max_unauthenticated": 64, "max_connections": 128})
    held: list[socket.socket] = []
    try:
        # 12 attacking hosts x 8: raw TCP that never sends a ClientHello, plus finished handshakes
        # that never send a request; together more than the unauthenticated pool.
        for host in range(2, 14):
            for i in range(8):
                sock = _tcp(proxy, f"127.0.0.{host}")
                held.append(_tls(proxy, sock=sock) if i % 2 else sock)
        wait_for(
            lambda: proxy.server.guard.rejected or len(proxy.server.guard.unauthenticated) >= 64, "pool full"
        )
        times = []
        for _ in range(3):
            status, ms = _signed_call_ms(proxy)
            assert status == 200
            times.append(ms)
        assert min(times) < 250, times
        assert len(proxy.server.guard.unauthenticated) <= 64
        evicted = proxy.server.metrics.evicted.get("evicted_for_newer_connection", 0)
        assert evicted > 0
    finally:
        for sock in held:
            sock.close()


def test_one_host_cannot_take_more_than_its_share(proxy_factory: Any) -> None:
    proxy = proxy_factory(server_overrides={"max_unauthenticated_per_ip": 4, "connection_rate_per_ip": 1000})
    held = [_tcp(proxy, "127.0.0.3") for _ in range(10)]
    try:
        wait_for(lambda: proxy.server.guard.rejected.get("max_unauthenticated_per_ip", 0) >= 6, "refused")
        assert proxy.server.guard.unauth_per_ip.get("127.0.0.3") == 4
        assert _signed_call_ms(proxy)[0] == 200
    finally:
        for sock in held:
            sock.close()


def test_unauthenticated_flood_leaves_signed_encrypt_p99_under_250_ms(proxy: RunningProxy) -> None:
    stop = threading.Event()
    path = f"{proxy.uri_path}/keys/{KEY}/encrypt"
    body = json.dumps(encrypt_payload()).encode()
    bad = proxy.client().signed_headers(path, body, secret="w" * 44)
    sent = [0]

    def flood(src: str) -> None:
        while not stop.is_set():
            try:
                sock = _tls(proxy, src)
            except OSError:
                continue  # refused by the per-host rate: that is the point
            try:
                head = "".join(f"{k}: {v}\r\n" for k, v in bad.items())
                sock.sendall(f"POST {path} HTTP/1.1\r\n{head}\r\n".encode() + body)
                _read_all(sock)
                sent[0] += 1
            except OSError:
                pass
            finally:
                sock.close()

    attackers = [threading.Thread(target=flood, args=(f"127.0.0.{h}",), daemon=True) for h in (2, 3, 4)]
    for t in attackers:
        t.start()
    client = proxy.client(timeout=5)
    times: list[float] = []
    try:
        deadline = time.monotonic() + 8
        while len(times) < 150 and time.monotonic() < deadline:
            start = time.perf_counter()
            assert client.call("encrypt", encrypt_payload(), KEY).status == 200
            times.append((time.perf_counter() - start) * 1000)
    finally:
        stop.set()
        for t in attackers:
            t.join(10)
    p99 = statistics.quantiles(times, n=100)[98]
    assert p99 < 250, (p99, len(times), sent[0])
    rejected_lines = proxy.logs.getvalue().count('"event":"request_rejected"')
    assert sent[0] == 0 or rejected_lines < sent[0] or rejected_lines <= 20  # sampled, not one per request


# ----------------------------------------------------------------------------------- ops port, PROXY v2


def test_metrics_port_caps_and_evicts_idle_connections(proxy: RunningProxy) -> None:
    wait_for(lambda: proxy.server.api.health.status == "ACTIVE", "first health probe")
    held = [_tcp(proxy, port=proxy.server.metrics_port) for _ in range(40)]
    try:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.server.metrics_port, timeout=5)
        conn.request("GET", "/healthz")
        assert conn.getresponse().status == 200
        assert len(proxy.server.ops_connections) <= 32
    finally:
        for sock in held:
            sock.close()


def test_proxy_protocol_v2_from_the_trusted_balancer_names_the_client(proxy_factory: Any) -> None:
    proxy = proxy_factory(server_overrides={"proxy_protocol_from": ["127.0.0.1/32"]})
    addr = socket.inet_aton("203.0.113.7") + socket.inet_aton("127.0.0.1") + (40000).to_bytes(2, "big") * 2
    header = PROXY_V2_SIGNATURE + bytes([0x21, 0x11]) + len(addr).to_bytes(2, "big") + addr
    sock = _tcp(proxy)
    sock.sendall(header)
    client = proxy.client()
    path = f"{proxy.uri_path}/health"
    body = json.dumps(health_payload()).encode()
    headers = client.signed_headers(path, body)
    with _tls(proxy, sock=sock) as tls:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        tls.sendall(
            f"POST {path} HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        assert _read_all(tls).startswith(b"HTTP/1.1 200 OK")
    assert '"peer":"203.0.113.7 via 127.0.0.1:' in proxy.logs.getvalue()
    # Without the header, a connection from the balancer is refused rather than misattributed.
    with pytest.raises((ssl.SSLError, OSError)):
        _tls(proxy).sendall(b"x")


# ----------------------------------------------------------------------------------- HSM


def test_hung_hsm_session_is_replaced(proxy_factory: Any) -> None:
    proxy = proxy_factory(
        hsm_overrides={
            "sessions": 1,
            "operation_timeout_ms": 100,
            "stuck_session_s": 0.3,
            "health_interval_s": 0.2,
        }
    )
    hsm = proxy.server.hsm
    release = threading.Event()
    real = hsm.encrypt
    calls = [0]

    def hang_once(*args: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            release.wait(20)  # the one session hangs inside the HSM call
        return real(*args)

    hsm.encrypt = hang_once
    client = proxy.client()
    try:
        r = client.call("encrypt", encrypt_payload(), KEY)
        assert (r.status, r.body["errorName"]) == (503, "DependencyTimeoutException")
        wait_for(lambda: hsm.replaced_sessions >= 1, "stuck session replaced")
        assert client.call("encrypt", encrypt_payload(), KEY).status == 200  # served by the new session
        conn = http.client.HTTPConnection("127.0.0.1", proxy.server.metrics_port, timeout=5)
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        assert "xks_hsm_replaced_sessions_total 1" in text
        assert f'xks_key_encryptions_total{{key="{KEY}"}}' in text
    finally:
        release.set()
        # The abandoned thread finishes its call and leaves before the token goes away.
        wait_for(lambda: not hsm._threads[0].is_alive(), "abandoned session thread gone")
