#!/usr/bin/env python3
"""Benchmark: the XKS proxy with TLS on SoftHSM2, driven by wrk replaying pre-signed requests.

Not a test. First a calibration line (in-process AES-256-GCM operations/s on the SoftHSM2 token, and
SigV4 verifications/s, so figures from different machines compare). Then, for 1 and 2 workers
(``server.workers``), starts ``python -m xks_proxy`` (TLS, SoftHSM2 token in a temporary directory),
pre-signs encrypt and decrypt requests with botocore (valid for the 5-minute SigV4 window, so runs
are capped at 240 s), and runs wrk from a separate process with keep-alive connections, 50/50
encrypt/decrypt, at 64-byte and 4300-byte plaintexts: sustained requests/s, p50/p99/max latency,
errors, CPU of the server and of wrk. Last, a fixed-rate run at ``--rate`` (1,800 req/s) on the
largest worker count: Debian's wrk has no constant-rate mode (wrk2), so each connection waits a fixed
interval (connections / rate) before each request, using wrk's Lua ``delay()``. That paces the offered
load but, like any closed-loop client, does not correct for coordinated omission (a slow answer
delays the next request instead of counting the wait); the achieved rate is printed next to p99.

    python scripts/bench_xks.py --duration 60 --connections 16
    python scripts/bench_xks.py --baseline 3754851   # also that revision's xks_proxy/, same run, interleaved

With ``--baseline REV`` the revision's ``xks_proxy/`` is extracted with ``git archive`` (no work tree
touched) and run the same way right after this checkout's, for each worker count and size, so both
see the same machine load; the table gets a revision column and the last lines compare throughput.
Needs: softhsm2 and wrk (apt-get install softhsm2 wrk).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from scripts.revisions import RevisionError, check_revision, extract_revision
from scripts.xks_check import XksClient, request_metadata
from xks_proxy.devsetup import dev_setup

ROOT = Path(__file__).resolve().parent.parent


class _ProxyUnderTest(XksClient):
    """A signed client that also knows the proxy process it measures (for its CPU time)."""

    server_pid: int = 0


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime+stime of a process and its reaped children, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK_TCK


def lua_string(data: str) -> str:
    return '"' + "".join(c if c.isalnum() or c in " -_./:=,{}[]+" else f"\\{ord(c):03d}" for c in data) + '"'


def build_requests(
    client: XksClient, key_id: str, size: int, count: int
) -> list[tuple[str, dict[str, str], str]]:
    """Pre-sign ``count`` requests, half encrypt and half decrypt (of real ciphertexts)."""
    out: list[tuple[str, dict[str, str], str]] = []
    for i in range(count):
        plaintext = os.urandom(size)
        enc_payload = {
            "requestMetadata": request_metadata("GenerateDataKey"),
            "plaintext": base64.b64encode(plaintext).decode(),
            "additionalAuthenticatedData": base64.b64encode(b"bench-aad").decode(),
            "encryptionAlgorithm": "AES_GCM",
            "ciphertextDataIntegrityValueAlgorithm": "SHA_256",
        }
        if i % 2 == 0:
            payload, op = enc_payload, "encrypt"
        else:
            for _ in range(20):  # a worker whose HSM session is still opening answers 500 once
                r = client.call("encrypt", enc_payload, key_id)
                if r.status == 200:
                    break
                time.sleep(0.1)
            if r.status != 200:
                raise RuntimeError(f"setup encrypt failed: {r.status} {r.body}")
            payload = {
                "requestMetadata": request_metadata("Decrypt"),
                "additionalAuthenticatedData": enc_payload["additionalAuthenticatedData"],
                "encryptionAlgorithm": "AES_GCM",
                "ciphertext": r.body["ciphertext"],
                "initializationVector": r.body["initializationVector"],
                "authenticationTag": r.body["authenticationTag"],
            }
            op = "decrypt"
        path = f"{client.uri_path}/keys/{key_id}/{op}"
        body = json.dumps(payload)
        headers = client.signed_headers(path, body.encode())
        out.append((path, headers, body))
    return out


def write_lua(requests: list[tuple[str, dict[str, str], str]], path: Path, delay_ms: float = 0.0) -> None:
    lines = ["local reqs = {}"]
    for p, headers, body in requests:
        hdrs = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
        lines.append(f'reqs[#reqs + 1] = wrk.format("POST", {lua_string(p)}, {{{hdrs}}}, {lua_string(body)})')
    lines += [
        "local i = math.random(#reqs)",
        "request = function() i = i + 1; return reqs[(i % #reqs) + 1] end",
    ]
    if delay_ms:
        lines.append(f"delay = function() return {delay_ms:.3f} end")
    path.write_text("\n".join(lines) + "\n")


def parse_wrk(text: str) -> dict[str, float]:
    def dur(s: str) -> float:
        m = re.match(r"([\d.]+)(us|ms|s|m)", s)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]

    res: dict[str, float] = {}
    m = re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", text)
    res["max_ms"] = dur(m.group(1)) if m else float("nan")
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", text, re.M)
        res[f"p{pct}_ms"] = dur(m.group(1)) if m else float("nan")
    m = re.search(r"(\d+) requests in ([\d.]+)(s|m)", text)
    res["requests"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    res["rps"] = float(m.group(1)) if m else 0.0
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors += sum(int(x) for x in m.groups()) if m else 0
    res["errors"] = float(errors)
    return res


def _usage_problem(args: argparse.Namespace) -> str | None:
    """What makes the arguments unusable, in one line (checked before any work), or None."""
    if not 5 <= args.duration <= 240:
        return "--duration must be 5-240 s (pre-signed requests expire after 5 minutes)"
    if shutil.which("wrk") is None:
        return "wrk is not installed (apt-get install wrk)"
    if args.baseline:
        try:
            check_revision(args.baseline)
        except RevisionError as error:
            return f"--baseline: {error}"
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=60, help="seconds per run (at most 240: SigV4 window)")
    p.add_argument("--connections", type=int, default=16, help="wrk keep-alive connections")
    p.add_argument("--threads", type=int, default=1, help="wrk threads")
    p.add_argument("--sizes", default="64,4300", help="plaintext sizes in bytes")
    p.add_argument("--signed", type=int, default=2000, help="distinct pre-signed requests per size")
    p.add_argument("--sessions", type=int, default=2, help="HSM sessions (threads) per proxy worker")
    p.add_argument("--workers", default="1,2", help="proxy worker process counts to run")
    p.add_argument("--rate", type=float, default=1800.0, help="fixed-rate run, req/s (0: skip)")
    p.add_argument("--baseline", help="also run this git revision's xks_proxy/, interleaved (e.g. 3754851)")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per revision, alternating which goes first; medians compared",
    )
    args = p.parse_args(argv)
    problem = _usage_problem(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    sizes = [int(s) for s in args.sizes.split(",")]
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory(prefix="xks-bench-") as tmp:
        setup = dev_setup(Path(tmp) / "dev", ("bench-key",), port=0, metrics_port=0)
        print(calibrate(setup))
        revisions = [("working tree", ROOT)]
        if args.baseline:
            revisions.append((args.baseline, extract_revision(args.baseline, Path(tmp) / "baseline")))
        print(
            f"{'revision':>12} {'workers':>7} {'plaintext':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'max ms':>8} {'errors':>7} {'server CPU':>11} {'wrk CPU':>9}"
        )
        worker_counts = [int(w) for w in args.workers.split(",")]
        rps: dict[tuple[str, int, int], list[float]] = {}
        cpu_us: dict[tuple[str, int, int], list[float]] = {}
        for workers in worker_counts:
            for run in range(args.repeat):
                # Alternate which revision goes first: a load that drifts during the run favours neither.
                for name, src in revisions if run % 2 == 0 else revisions[::-1]:
                    with running_proxy(setup, Path(tmp), args.sessions, workers, src) as client:
                        for size in sizes:
                            res = run_wrk(client, size, args, Path(tmp))
                            rps.setdefault((name, workers, size), []).append(res["rps"])
                            # Server CPU per request: less sensitive than req/s to other load on the host.
                            per_req = res["server_cpu"] / 100 / max(res["rps"], 1.0) * 1e6
                            cpu_us.setdefault((name, workers, size), []).append(per_req)
                            print(
                                f"{name:>12} {workers:>7} {size:>8}B {res['rps']:>9.0f} {res['p50_ms']:>8.2f} "
                                f"{res['p99_ms']:>8.2f} {res['max_ms']:>8.2f} {int(res['errors']):>7} "
                                f"{res['server_cpu']:>9.0f} % {res['wrk_cpu']:>7.0f} %  {per_req:>6.0f} us/req",
                                flush=True,
                            )
        if args.baseline:
            for workers in worker_counts:
                for size in sizes:
                    key_new, key_old = ("working tree", workers, size), (args.baseline, workers, size)
                    new, old = statistics.median(rps[key_new]), statistics.median(rps[key_old])
                    c_new, c_old = statistics.median(cpu_us[key_new]), statistics.median(cpu_us[key_old])
                    print(
                        f"median of {args.repeat}, {workers} worker(s), {size} B: req/s {new:.0f} vs {old:.0f} "
                        f"({(new - old) / max(old, 1.0) * 100:+.1f} %); server CPU per request "
                        f"{c_new:.0f} vs {c_old:.0f} us ({(c_new - c_old) / max(c_old, 1.0) * 100:+.1f} %)"
                    )
        for workers in worker_counts[-1:]:
            with running_proxy(setup, Path(tmp), args.sessions, workers) as client:
                if args.rate:
                    res = run_wrk(client, max(sizes), args, Path(tmp), rate=args.rate)
                    print(
                        f"fixed rate {args.rate:.0f} req/s offered ({workers} workers, {max(sizes)} B): "
                        f"per-connection delay {res['delay_ms']:.2f} ms, achieved {res['rps']:.0f} req/s, p50 {res['p50_ms']:.2f} ms, p99 {res['p99_ms']:.2f} ms, "
                        f"max {res['max_ms']:.2f} ms, errors {int(res['errors'])}"
                    )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


_last_children = [0.0]


def _children_cpu_delta() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ru.ru_utime + ru.ru_stime
    delta, _last_children[0] = total - _last_children[0], total
    return delta


def calibrate(setup: Any) -> str:
    """In-process AES-256-GCM ops/s (4,300 B) on the token and SigV4 verifications/s, one core each."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from pkcs11 import KeyType, Mechanism
    from pkcs11.mechanisms import GCMParams

    from xks_proxy.config import load_hsm_config
    from xks_proxy.hsm import open_token
    from xks_proxy.sigv4 import SigV4Verifier

    cfg = load_hsm_config(setup.config)
    _, token = open_token(str(cfg.module), cfg.token_label, cfg.slot)
    data = os.urandom(4300)
    with token.open(user_pin=cfg.pin) as session:
        key = session.generate_key(KeyType.AES, 256, store=False)
        n, end = 0, time.perf_counter() + 1.0
        while time.perf_counter() < end:
            key.encrypt(data, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(os.urandom(12), b"aad"))
            n += 1
    gcm = n
    creds = json.loads(setup.credentials.read_text())["XksProxyAuthenticationCredential"]
    body = json.dumps({"requestMetadata": {"kmsRequestId": "r", "kmsOperation": "KmsHealthCheck"}}).encode()
    req = AWSRequest(
        method="POST", url="https://localhost/p/kms/xks/v1/health", data=body, headers={"Host": "localhost"}
    )
    SigV4Auth(
        Credentials(creds["AccessKeyId"], creds["RawSecretAccessKey"]), "kms-xks-proxy", "eu-west-3"
    ).add_auth(req)
    headers = {k.lower(): v for k, v in req.headers.items()}
    verifier = SigV4Verifier({creds["AccessKeyId"]: creds["RawSecretAccessKey"]})
    n, end = 0, time.perf_counter() + 1.0
    while time.perf_counter() < end:
        verifier.verify("POST", "localhost", "/p/kms/xks/v1/health", headers, body)
        n += 1
    return (
        f"calibration: AES-256-GCM 4300 B on the token {gcm} ops/s; SigV4 verifications {n}/s (one core each)"
    )


@contextlib.contextmanager
def running_proxy(
    setup: Any, tmp: Path, sessions: int, workers: int, src: Path = ROOT
) -> Iterator[_ProxyUnderTest]:
    cfg = yaml.safe_load(setup.config.read_text())
    cfg["server"].update(listen="127.0.0.1:18443", workers=workers)
    cfg["metrics"]["listen"] = "127.0.0.1:19464"
    cfg["hsm"]["sessions"] = sessions
    path = setup.config.parent / f"config-{workers}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    log_path = tmp / f"proxy-{workers}.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "xks_proxy", "--config", str(path)],
            cwd=src,
            env={
                **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
                "PYTHONPATH": str(src),
            },
            stderr=log_file,
            stdout=subprocess.DEVNULL,
        )
    creds = json.loads(setup.credentials.read_text())
    cred = creds["XksProxyAuthenticationCredential"]
    client = _ProxyUnderTest(
        "https://localhost:18443",
        creds["XksProxyUriPath"],
        cred["AccessKeyId"],
        cred["RawSecretAccessKey"],
        ca_file=str(setup.ca_cert),
    )
    client.server_pid = proc.pid
    try:
        for _ in range(150):
            try:
                health = {
                    "requestMetadata": {"kmsRequestId": str(uuid.uuid4()), "kmsOperation": "KmsHealthCheck"}
                }
                if client.call("health", health).status == 200:
                    break
            except OSError:
                client.close()
                time.sleep(0.1)
        yield client
    finally:
        client.close()
        if os.environ.get("XKS_BENCH_LOG"):
            shutil.copy(log_path, os.environ["XKS_BENCH_LOG"])
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def process_tree_cpu(pid: int) -> float:
    total = cpu_seconds(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            with contextlib.suppress(OSError):
                total += cpu_seconds(int(child))
    return total


def run_wrk(
    client: _ProxyUnderTest, size: int, args: argparse.Namespace, tmp: Path, rate: float = 0.0
) -> dict[str, float]:
    """One wrk run; with ``rate``, paced: each connection waits a fixed delay before each request.

    wrk's delay() is added to the response time (closed loop), so the delay is set in two steps: a
    5 s run at delay = connections / rate gives the mean response time, then the measured run uses
    delay = connections / rate - that time (never below zero).
    """
    client.close()
    reqs = build_requests(client, "bench-key", size, args.signed)
    delay = 0.0
    if rate:
        interval = args.connections / rate * 1000
        probe = _wrk(client, reqs, args, tmp, 5, interval)
        response_ms = args.connections * 1000 / max(probe["rps"], 1.0) - interval
        delay = max(0.0, interval - response_ms)
    res = _wrk(client, reqs, args, tmp, args.duration, delay)
    res["delay_ms"] = delay
    return res


def _wrk(  # noqa: PLR0917
    client: _ProxyUnderTest,
    reqs: list[tuple[str, dict[str, str], str]],
    args: argparse.Namespace,
    tmp: Path,
    duration: int,
    delay_ms: float,
) -> dict[str, float]:
    lua = tmp / "bench.lua"
    write_lua(reqs, lua, delay_ms=delay_ms)
    _children_cpu_delta()
    pid = client.server_pid
    cpu0 = process_tree_cpu(pid)
    wrk = subprocess.run(  # noqa: S603
        [  # noqa: S607
            "wrk",
            "-t",
            str(args.threads),
            "-c",
            str(args.connections),
            "-d",
            f"{duration}s",
            "--latency",
            "-s",
            str(lua),
            "https://localhost:18443",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    res = parse_wrk(wrk.stdout)
    res["server_cpu"] = (process_tree_cpu(pid) - cpu0) / duration * 100
    res["wrk_cpu"] = _children_cpu_delta() / duration * 100
    if wrk.returncode != 0:
        print(wrk.stdout, wrk.stderr, file=sys.stderr)
    return res


if __name__ == "__main__":
    sys.exit(main())
