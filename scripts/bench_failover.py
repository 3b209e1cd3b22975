#!/usr/bin/env python3
"""Zone failover, measured: two XKS proxies behind HAProxy, one killed under steady signed load.

    python scripts/bench_failover.py [--duration 30] [--kill-after 10] [--rate 200] [--clients 8] [--json FILE]

Two proxy processes on one SoftHSM2 token stand in for the two fr-par zones. HAProxy (Debian's
``haproxy``, started here) plays the Scaleway load balancer as ``components/keystore`` configures it:
TCP (TLS passthrough) on one port, PROXY protocol v2 to the proxies, health checks ``GET /healthz`` on
each proxy's ops port every HEALTH_CHECK_DELAY_S with HEALTH_CHECK_TIMEOUT_S and
HEALTH_CHECK_MAX_RETRIES (the component's values), and a failed connect retried on the other server
(HAProxy's ``retries``/``option redispatch``, which the Scaleway balancer also does). Clients send
botocore-signed Encrypts at a fixed total rate over keep-alive connections, reconnecting after an
error as KMS does; at --kill-after one proxy gets SIGKILL (a zone lost, not a clean shutdown).

Prints: requests and failures (before / after the kill), the longest gap between two successful
answers after the kill, p50/p99/max latency in the failover window (kill to kill + 2 health-check
periods) against KMS's 250 ms per-request timeout, and that the survivor serves. The machine's load
is printed with the figures: on a shared machine they are indicative only.
Exit: 0 measured and the survivor served; 1 the survivor did not serve; 2 bad usage; 3 haproxy or a
proxy could not be started; 4 internal error (--debug for the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.keystore.host import HEALTH_CHECK_DELAY_S, HEALTH_CHECK_MAX_RETRIES, HEALTH_CHECK_TIMEOUT_S
from scripts.xks_check import XksClient
from xks_proxy.devsetup import dev_setup

KEY_ID = "failover-key"
KMS_TIMEOUT_MS = 250.0


class SetupError(RuntimeError):
    """haproxy or a proxy could not be started; the message says why."""


@dataclass
class Sample:
    start: float
    end: float
    ok: bool


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SetupError(f"{what} exited: {log.read_text(errors='replace')[-300:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SetupError(f"{what} did not listen on port {port}")


def haproxy_config(front: int, backends: list[tuple[int, int]]) -> str:
    inter = HEALTH_CHECK_DELAY_S * 1000
    servers = "\n".join(
        f"    server zone{i + 1} 127.0.0.1:{api} check port {ops} inter {inter} fall {HEALTH_CHECK_MAX_RETRIES}"
        f" rise {HEALTH_CHECK_MAX_RETRIES} send-proxy-v2"
        for i, (api, ops) in enumerate(backends)
    )
    return f"""global
    maxconn 4096
defaults
    mode tcp
    timeout connect {HEALTH_CHECK_TIMEOUT_S}s
    timeout client 60s
    timeout server 60s
    timeout check {HEALTH_CHECK_TIMEOUT_S}s
    retries 3
    option redispatch
frontend xks
    bind 127.0.0.1:{front}
    default_backend proxies
backend proxies
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
{servers}
"""


def start(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as f:
        return subprocess.Popen(cmd, stdout=f, stderr=f)  # noqa: S603 - fixed programs


def load(client: XksClient, stop_at: float, interval: float, out: list[Sample]) -> None:
    payload = {
        "plaintext": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        "encryptionAlgorithm": "AES_GCM",
    }
    next_at = time.monotonic()
    while next_at < stop_at:
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        meta = {
            "awsPrincipalArn": "arn:aws:iam::111122223333:role/bench",
            "kmsKeyArn": "arn:aws:kms:eu-west-3:111122223333:key/00000000-0000-0000-0000-000000000000",
            "kmsOperation": "Encrypt",
            "kmsRequestId": str(uuid.uuid4()),
        }
        t0 = time.monotonic()
        try:
            ok = client.call("encrypt", {"requestMetadata": meta, **payload}, KEY_ID).status == 200
        except OSError:
            client.close()  # reconnect on the next request, as KMS does
            ok = False
        out.append(Sample(t0, time.monotonic(), ok))
        next_at += interval


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarize(samples: list[Sample], kill_at: float, window_s: float) -> dict[str, Any]:
    samples.sort(key=lambda s: s.end)
    before = [s for s in samples if s.start < kill_at]
    after = [s for s in samples if s.start >= kill_at]
    window = [s for s in after if s.start < kill_at + window_s]
    oks = [s.end for s in samples if s.ok and s.end >= kill_at]
    gaps = [b - a for a, b in zip([kill_at, *oks], oks, strict=False)]
    lat = [(s.end - s.start) * 1000 for s in window]
    return {
        "requests": len(samples),
        "failed_before_kill": sum(not s.ok for s in before),
        "failed_after_kill": sum(not s.ok for s in after),
        "longest_gap_ms": round(max(gaps, default=float("nan")) * 1000, 1),
        "window_s": round(window_s, 1),
        "window_requests": len(window),
        "window_p50_ms": round(percentile(lat, 0.50), 1),
        "window_p99_ms": round(percentile(lat, 0.99), 1),
        "window_max_ms": round(max(lat, default=float("nan")), 1),
        "window_over_kms_timeout": sum(v > KMS_TIMEOUT_MS for v in lat),
    }


def start_zones(setup: Any, work: Path, procs: list[subprocess.Popen[bytes]]) -> list[tuple[int, int]]:
    """Two proxy processes (zones 1 and 2) on the same token; returns their (api, ops) ports."""
    base = yaml.safe_load(setup.config.read_text())
    backends = []
    for zone in (1, 2):
        api, ops = free_port(), free_port()
        cfg = json.loads(json.dumps(base))
        cfg["server"].update(
            listen=f"127.0.0.1:{api}", workers=1, fleet_size=2, proxy_protocol_from=["127.0.0.1/32"]
        )
        cfg["metrics"]["listen"] = f"127.0.0.1:{ops}"
        path = setup.directory / f"zone{zone}.yaml"
        path.write_text(yaml.safe_dump(cfg))
        log = work / f"zone{zone}.log"
        procs.append(start([sys.executable, "-m", "xks_proxy", "--config", str(path)], log))
        wait_port(api, procs[-1], f"proxy zone{zone}", log)
        backends.append((api, ops))
    return backends


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    if shutil.which("haproxy") is None:
        raise SetupError("haproxy is not installed (apt-get install haproxy)")
    try:
        setup = dev_setup(work / "dev", (KEY_ID,), path_prefix="/keystores/failover", port=0, metrics_port=0)
    except RuntimeError as exc:
        raise SetupError(str(exc)) from None
    procs: list[subprocess.Popen[bytes]] = []
    try:
        backends = start_zones(setup, work, procs)
        front = free_port()
        (work / "haproxy.cfg").write_text(haproxy_config(front, backends))
        haproxy = start(["haproxy", "-db", "-f", str(work / "haproxy.cfg")], work / "haproxy.log")
        procs.append(haproxy)
        wait_port(front, haproxy, "haproxy", work / "haproxy.log")
        time.sleep(min(1.0, args.kill_after / 3))  # first health checks
        creds = json.loads(setup.credentials.read_text())["XksProxyAuthenticationCredential"]
        uri = json.loads(setup.credentials.read_text())["XksProxyUriPath"]
        samples: list[Sample] = []
        begin = time.monotonic()
        stop_at = begin + args.duration
        interval = args.clients / args.rate
        threads = []
        for _ in range(args.clients):
            client = XksClient(
                f"https://localhost:{front}", uri, creds["AccessKeyId"], creds["RawSecretAccessKey"],
                ca_file=str(setup.ca_cert), timeout=5.0,
            )  # fmt: skip
            per_client: list[Sample] = []
            samples_ref = per_client
            threads.append(
                (threading.Thread(target=load, args=(client, stop_at, interval, samples_ref)), per_client)
            )
        for t, _ in threads:
            t.start()
        time.sleep(args.kill_after)
        kill_at = time.monotonic()
        procs[0].send_signal(signal.SIGKILL)  # zone 1 lost
        for t, per_client in threads:
            t.join(args.duration + 30)
            samples.extend(per_client)
        window = HEALTH_CHECK_DELAY_S * HEALTH_CHECK_MAX_RETRIES + HEALTH_CHECK_TIMEOUT_S
        result = summarize(samples, kill_at, min(window, stop_at - kill_at))
        tail = [s for s in samples if s.start > stop_at - min(1.0, args.duration / 4)]
        result["survivor_served"] = bool(tail) and all(s.ok for s in tail)
        result["settings"] = {
            "duration_s": args.duration, "kill_after_s": args.kill_after, "rate": args.rate, "clients": args.clients,
            "health_check": {"inter_s": HEALTH_CHECK_DELAY_S, "timeout_s": HEALTH_CHECK_TIMEOUT_S, "fall": HEALTH_CHECK_MAX_RETRIES},
        }  # fmt: skip
        return result
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_failover.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=30.0, help="seconds of load (default 30)")
    p.add_argument(
        "--kill-after", type=float, default=10.0, help="seconds before zone 1 is killed (default 10)"
    )
    p.add_argument("--rate", type=float, default=200.0, help="total signed Encrypts per second (default 200)")
    p.add_argument("--clients", type=int, default=8, help="keep-alive client connections (default 8)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    p.add_argument("--debug", action="store_true")
    args = p.parse_args(argv)
    if not (0 < args.kill_after < args.duration) or args.rate <= 0 or not 1 <= args.clients <= 256:
        print("error: need 0 < --kill-after < --duration, --rate > 0, 1 <= --clients <= 256", file=sys.stderr)
        return 2
    if args.json is not None and not args.json.parent.is_dir():
        print(f"error: --json: {args.json.parent} is not a directory", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="xks-failover-") as work:
            result = run(args, Path(work))
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: internal: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
        return 4
    load_avg = os.getloadavg()
    result["load_average"] = [round(v, 2) for v in load_avg]
    print(
        f"machine load (1/5/15 min): {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f} on {os.cpu_count()} cores"
    )
    print(
        f"requests {result['requests']}, failed before kill {result['failed_before_kill']}, after kill {result['failed_after_kill']}"
    )
    print(f"longest gap between successful answers after the kill: {result['longest_gap_ms']} ms")
    print(
        f"failover window ({result['window_s']} s, {result['window_requests']} requests): p50 {result['window_p50_ms']} ms, "
        f"p99 {result['window_p99_ms']} ms, max {result['window_max_ms']} ms; "
        f"{result['window_over_kms_timeout']} over KMS's {KMS_TIMEOUT_MS:.0f} ms timeout"
    )
    print(f"survivor served: {'yes' if result['survivor_served'] else 'NO'}")
    if args.json is not None:
        tmp = args.json.with_suffix(args.json.suffix + ".tmp")
        tmp.write_text(json.dumps(result, indent=2) + "\n")
        os.replace(tmp, args.json)
    return 0 if result["survivor_served"] else 1


if __name__ == "__main__":
    sys.exit(main())
