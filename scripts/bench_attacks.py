#!/usr/bin/env python3
"""Benchmark: the security review's findings 1-3 measured against a running proxy, on loopback.

Not a test. Starts ``python -m xks_proxy`` from ``--repo`` (default: this checkout; point it at an
extracted older commit to measure "before") with a soft descriptor limit of 1,024 (the hosts'
default before LimitNOFILE), then, one scenario at a time, from attacker addresses 127.0.0.2+:

1. ``unauth-idle``: 1,100 connections that finish TLS, send one unsigned request, and stay open;
2. ``half-open``: 1,100 TCP connections that never send a ClientHello;
3. ``flood``: 4 threads sending unsigned requests as fast as they can for ``--seconds``.

During each, a signed client on 127.0.0.1 opens a fresh connection and sends a signed health
request (1 and 2), or signed Encrypts in a loop (3). Prints the signed client's latencies and
failures against KMS's 250 ms timeout.

    python scripts/bench_attacks.py [--repo DIR] [--seconds 10]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from scripts.xks_check import XksClient, request_metadata

ROOT = Path(__file__).resolve().parent.parent

PORT, OPS_PORT = 18743, 19743


def _health() -> dict[str, object]:
    return {"requestMetadata": {"kmsRequestId": str(uuid.uuid4()), "kmsOperation": "KmsHealthCheck"}}


@contextlib.contextmanager
def proxy(repo: Path, tmp: Path) -> Iterator[XksClient]:
    env = {**os.environ, "PYTHONPATH": str(repo)}
    subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "xks_proxy",
            "dev-setup",
            str(tmp / "dev"),
            "--port",
            str(PORT),
            "--metrics-port",
            str(OPS_PORT),
        ],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )
    log = (tmp / "proxy.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603
        [  # noqa: S607
            "bash",
            "-c",
            'ulimit -Sn 1024 && exec "$0" -m xks_proxy --config "$1"',
            sys.executable,
            str(tmp / "dev" / "config.yaml"),
        ],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    creds = json.loads((tmp / "dev" / "credentials.json").read_text())
    cred = creds["XksProxyAuthenticationCredential"]
    client = XksClient(
        f"https://localhost:{PORT}",
        creds["XksProxyUriPath"],
        cred["AccessKeyId"],
        cred["RawSecretAccessKey"],
        ca_file=str(tmp / "dev" / "ca.pem"),
        timeout=30,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                if client.call("health", _health()).status == 200:
                    break
            client.close()
            time.sleep(0.1)
        yield client
    finally:
        client.close()
        proc.terminate()
        proc.wait(30)
        log.close()
        size = (tmp / "proxy.log").stat().st_size
        print(f"  proxy log: {size / 1e6:.1f} MB")


def fresh_signed_health(client: XksClient) -> str:
    client.close()
    start = time.perf_counter()
    try:
        status = client.call("health", _health()).status
    except (OSError, ssl.SSLError) as exc:
        return f"failed after {time.perf_counter() - start:.2f} s ({type(exc).__name__})"
    finally:
        client.close()
    return f"HTTP {status} in {(time.perf_counter() - start) * 1000:.1f} ms"


def _attacker_socket(i: int) -> socket.socket:
    sock = socket.socket()
    sock.bind((f"127.0.0.{2 + i % 40}", 0))
    sock.settimeout(5)
    sock.connect(("127.0.0.1", PORT))
    return sock


def hold(count: int, tls_request: bool, ca: str) -> list[socket.socket]:
    ctx = ssl.create_default_context(cafile=ca)
    held: list[socket.socket] = []
    for i in range(count):
        try:
            sock = _attacker_socket(i)
            if tls_request:
                tls = ctx.wrap_socket(sock, server_hostname="localhost")
                tls.sendall(b"POST /x/kms/xks/v1/health HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}")
                tls.settimeout(2)
                with contextlib.suppress(OSError):
                    tls.recv(4096)
                sock = tls
            held.append(sock)
        except OSError:
            continue
    return held


def flood(client: XksClient, seconds: float, ca: str) -> str:
    stop = threading.Event()
    sent = [0]
    ctx = ssl.create_default_context(cafile=ca)

    def attacker(n: int) -> None:
        while not stop.is_set():
            try:
                tls = ctx.wrap_socket(_attacker_socket(n), server_hostname="localhost")
                while not stop.is_set():
                    tls.sendall(
                        b"POST /keystores/dev/kms/xks/v1/health HTTP/1.1\r\nHost: a\r\n"
                        b"Authorization: AWS4-HMAC-SHA256 x\r\nContent-Length: 2\r\n\r\n{}"
                    )
                    if not tls.recv(4096):
                        break
                    sent[0] += 1
                tls.close()
            except OSError:
                continue

    threads = [threading.Thread(target=attacker, args=(n,), daemon=True) for n in range(4)]
    for t in threads:
        t.start()
    times, failures = [], 0
    payload = {
        "requestMetadata": request_metadata("Encrypt"),
        "plaintext": "AAAA",
        "encryptionAlgorithm": "AES_GCM",
    }
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.perf_counter()
        try:
            ok = client.call("encrypt", payload, "demo-key-1").status == 200
        except OSError:
            ok = False
            client.close()
        times.append((time.perf_counter() - start) * 1000)
        failures += not ok
    stop.set()
    for t in threads:
        t.join(10)
    over = sum(1 for t in times if t > 250)
    q = statistics.quantiles(times, n=100) if len(times) > 1 else [float("nan")] * 99
    return (
        f"{sent[0] / seconds:.0f} unsigned req/s answered; signed Encrypt: {len(times)} requests, "
        f"p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms, {over} over 250 ms, {failures} failed"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repo", default=str(ROOT), help="checkout whose xks_proxy/ is run")
    p.add_argument("--seconds", type=float, default=10.0, help="flood duration")
    args = p.parse_args(argv)
    repo = Path(args.repo).resolve()
    load = os.getloadavg()
    print(
        f"proxy from {repo}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)"
    )
    for name in ("unauth-idle", "half-open", "flood"):
        with tempfile.TemporaryDirectory(prefix="xks-attack-") as tmp, proxy(repo, Path(tmp)) as client:
            ca = str(Path(tmp) / "dev" / "ca.pem")
            print(f"{name}: baseline signed health on a fresh connection: {fresh_signed_health(client)}")
            if name == "flood":
                print(f"  {flood(client, args.seconds, ca)}")
                continue
            held = hold(1100, name == "unauth-idle", ca)
            try:
                time.sleep(1)
                print(
                    f"  {len(held)} attacker connections held; signed health: {fresh_signed_health(client)}"
                )
            finally:
                for sock in held:
                    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
