#!/usr/bin/env python3
"""Benchmark: the XKS proxy with TLS on SoftHSM2, driven by wrk replaying pre-signed requests.

Not a test. Starts ``python -m xks_proxy`` (TLS, SoftHSM2 token in a temporary directory), pre-signs
encrypt and decrypt requests with botocore (valid for the 5-minute SigV4 window, so runs are capped at
240 s), then runs wrk from a separate process with keep-alive connections, 50/50 encrypt/decrypt, at
64-byte and 4300-byte plaintexts. Prints sustained requests/s, p50/p99/max latency, errors and the CPU
used by the server and by the load generator.

    python scripts/bench_xks.py --duration 60 --connections 16
Needs: softhsm2 and wrk (apt-get install softhsm2 wrk).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from xks_check import XksClient, request_metadata  # type: ignore[import-not-found]  # noqa: E402

from xks_proxy.devsetup import dev_setup  # noqa: E402

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
            r = client.call("encrypt", enc_payload, key_id)
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


def write_lua(requests: list[tuple[str, dict[str, str], str]], path: Path) -> None:
    lines = ["local reqs = {}"]
    for p, headers, body in requests:
        hdrs = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
        lines.append(f'reqs[#reqs + 1] = wrk.format("POST", {lua_string(p)}, {{{hdrs}}}, {lua_string(body)})')
    lines += [
        "local i = math.random(#reqs)",
        "request = function() i = i + 1; return reqs[(i % #reqs) + 1] end",
    ]
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


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0915
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=60, help="seconds per run (at most 240: SigV4 window)")
    p.add_argument("--connections", type=int, default=16, help="wrk keep-alive connections")
    p.add_argument("--threads", type=int, default=1, help="wrk threads")
    p.add_argument("--sizes", default="64,4300", help="plaintext sizes in bytes")
    p.add_argument("--signed", type=int, default=2000, help="distinct pre-signed requests per size")
    p.add_argument("--sessions", type=int, default=2, help="HSM sessions (worker threads) in the proxy")
    args = p.parse_args(argv)
    if not 5 <= args.duration <= 240:
        print(
            "error: --duration must be 5-240 s (pre-signed requests expire after 5 minutes)", file=sys.stderr
        )
        return 2
    if shutil.which("wrk") is None:
        print("error: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="xks-bench-") as tmp:
        setup = dev_setup(Path(tmp) / "dev", ("bench-key",), port=0, metrics_port=0)
        cfg_text = setup.config.read_text().replace("listen: 127.0.0.1:0\n", "listen: 127.0.0.1:18443\n", 1)
        cfg_text = cfg_text.replace("pin_file: hsm-pin", f"pin_file: hsm-pin\n  sessions: {args.sessions}")
        cfg_text = cfg_text.replace("listen: 127.0.0.1:0", "listen: 127.0.0.1:19464")
        setup.config.write_text(cfg_text)
        log_path = Path(tmp) / "proxy.log"
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "xks_proxy", "--config", str(setup.config)],
                cwd=ROOT,
                stderr=log_file,
                stdout=subprocess.DEVNULL,
            )
        try:
            creds = json.loads(setup.credentials.read_text())
            cred = creds["XksProxyAuthenticationCredential"]
            client = XksClient(
                "https://localhost:18443",
                creds["XksProxyUriPath"],
                cred["AccessKeyId"],
                cred["RawSecretAccessKey"],
                ca_file=str(setup.ca_cert),
            )
            for _ in range(100):
                try:
                    if (
                        client.call(
                            "health",
                            {
                                "requestMetadata": {
                                    "kmsRequestId": str(uuid.uuid4()),
                                    "kmsOperation": "KmsHealthCheck",
                                }
                            },
                        ).status
                        == 200
                    ):
                        break
                except OSError:
                    time.sleep(0.1)
            print(
                f"proxy: TLS 1.3, SoftHSM2, {args.sessions} HSM sessions, 1 process; wrk: {args.threads} thread(s), "
                f"{args.connections} keep-alive connections, {args.duration} s per size, 50/50 encrypt/decrypt"
            )
            print(
                f"{'plaintext':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7} "
                f"{'server CPU':>11} {'wrk CPU':>9}"
            )
            for size in sizes:
                client.close()  # the proxy closed the idle keep-alive connection during the last run
                reqs = build_requests(client, "bench-key", size, args.signed)
                lua = Path(tmp) / f"bench-{size}.lua"
                write_lua(reqs, lua)
                _children_cpu_delta()
                cpu0 = cpu_seconds(proc.pid)
                wrk = subprocess.run(  # noqa: S603
                    [  # noqa: S607
                        "wrk",
                        "-t",
                        str(args.threads),
                        "-c",
                        str(args.connections),
                        "-d",
                        f"{args.duration}s",
                        "--latency",
                        "-s",
                        str(lua),
                        "https://localhost:18443",
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                    env={**os.environ},
                )
                server_cpu = cpu_seconds(proc.pid) - cpu0
                # wrk's CPU: RUSAGE_CHILDREN of this process grows by exactly the reaped wrk.
                res = parse_wrk(wrk.stdout)
                wrk_cpu = _children_cpu_delta()
                print(
                    f"{size:>8}B {res['rps']:>9.0f} {res['p50_ms']:>8.2f} {res['p99_ms']:>8.2f} {res['max_ms']:>8.2f} "
                    f"{int(res['errors']):>7} {server_cpu / args.duration * 100:>9.0f} % {wrk_cpu / args.duration * 100:>7.0f} %"
                )
                if wrk.returncode != 0:
                    print(wrk.stdout, wrk.stderr, file=sys.stderr)
            client.close()
        finally:
            if os.environ.get("XKS_BENCH_LOG"):
                shutil.copy(log_path, os.environ["XKS_BENCH_LOG"])
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
    return 0


_last_children = [0.0]


def _children_cpu_delta() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = ru.ru_utime + ru.ru_stime
    delta, _last_children[0] = total - _last_children[0], total
    return delta


if __name__ == "__main__":
    sys.exit(main())
