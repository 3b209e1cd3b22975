#!/usr/bin/env python3
"""Offline preview: runs the real Pulumi program under mocks (no cloud account, no Pulumi CLI).

    scripts/preview.py                      # every stack in stacks/, a table each
    scripts/preview.py --stack aws-xks-paris --json preview.json
    scripts/preview.py --json reports/preview   # every stack: one <stack>.json per stack in that folder

The JSON has the shape of `pulumi preview --json`, so the same tools read either.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from stacks.config import ConfigError
from stacks.offline import Preview, StackNotFoundError, run_preview, stack_names


def region_of(state: dict[str, Any], providers: dict[str, str], config: dict[str, Any]) -> str:
    """Region as the engine would resolve it: the resource's own, its provider's, or the stack's."""
    inputs = state.get("inputs", {})
    if isinstance(inputs.get("region"), str):
        return str(inputs["region"])
    if state["type"].startswith("pulumi:providers:"):
        return str(inputs.get("region", ""))
    provider_urn = (state.get("provider") or "").rsplit("::", 1)[0]
    if provider_urn in providers:
        return providers[provider_urn]
    package = state["type"].split(":")[0]
    return str(config.get(f"{package}:region", "-")) if package in ("aws", "scaleway") else "-"


def table(preview: Preview) -> str:
    config = preview.document["config"]
    states = preview.states
    providers = {
        s["urn"]: str(s["inputs"].get("region", ""))
        for s in states
        if s["type"].startswith("pulumi:providers:")
    }
    rows = [(s["type"], s["urn"].rsplit("::", 1)[1], region_of(s, providers, config)) for s in states]
    widths = [max(len(r[i]) for r in [("TYPE", "NAME", "REGION"), *rows]) for i in range(3)]
    lines = [f"{'TYPE':<{widths[0]}}  {'NAME':<{widths[1]}}  REGION"]
    lines += [f"{t:<{widths[0]}}  {n:<{widths[1]}}  {r}" for t, n, r in rows]
    regions = Counter(r for *_, r in rows)
    lines.append(
        f"{preview.stack}: {len(rows)} resources ({sum(1 for s in states if s['custom'])} cloud resources); "
        f"regions: {', '.join(f'{r} x{n}' for r, n in sorted(regions.items()))}"
    )
    return "\n".join(lines)


def write_json(document: dict[str, Any], path: Path) -> None:
    """Writes atomically: a reader never sees half a file, and a failure leaves no file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as handle:
        json.dump(document, handle, indent=2, sort_keys=False)
        handle.write("\n")
    os.replace(handle.name, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", help=f"stack to preview (default: all of {', '.join(stack_names())})")
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="write JSON as `pulumi preview --json` does; with several stacks, a folder of <stack>.json",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the summary line of each stack")
    args = parser.parse_args(argv)

    stacks = [args.stack] if args.stack else stack_names()
    if not stacks:
        parser.error("no stacks/Pulumi.<stack>.yaml found")
    failed = 0
    for stack in stacks:
        started = time.perf_counter()
        try:
            preview = run_preview(stack)
        except StackNotFoundError as error:
            parser.error(str(error))
        except ConfigError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        output = table(preview)
        print(output.splitlines()[-1] if args.quiet else output)
        print(f"{stack}: previewed in {time.perf_counter() - started:.2f} s", file=sys.stderr)
        if args.json:
            target = args.json if args.stack else args.json / f"{stack}.json"
            write_json(preview.document, target)
            print(f"{stack}: wrote {target}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
