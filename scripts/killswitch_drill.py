#!/usr/bin/env python3
"""The kill-switch drill: prove that the French custodian can make booking records unreadable on AWS.

    python scripts/killswitch_drill.py --out DIR            # local: proxy on a SoftHSM token, KMS simulated
    python scripts/killswitch_drill.py --out DIR --live --custom-key-store-id cks-... --key-id arn:...

Local mode starts the XKS proxy (``python -m xks_proxy``) on a fresh SoftHSM2 token and plays AWS KMS's
side of the XKS protocol -- a SIMULATION of KMS, not KMS: it wraps one data key per record under the
external key through the proxy (GenerateDataKey -> XKS Encrypt with request metadata, AAD and a CDIV it
checks), encrypts synthetic booking records with those data keys, and unwraps them again through the
proxy (Decrypt). The simulated KMS caches nothing, so every read goes to the proxy. Then each switch:

  (a) the custodian disables the key in the HSM (`python -m xks_proxy keys disable`), then enables it;
  (b) the proxy's SigV4 credential is revoked (config reload), then restored; and the proxy is stopped,
      then started again (what disconnecting the key store amounts to for the proxy: no KMS traffic);
  (c) the key is destroyed in the HSM (crypto-shredding); re-creating a key under the same id does
      not bring the records back.

For each: time to effect at the proxy, the exact XKS error KMS would receive, the records readable
after it, and (for (a), (b)) after undoing it. The report also lists, from AWS documentation, how long
AWS services may go on working from data keys they already hold (data/facts/cached_data_keys.yaml).
Writes DIR/drill.json and DIR/drill.md. Exit 0 only if every switch made every record unreadable and
every reversible switch restored them all; 1 if not; 2 bad usage; 3 the proxy or AWS could not be
reached to run the drill; 4 internal error (--debug shows the traceback).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from facts.providers import home_region
from scripts.killswitch_local import DrillError, run_local
from scripts.killswitch_report import OutputDir, OutputDirError, write_report
from tooling.cli import Parser

HOME = home_region("aws")


def _parser() -> argparse.ArgumentParser:
    # The shared contract's parser: one-line usage errors (exit 2), --debug, the exit codes in --help.
    p = Parser(prog="killswitch_drill.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="directory for drill.json and drill.md (created if absent)")
    p.add_argument("--records", type=int, default=12, help="synthetic booking records (1-500, default 12)")
    p.add_argument(
        "--key-cache-s",
        type=float,
        default=2.0,
        help="the proxy's hsm.key_cache_ttl_s (default 2, its production default)",
    )
    p.add_argument("--live", action="store_true", help="perform switch (b) on a real AWS account instead")
    p.add_argument("--custom-key-store-id", help="--live: the external key store (cks-...)")
    p.add_argument("--key-id", help="--live: a KMS key in that key store (ARN or id)")
    p.add_argument("--region", default=HOME, help=f"--live: AWS region (default {HOME})")
    p.add_argument("--wait-s", type=float, default=900.0, help="--live: longest wait for a state change")
    return p


def _usage_problem(args: argparse.Namespace) -> str | None:
    if not 1 <= args.records <= 500:
        return f"--records: between 1 and 500, got {args.records}"
    if not 0 <= args.key_cache_s <= 60:
        return f"--key-cache-s: between 0 and 60, got {args.key_cache_s}"
    if args.live and not (args.custom_key_store_id and args.key_id):
        return "--live needs --custom-key-store-id and --key-id"
    return None


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # usage error (one line already printed) or --help
        return int(done.code or 0)
    try:
        problem = _usage_problem(args)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        out = OutputDir(Path(args.out))  # checked before any long work
        result: dict[str, Any]
        if args.live:
            from scripts.killswitch_live import live_drill

            result = live_drill(args.custom_key_store_id, args.key_id, args.region, args.wait_s)
        else:
            with tempfile.TemporaryDirectory(prefix="xks-drill-") as work:
                result = run_local(Path(work), args.records, args.key_cache_s)
        write_report(out, result)
        print(f"drill: {'PASS' if result['ok'] else 'FAIL'}; report in {out.path / 'drill.md'}")
        return 0 if result["ok"] else 1
    except OutputDirError as exc:
        print(f"error: --out: {exc}", file=sys.stderr)
        return 2
    except DrillError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: internal: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
        return 4


if __name__ == "__main__":
    sys.exit(main())
