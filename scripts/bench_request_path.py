#!/usr/bin/env python3
"""CPU per request of the proxy's request path, this checkout against a git revision (not a test).

``bench_xks.py`` measures throughput over TLS with wrk; on a host shared with other work its req/s
swing by tens of percent from run to run. This script measures what a code change costs per request
with much less noise: in one process per revision, a proxy (``ProxyServer``, SoftHSM2 token) answers
pre-signed Encrypt and Decrypt requests handed straight to ``XksApi.handle`` (no TLS, no sockets), and
the process's CPU time (all threads: event loop and HSM workers) is divided by the request count.
Revisions alternate, ``--repeat`` times each, and the medians are compared.

    python scripts/bench_request_path.py --baseline 3754851 --size 4300 --requests 3000 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.revisions import RevisionError, check_revision, extract_revision

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import asyncio, base64, json, os, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from scripts.xks_check import XksClient, request_metadata
from xks_proxy.api import Request
from xks_proxy.config import load_config
from xks_proxy.server import ProxyServer

config, size, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
creds = json.loads((Path(config).parent / "credentials.json").read_text())
cred = creds["XksProxyAuthenticationCredential"]
signer = XksClient("https://localhost:8443", creds["XksProxyUriPath"], cred["AccessKeyId"], cred["RawSecretAccessKey"])

def signed(op, payload):
    path = f"{signer.uri_path}/keys/bench-key/{op}"
    body = json.dumps(payload).encode()
    headers = {k.lower(): v for k, v in signer.signed_headers(path, body).items()}
    return Request("POST", path, headers, body, "127.0.0.1:1")

async def main():
    server = ProxyServer(load_config(config), config)
    await server.start()
    enc = {"requestMetadata": request_metadata("GenerateDataKey"), "encryptionAlgorithm": "AES_GCM",
           "plaintext": base64.b64encode(os.urandom(size)).decode(),
           "additionalAuthenticatedData": base64.b64encode(b"bench-aad").decode(),
           "ciphertextDataIntegrityValueAlgorithm": "SHA_256"}
    out = await server.api.handle(signed("encrypt", enc))
    assert out.status == 200, out.body
    ct = json.loads(out.body)
    dec = {"requestMetadata": request_metadata("Decrypt"), "encryptionAlgorithm": "AES_GCM",
           "additionalAuthenticatedData": enc["additionalAuthenticatedData"],
           **{k: ct[k] for k in ("ciphertext", "initializationVector", "authenticationTag")}}
    reqs = [signed("encrypt", enc) if i % 2 == 0 else signed("decrypt", dec) for i in range(count)]
    for r in reqs[:200]:  # warm-up: caches, leases, sessions
        await server.api.handle(r)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    gate = asyncio.Semaphore(16)  # 16 requests in flight, as wrk's 16 connections (the HSM queue holds 256)

    async def one(r):
        async with gate:
            return await server.api.handle(r)

    statuses = await asyncio.gather(*(one(r) for r in reqs))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    bad = sum(o.status != 200 for o in statuses)
    await server.stop()
    print(json.dumps({"cpu_us": cpu / count * 1e6, "wall_s": wall, "errors": bad}))

asyncio.run(main())
"""


def run_once(src: Path, config: Path, size: int, count: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env["PYTHONPATH"] = str(src)
    done = subprocess.run(  # noqa: S603 - this interpreter, the script above
        [sys.executable, "-c", CHILD, str(config), str(size), str(count), str(src)],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-1500:])
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="git revision to compare with (e.g. 3754851)")
    ap.add_argument("--size", type=int, default=4300, help="plaintext bytes (0-4300)")
    ap.add_argument("--requests", type=int, default=3000, help="requests per run, half encrypt half decrypt")
    ap.add_argument("--repeat", type=int, default=5, help="runs per revision, alternating")
    args = ap.parse_args()
    if not 0 <= args.size <= 4300 or args.requests < 10 or args.repeat < 1:
        print("error: --size 0-4300, --requests >= 10, --repeat >= 1", file=sys.stderr)
        return 2
    try:
        check_revision(args.baseline)
    except RevisionError as error:
        print(f"error: --baseline: {error}", file=sys.stderr)
        return 2
    from xks_proxy.devsetup import dev_setup

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory(prefix="xks-path-") as tmp:
        setup = dev_setup(Path(tmp) / "dev", ("bench-key",), port=0, metrics_port=0)
        revisions = [
            ("working tree", ROOT),
            (
                args.baseline,
                extract_revision(
                    args.baseline,
                    Path(tmp) / "base",
                    ("xks_proxy", "scripts/xks_check.py"),
                    optional=("scripts/__init__.py",),
                ),
            ),
        ]
        cpu: dict[str, list[float]] = {name: [] for name, _ in revisions}
        for run in range(args.repeat):
            for name, src in revisions if run % 2 == 0 else revisions[::-1]:
                res = run_once(src, setup.config, args.size, args.requests)
                cpu[name].append(res["cpu_us"])
                print(
                    f"{name:>12} run {run + 1}: {res['cpu_us']:.0f} us CPU/request, "
                    f"{args.requests / res['wall_s']:.0f} req/s in-process, errors {int(res['errors'])}",
                    flush=True,
                )
        new, old = statistics.median(cpu["working tree"]), statistics.median(cpu[args.baseline])
        print(
            f"median CPU per request ({args.size} B, {args.repeat} runs each): working tree {new:.0f} us, "
            f"{args.baseline} {old:.0f} us ({(new - old) / old * 100:+.1f} %)"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
