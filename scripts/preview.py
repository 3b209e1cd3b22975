#!/usr/bin/env python3
"""Offline preview: runs the real Pulumi program under mocks (no cloud account, no Pulumi CLI).

    scripts/preview.py                      # every stack in stacks/, a table each
    scripts/preview.py --stack aws-xks-paris --json preview.json
    scripts/preview.py --json reports/preview   # every stack: one <stack>.json per stack in that folder
    scripts/preview.py --project examples/aws-platform --stack dev --json dev.json \
        --placeholder-secret xksAccessKeyId --placeholder-secret xksSecretAccessKey
                                            # another Pulumi project (Pulumi.yaml, its stack file)

The JSON has the shape of `pulumi preview --json`, so the same tools read either. With --stack,
--json names a file, or an existing folder to write <stack>.json into. Output paths are checked
before any preview runs; files are written atomically (nothing half-written, no temporary left).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from stacks.config import ConfigError
from stacks.offline import (
    PLACEHOLDERS,
    Preview,
    StackFileError,
    StackNotFoundError,
    run_preview,
    run_project_preview,
    stack_names,
)
from tooling.cli import (
    BadInputError,
    Exit,
    Parser,
    atomic_writer,
    check_out_dir,
    check_out_file,
    read_yaml,
    run,
)


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
    with atomic_writer(path) as handle:
        json.dump(document, handle, indent=2, sort_keys=False)
        handle.write("\n")


def _targets(json_path: Path | None, stacks: list[str], one: bool) -> dict[str, Path]:
    """Where each stack's JSON goes, checked before any preview runs."""
    if json_path is None:
        return {}
    if one and not json_path.is_dir():
        return {stacks[0]: check_out_file(json_path, "--json")}
    check_out_dir(json_path, "--json")
    return {stack: json_path / f"{stack}.json" for stack in stacks}


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="preview", description=__doc__)
    parser.add_argument("--stack", help=f"stack to preview (default: all of {', '.join(stack_names())})")
    parser.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        help="write JSON as `pulumi preview --json` does; with several stacks, a folder of <stack>.json",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the summary line of each stack")
    parser.add_argument(
        "--project",
        type=Path,
        metavar="DIR",
        help="preview another Pulumi Python project (its Pulumi.yaml and Pulumi.<stack>.yaml); needs --stack",
    )
    parser.add_argument(
        "--placeholder-secret",
        action="append",
        default=[],
        metavar="KEY",
        help="with --project: a secret the project sets outside its stack file; the preview gives it a "
        "clearly fake placeholder, marked secret (repeatable; KEY without namespace is the project's)",
    )
    args = parser.parse_args(argv)
    if args.project is not None:
        return run("preview", lambda: _preview_project(args), debug=args.debug, bad_input=_BAD_INPUT)
    return run("preview", lambda: _preview(args), debug=args.debug, bad_input=_BAD_INPUT)


_BAD_INPUT = (ConfigError, StackFileError, StackNotFoundError)


def _preview_project(args: Any) -> int:
    """One stack of another Pulumi project, previewed under the same mocks as this one's."""
    if not args.stack:
        raise BadInputError("--project: needs --stack (the project's Pulumi.<stack>.yaml)")
    if not (args.project / "Pulumi.yaml").is_file():
        raise BadInputError(
            f"--project: {args.project} has no Pulumi.yaml (a Pulumi project folder is expected)"
        )
    target = _targets(args.json, [args.stack], True).get(args.stack)
    manifest = read_yaml(args.project / "Pulumi.yaml", "project file")
    project = str(manifest.get("name", "")) if isinstance(manifest, dict) else ""
    overrides: dict[str, str] = {}
    for name in args.placeholder_secret:
        key = name if ":" in name else f"{project}:{name}"
        # The shaped placeholders where the key is one of this project's credentials, else a plain one.
        shaped = {k.split(":", 1)[1]: v for k, v in PLACEHOLDERS.items()}
        overrides[key] = shaped.get(key.split(":", 1)[1], "preview-placeholder-secret")
    started = time.perf_counter()
    preview = run_project_preview(
        args.project, args.stack, overrides=overrides, secret_overrides=set(overrides)
    )
    output = table(preview)
    print(output.splitlines()[-1] if args.quiet else output)
    print(f"{args.stack}: previewed in {time.perf_counter() - started:.2f} s", file=sys.stderr)
    if target is not None:
        write_json(preview.document, target)
        print(f"{args.stack}: wrote {target}", file=sys.stderr)
    return Exit.PASS


def _preview(args: Any) -> int:
    stacks = [args.stack] if args.stack else stack_names()
    if not stacks:
        raise BadInputError("no stacks/Pulumi.<stack>.yaml found")
    if args.stack and args.stack not in stack_names():
        raise StackNotFoundError(f"--stack: unknown stack {args.stack!r} (known: {', '.join(stack_names())})")
    targets = _targets(args.json, stacks, bool(args.stack))
    failed = 0
    for stack in stacks:
        started = time.perf_counter()
        try:
            preview = run_preview(stack)
        except (ConfigError, StackFileError) as error:
            print(f"preview: error: {' '.join(str(error).split())}", file=sys.stderr)
            failed += 1
            continue
        output = table(preview)
        print(output.splitlines()[-1] if args.quiet else output)
        print(f"{stack}: previewed in {time.perf_counter() - started:.2f} s", file=sys.stderr)
        if stack in targets:
            write_json(preview.document, targets[stack])
            print(f"{stack}: wrote {targets[stack]}", file=sys.stderr)
    return Exit.BAD_INPUT if failed else Exit.PASS


if __name__ == "__main__":
    sys.exit(main())
