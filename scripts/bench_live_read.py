#!/usr/bin/env python3
"""Benchmark: the live AWS read, one call after another vs in parallel, on a local emulator.

The same emulated account (moto, in its own process on 127.0.0.1) holds the same resources in each
of N regions: a KMS key and alias, an encrypted log group, secret, backup vault, EBS volume and a
DynamoDB table (plus one S3 bucket). A latency is injected per call on the emulator's side (a WSGI
wrapper sleeps before answering) to stand for a real endpoint's round trip. For each N the account
is read serially (``--workers 1``) and in parallel, and the table gives the calls made, the wall
times and the speed-up; the two reads must give the same findings (exit 1 if not).

Examples:
  scripts/bench_live_read.py                           # 1, 5 and 10 regions, 50 ms per call
  scripts/bench_live_read.py --regions 10 --latency-ms 50 --workers 16
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

from tooling.cli import Exit, Parser, run  # noqa: E402

#: Regions the emulated account uses, home first (moto knows them all).
REGIONS = (
    "eu-west-3", "eu-west-1", "eu-west-2", "eu-central-1", "eu-north-1", "eu-south-1", "us-east-1",
    "us-east-2", "us-west-1", "us-west-2", "ap-northeast-1", "ap-southeast-1", "ap-southeast-2",
    "ca-central-1", "sa-east-1", "ap-south-1",
)  # fmt: skip
_LATENCY_PATH = "/__bench/latency"


def _positive(kind: type, low: float) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number of at least {low} (got {text!r})") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low} (got {value})")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="bench_live_read", description=__doc__)
    parser.add_argument(
        "--regions",
        type=_positive(int, 1),
        action="append",
        help=f"regions read in detail (repeatable; default 1, 5 and 10; at most {len(REGIONS)})",
    )
    parser.add_argument("--latency-ms", type=_positive(float, 0), default=50.0, help="per call (default 50)")
    parser.add_argument("--workers", type=_positive(int, 2), default=16, help="parallel reads (default 16)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # the emulator process
    return parser


# -- the emulator, in its own process ----------------------------------------------------------------


def _serve() -> int:
    """moto on 127.0.0.1 behind a wrapper that sleeps before each answer; prints its port."""
    import logging

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request

    app = DomainDispatcherApplication(create_backend_app)
    delay = [0.0]

    def with_latency(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == _LATENCY_PATH:
            delay[0] = float(environ.get("QUERY_STRING", "0").removeprefix("ms=")) / 1000
            start_response("204 No Content", [])
            return [b""]
        if delay[0]:
            time.sleep(delay[0])  # stands for a real endpoint's round trip
        return app(environ, start_response)  # type: ignore[no-any-return]

    server = make_server("127.0.0.1", 0, with_latency, threaded=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    return 0


def _set_latency(url: str, milliseconds: float) -> None:
    request = urllib.request.Request(f"{url}{_LATENCY_PATH}?ms={milliseconds}", method="POST")  # noqa: S310 - 127.0.0.1
    urllib.request.urlopen(request).close()  # noqa: S310 - 127.0.0.1 only


# -- the account ---------------------------------------------------------------------------------------


def _build(regions: Iterable[str]) -> None:
    import boto3

    s3: Any = boto3.client("s3", region_name=REGIONS[0])
    s3.create_bucket(Bucket="booking-bench", CreateBucketConfiguration={"LocationConstraint": REGIONS[0]})
    for region in regions:
        kms = boto3.client("kms", region_name=region)
        key = kms.create_key(Description="booking data", Tags=[{"TagKey": "app", "TagValue": "booking"}])
        arn = key["KeyMetadata"]["Arn"]
        kms.create_alias(AliasName="alias/booking-data", TargetKeyId=key["KeyMetadata"]["KeyId"])
        boto3.client("logs", region_name=region).create_log_group(logGroupName="/booking/app", kmsKeyId=arn)
        boto3.client("secretsmanager", region_name=region).create_secret(
            Name="booking/db", SecretString="bench", KmsKeyId=arn
        )
        boto3.client("backup", region_name=region).create_backup_vault(
            BackupVaultName="booking-vault", EncryptionKeyArn=arn
        )
        boto3.client("ec2", region_name=region).create_volume(
            AvailabilityZone=f"{region}a", Size=8, Encrypted=True, KmsKeyId=arn
        )
        boto3.client("dynamodb", region_name=region).create_table(
            TableName="booking-slots",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read(url: str, regions: list[str], workers: int) -> tuple[float, int, list[tuple[str, str, str, str]]]:
    from policies.audit import audit_stack
    from policies.inputs.live.aws import AwsReader
    from policies.inputs.live.guard import read_only_session

    reader = AwsReader(read_only_session(), endpoint_url=url, workers=workers)
    started = time.perf_counter()
    stack = reader.read(regions)
    seconds = time.perf_counter() - started
    findings = [(f.rule_id, f.resource_urn, f.message, str(f.status)) for f in audit_stack(stack).findings]
    return seconds, reader.coverage.calls, findings


def _bench(args: argparse.Namespace) -> int:
    counts = sorted(set(args.regions or [1, 5, 10]))
    if counts[-1] > len(REGIONS):
        print(
            f"bench_live_read: error: --regions: at most {len(REGIONS)} (got {counts[-1]})", file=sys.stderr
        )
        return Exit.BAD_INPUT
    env = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGIONS[0],
           "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
           "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}  # fmt: skip
    os.environ.update(env)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    server = subprocess.Popen(  # noqa: S603 - this script, on 127.0.0.1
        [sys.executable, __file__, "--serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the emulator logs a traceback for each call it does not implement
        text=True,
        env={**os.environ, **env},
    )
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        os.environ["AWS_ENDPOINT_URL"] = url
        _build(REGIONS[: counts[-1]])
        _set_latency(url, args.latency_ms)
        rows = []
        same = True
        for count in counts:
            regions = list(REGIONS[:count])
            serial = _read(url, regions, 1)
            cpu = _cpu_seconds(server.pid)
            parallel = _read(url, regions, args.workers)
            # The emulator answers in one process: when its CPU time nears the parallel wall time, it is
            # the bound, not the reader (a real endpoint serves calls in parallel).
            cpu = _cpu_seconds(server.pid) - cpu
            equal = serial[2] == parallel[2]
            same = same and equal
            rows.append((count, serial[1], parallel[1], serial[0], parallel[0], cpu, len(serial[2]), equal))
            print(f"  {count} region(s) done", file=sys.stderr, flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"live AWS read, moto on 127.0.0.1 with {args.latency_ms:g} ms per call, {args.workers} workers "
          "(tag sweep over every enabled region in both modes)")  # fmt: skip
    print("| regions | calls (serial / parallel) | serial wall | parallel wall | speed-up | emulator CPU "
          "during the parallel read | findings | same |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|:---:|")
    for count, calls_s, calls_p, wall_s, wall_p, cpu, findings, equal in rows:
        print(f"| {count} | {calls_s} / {calls_p} | {wall_s:.1f} s | {wall_p:.1f} s | {wall_s / wall_p:.1f}x | "
              f"{cpu:.1f} s | {findings} | {'yes' if equal else 'NO'} |")  # fmt: skip
    print(json.dumps({"rows": rows}), file=sys.stderr)
    return Exit.PASS if same else Exit.FINDING


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.serve:
        return _serve()
    return run("bench_live_read", lambda: _bench(args), debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
