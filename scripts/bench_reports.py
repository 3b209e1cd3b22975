#!/usr/bin/env python3
"""Benchmark: a large `pulumi stack export` audited and every report written, as a user runs it.

Builds an export of about --resources resources from copies of the aws-xks-paris offline preview
(renamed URNs; every other copy drifted: no key references, moved out of the allowed region, so findings
are many), then runs ``scripts/audit.py --from-export FILE --no-checkov --out DIR`` in its own process
and prints its wall time, its peak resident memory, the size of each report and the machine's load.
No test times this: it prints figures for a person to read.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from stacks.offline import run_preview
from tooling.cli import Parser

ROOT = Path(__file__).resolve().parent.parent


def _drift(value: Any) -> Any:
    """A drifted copy: no key references, and everything moved to a region outside the allowed set."""
    if isinstance(value, dict):
        return {k: _drift(v) for k, v in value.items() if k not in ("kmsKeyId", "kmsMasterKeyId")}
    if isinstance(value, list):
        return [_drift(v) for v in value]
    return "us-east-1" if value == "eu-west-3" else value


def build_export(target: int) -> dict[str, Any]:
    """An export (deployment version 3) of about ``target`` resources."""
    states = [step["newState"] for step in run_preview("aws-xks-paris").document["steps"]]
    stack_state, others = states[0], states[1:]
    resources: list[dict[str, Any]] = [stack_state]
    copies = max(1, target // len(others))
    # Names and ids are unique per copy, as in a real account (a bucket name is global).
    identifiers = sorted(
        {str(v) for s in others for k, v in (s.get("outputs") or {}).items() if k in ("id", "bucket", "arn")},
        key=len,
        reverse=True,
    )
    pattern = re.compile("|".join(re.escape(json.dumps(i)[1:-1]) for i in identifiers if len(i) > 3))
    template = json.dumps(others)
    for copy in range(copies):
        suffix = f"-{copy}"
        copied = json.loads(pattern.sub(lambda m: m.group(0) + suffix, template))  # noqa: B023 - used at once
        rename = {s["urn"]: f"{s['urn']}-{copy}" for s in others}
        for state in copied:
            provider = str(state.get("provider") or "")
            provider_urn, _, provider_id = provider.rpartition("::")
            entry = {
                **state,
                "urn": rename[state["urn"]],
                "id": (state.get("outputs") or {}).get("id", ""),
                "parent": rename.get(state.get("parent", ""), state.get("parent", "")),
                "provider": f"{rename.get(provider_urn, provider_urn)}::{provider_id}" if provider else "",
                "dependencies": [rename.get(d, d) for d in state.get("dependencies", [])],
            }
            if copy % 2:
                entry["inputs"] = _drift(entry["inputs"])
                entry["outputs"] = _drift(entry["outputs"])
            resources.append(entry)
    return {"version": 3, "deployment": {"manifest": {}, "resources": resources}}


def main() -> int:
    parser = Parser(description=__doc__)
    parser.add_argument("--resources", type=int, default=44_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "large-export.json"
        document = build_export(args.resources)
        export.write_text(json.dumps(document, indent=4))  # as `pulumi stack export` writes it
        count = len(document["deployment"]["resources"])
        del document
        out = Path(tmp) / "reports"
        command = [sys.executable, str(ROOT / "scripts/audit.py"), "--from-export", str(export)]
        command += ["--no-checkov", "--out", str(out)]
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own script
        wall = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"export: {count} resources, {export.stat().st_size / 1e6:.1f} MB")
        print(f"audit.py --from-export --no-checkov: exit {completed.returncode}, {wall:.1f} s wall, "
              f"peak RSS {peak_mb:.0f} MB")  # fmt: skip
        for line in completed.stdout.splitlines()[:1] + completed.stderr.splitlines()[-3:]:
            print(f"  | {line}")
        for path in sorted(out.glob("*")):
            if path.is_file():
                print(f"  {path.name}: {path.stat().st_size / 1e6:.1f} MB")
    print(f"load average (1, 5, 15 min): {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
          f"on {os.cpu_count()} cores (a shared machine: figures are indicative)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
