#!/usr/bin/env python3
"""Issue 21's findings 1-6, measured the same way on two revisions of the proxy (not a test).

Each revision's ``xks_proxy/`` is taken with ``git archive`` into a temporary directory and run as
``python -m xks_proxy`` with ``server.workers: 2`` on a fresh SoftHSM2 token (made by this checkout's
dev-setup), TLS on loopback. For each finding the script prints what it counted:

1. a revoked credential after SIGHUP and one worker killed: old credential accepted / 12, new refused / 12;
2. ``max_unauthenticated_per_ip: 32``: idle connections from one address still open out of 80;
   ``rate_limit_rps: 5``: requests accepted out of 30 sent at once, with the elapsed time;
3. ``xks_key_encryptions_total{key}`` over 8 scrapes after 10 encryptions: the values seen;
4. a GCM cap of 6 (``hsm.gcm_invocation_limit``, where the revision has it): encryptions accepted of 20,
   then of 5 after a restart, and decryptions accepted after it;
5. one worker stopped (SIGSTOP) for 5 s: API requests and ``/healthz`` probes timed out, of 10 each;
6. a Host holding ``#``, a 20,000-deep JSON body and ``Content-Type: text/plain``: HTTP statuses;
   ``proxy_protocol_from: [127.0.0.0/8]``: started or refused; dev-setup: PINs seen on command lines.

    python scripts/fleet_findings.py --before 3754851 --after HEAD
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from scripts.revisions import RevisionError, check_revision, extract_revision

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.xks_check import XksClient, request_metadata  # noqa: E402
from xks_proxy.devsetup import dev_setup, random_access_key_id, random_secret  # noqa: E402

KEY = "demo-key-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(predicate: Callable[[], Any], limit: float) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, http.client.HTTPException):
            if predicate():
                return True
        time.sleep(0.1)
    return False


def enc() -> dict[str, Any]:
    return {
        "requestMetadata": request_metadata("Encrypt"),
        "plaintext": base64.b64encode(b"data key").decode(),
        "encryptionAlgorithm": "AES_GCM",
    }


class Proxy:
    def __init__(
        self, src: Path, work: Path, server: dict[str, Any], hsm: dict[str, Any], ks: dict[str, Any]
    ) -> None:
        self.src = src
        self.setup = dev_setup(work / "dev", (KEY,), port=0, metrics_port=0)
        self.port, self.metrics_port = free_port(), free_port()
        cfg = yaml.safe_load(self.setup.config.read_text())
        cfg["server"].update(listen=f"127.0.0.1:{self.port}", workers=2, **server)
        cfg["metrics"] = {"listen": f"127.0.0.1:{self.metrics_port}"}
        cfg["hsm"].update(hsm)
        cfg["keystores"][0].update(ks)
        self.config = self.setup.config
        self.config.write_text(yaml.safe_dump(cfg))
        creds = json.loads(self.setup.credentials.read_text())["XksProxyAuthenticationCredential"]
        self.akid, self.secret = creds["AccessKeyId"], creds["RawSecretAccessKey"]
        self.uri = json.loads(self.setup.credentials.read_text())["XksProxyUriPath"]
        self.log = work / "proxy.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ops_only: bool = False) -> bool:
        """Start; True once it serves (``ops_only``: once its ops port answers), False if it exited."""
        env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        env["PYTHONPATH"] = str(self.src)
        out = self.log.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "xks_proxy", "--config", str(self.config)],
            cwd=self.src,
            env=env,
            stdout=out,
            stderr=out,
        )
        proc = self.proc

        def ready() -> bool:
            return self.healthz(1) > 0 if ops_only else self.health() == 200

        if not (wait(lambda: proc.poll() is not None or ready(), 60) and proc.poll() is None):
            return False
        if ops_only:
            return True
        # One worker answering is not both listening: wait for two children, then give the second
        # the time to bind its sockets (the revision before the fix exports nothing to wait on).
        wait(lambda: len(self.workers()) == 2, 30)
        time.sleep(2)
        return True

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def workers(self) -> list[int]:
        assert self.proc is not None
        text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return [int(p) for p in text.split()]

    def client(self, akid: str | None = None, secret: str | None = None, timeout: float = 5) -> XksClient:
        return XksClient(
            f"https://localhost:{self.port}",
            self.uri,
            akid or self.akid,
            secret or self.secret,
            ca_file=str(self.setup.ca_cert),
            timeout=timeout,
        )

    def call(
        self, op: str = "encrypt", payload: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[int, dict[str, Any]]:
        c = self.client(**kw)
        try:
            r = c.call(op, payload or enc(), KEY)
            return r.status, r.body
        finally:
            c.close()

    def health(self) -> int:
        c = self.client()
        try:
            meta = {"kmsRequestId": "findings", "kmsOperation": "KmsHealthCheck"}
            return c.call("health", {"requestMetadata": meta}).status
        finally:
            c.close()

    def metrics_text(self) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=5)
        try:
            conn.request("GET", "/metrics")
            return conn.getresponse().read().decode()
        finally:
            conn.close()

    def healthz(self, timeout: float) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=timeout)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status
        finally:
            conn.close()

    def edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        cfg = yaml.safe_load(self.config.read_text())
        change(cfg)
        self.config.write_text(yaml.safe_dump(cfg))


@contextlib.contextmanager
def proxy(
    src: Path,
    work: Path,
    server: dict[str, Any] | None = None,
    hsm: dict[str, Any] | None = None,
    ks: dict[str, Any] | None = None,
) -> Iterator[Proxy]:
    p = Proxy(src, work, server or {}, hsm or {}, ks or {})
    try:
        if not p.start():
            raise RuntimeError(f"proxy did not start: {p.log.read_text()[-1500:]}")
        yield p
    finally:
        p.stop()


def has(src: Path, option: str) -> bool:
    return f'"{option}"' in (src / "xks_proxy" / "config.py").read_text()


def finding1(src: Path, work: Path) -> str:
    with proxy(src, work) as p:
        akid, secret = random_access_key_id(), random_secret()
        (p.config.parent / "sigv4-2").write_text(secret + "\n")
        p.edit(
            lambda c: c["keystores"][0].update(
                credentials=[{"access_key_id": akid, "secret_access_key_file": "sigv4-2"}]
            )
        )
        assert p.proc is not None
        p.proc.send_signal(signal.SIGHUP)
        wait(lambda: all(p.call(akid=akid, secret=secret)[0] == 200 for _ in range(8)), 20)
        before = set(p.workers())
        os.kill(sorted(before)[0], signal.SIGKILL)
        wait(lambda: len(set(p.workers()) - before) == 1 and len(p.workers()) == 2, 20)
        wait(lambda: p.healthz(2) == 200, 20)
        time.sleep(1)  # the new worker's listener is bound
        old_ok = sum(p.call()[0] == 200 for _ in range(12))
        new_refused = sum(p.call(akid=akid, secret=secret)[0] != 200 for _ in range(12))
    return f"old credential accepted {old_ok}/12, new refused {new_refused}/12"


def finding2(src: Path, work: Path) -> str:
    with proxy(
        src,
        work / "a",
        server={"handshake_timeout_s": 30, "auth_timeout_s": 60, "connection_rate_per_ip": 1000},
    ) as p:
        socks = [socket.create_connection(("127.0.0.1", p.port)) for _ in range(80)]
        time.sleep(1.5)
        open_ = 0
        for s in socks:
            s.setblocking(False)
            try:
                open_ += s.recv(1) != b""
            except BlockingIOError:
                open_ += 1
            except OSError:
                pass
            s.close()
    with proxy(src, work / "b", ks={"rate_limit_rps": 5}) as p:
        clients = [p.client() for _ in range(6)]
        time.sleep(1.2)  # the bucket(s) full
        t0 = time.monotonic()
        ok = sum(c.call("encrypt", enc(), KEY).status == 200 for c in clients for _ in range(5))
        elapsed = time.monotonic() - t0
        for c in clients:
            c.close()
    return f"per-IP cap 32: {open_}/80 held open; rate_limit_rps 5: {ok}/30 accepted in {elapsed:.2f} s"


def finding3(src: Path, work: Path) -> str:
    with proxy(src, work) as p:
        for _ in range(10):
            p.call()
        time.sleep(1.2)  # workers publish their counts at most a second late
        seen = []
        for _ in range(8):
            values = re.findall(
                rf'^xks_key_encryptions_total\{{key="{KEY}"\}} (\S+)$', p.metrics_text(), re.M
            )
            seen.append("+".join(str(int(float(v))) for v in values) or "-")
    return "values over 8 scrapes: " + " ".join(seen)


def finding4(src: Path, work: Path) -> str:
    capped = has(src, "gcm_invocation_limit")
    hsm = {"gcm_invocation_limit": 6, "gcm_lease_block": 2, "encryption_alert_count": 4} if capped else {}
    p = Proxy(src, work, {}, hsm, {})
    try:
        if not p.start():
            raise RuntimeError(p.log.read_text()[-1500:])
        results = [p.call() for _ in range(20)]
        kept = next(body for status, body in results if status == 200)
        first = sum(status == 200 for status, _ in results)
        p.stop()
        if not p.start():
            raise RuntimeError(p.log.read_text()[-1500:])
        second = sum(p.call()[0] == 200 for _ in range(5))
        dec = {
            "requestMetadata": request_metadata("Decrypt"),
            "encryptionAlgorithm": "AES_GCM",
            **{k: kept[k] for k in ("ciphertext", "initializationVector", "authenticationTag")},
        }
        decrypted = sum(p.call("decrypt", dec)[0] == 200 for _ in range(5))
    finally:
        p.stop()
    cap = "cap 6" if capped else "no cap option"
    return f"{cap}: encryptions accepted {first}/20, after restart {second}/5; decryptions {decrypted}/5"


def finding5(src: Path, work: Path) -> str:
    server = {"heartbeat_timeout_s": 2} if has(src, "heartbeat_timeout_s") else {}
    with proxy(src, work, server=server) as p:
        victim = p.workers()[1]
        os.kill(victim, signal.SIGSTOP)
        try:
            time.sleep(5)
            api_timeouts = 0
            for _ in range(10):
                try:
                    p.call(timeout=2)
                except (OSError, http.client.HTTPException):
                    api_timeouts += 1
            probe_timeouts = 0
            for _ in range(10):
                try:
                    p.healthz(2)
                except (OSError, http.client.HTTPException):
                    probe_timeouts += 1
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGCONT)
    return f"API timeouts {api_timeouts}/10, /healthz timeouts {probe_timeouts}/10"


def finding6(src: Path, work: Path) -> str:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    out = []
    with proxy(src, work / "a") as p:
        path = f"{p.uri}/keys/{KEY}/encrypt"

        def send(host: str, body: bytes, ctype: str) -> int:
            req = AWSRequest(
                method="POST",
                url=f"https://{host}{path}",
                data=body,
                headers={"Host": host, "Content-Type": ctype},
            )
            SigV4Auth(Credentials(p.akid, p.secret), "kms-xks-proxy", "eu-west-3").add_auth(req)
            c = p.client()
            try:
                return c.raw("POST", path, body, dict(req.headers.items())).status
            finally:
                c.close()

        body = json.dumps(enc()).encode()
        out.append(f"Host with '#': {send(f'localhost:{p.port}{p.uri}/health#', body, 'application/json')}")
        out.append(
            f"deep JSON: {send(f'localhost:{p.port}', b'[' * 20000 + b']' * 20000, 'application/json')}"
        )
        out.append(f"text/plain: {send(f'localhost:{p.port}', body, 'text/plain')}")
    pp = Proxy(src, work / "b", {"proxy_protocol_from": ["127.0.0.0/8"]}, {}, {})
    started = pp.start(ops_only=True)  # its PROXY-less test client could not pass: the ops port says it runs
    pp.stop()
    out.append("PROXY range: " + ("started" if started else "refused"))
    code = (
        "import subprocess, sys, pathlib\n"
        "argvs = []\n"
        "real = subprocess.Popen\n"
        "class R(real):\n"
        "    def __init__(self, args, *a, **k):\n"
        "        argvs.append(' '.join(map(str, args))); super().__init__(args, *a, **k)\n"
        "subprocess.Popen = R\n"
        "from xks_proxy.devsetup import dev_setup\n"
        "s = dev_setup(pathlib.Path(sys.argv[1]), ('k',), port=0, metrics_port=0)\n"
        "pin = (s.directory / 'hsm-pin').read_text().strip()\n"
        "print(sum(pin in a for a in argvs))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(  # noqa: S603 - this interpreter, code above
        [sys.executable, "-c", code, str(work / "c")],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    out.append(f"command lines with the PIN: {done.stdout.strip() or done.stderr.strip()[-200:]}")
    return "; ".join(out)


FINDINGS = (finding1, finding2, finding3, finding4, finding5, finding6)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="3754851", help="revision before the fix (default: 3754851)")
    ap.add_argument("--after", default="HEAD", help="revision with the fix (default: HEAD)")
    ap.add_argument("--only", type=int, action="append", help="finding number(s) to run (default: all)")
    args = ap.parse_args()
    for flag, rev in (("--before", args.before), ("--after", args.after)):
        try:
            check_revision(rev)
        except RevisionError as error:
            print(f"error: {flag}: {error}", file=sys.stderr)
            return 2
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="xks-findings-") as tmp:
        revs = {
            name: extract_revision(rev, Path(tmp) / name)
            for name, rev in (("before", args.before), ("after", args.after))
        }
        for number, fn in enumerate(FINDINGS, 1):
            if args.only and number not in args.only:
                continue
            for name, src in revs.items():
                try:
                    result = fn(src, Path(tmp) / f"{name}-{number}")
                except Exception as exc:  # a measurement that could not run is printed, not hidden
                    result = f"not measured: {type(exc).__name__}: {str(exc)[:300]}"
                print(f"finding {number} {name:6}: {result}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
