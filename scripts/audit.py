#!/usr/bin/env python3
"""Audits stacks against the policy rules and writes the reports auditors read.

With no arguments, every stack in stacks/ is previewed offline (the real program under mocks) and
audited. Reports go to --out (default reports/): junit.xml, results.sarif, findings.json,
index.html, and checkov's own JUnit and SARIF (checkov/) when its environment (.venv-checkov) is
there. Exit status: 0 when no mandatory rule fails, 1 when one does, 2 when an input, the config or
the exceptions register cannot be read (one line naming the file and field), 4 on an internal error.
--out is checked before any work, and every report is written atomically.

Examples:
  scripts/audit.py                                  # every stack in stacks/
  scripts/audit.py --stack aws-xks-paris
  scripts/audit.py --from-export prod.json          # `pulumi stack export > prod.json` elsewhere
  scripts/audit.py --from-preview preview.json      # `pulumi preview --json > preview.json`
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policies import checkov_runner, reports, terraform_plan  # noqa: E402
from policies.adapters.export import load_export_file  # noqa: E402
from policies.adapters.preview import AdapterError, load_preview_file, stack_from_preview  # noqa: E402
from policies.audit import AuditResult, audit_stack  # noqa: E402
from policies.exceptions import ExceptionsError  # noqa: E402
from policies.exceptions import load as load_exceptions  # noqa: E402
from policies.model import Stack  # noqa: E402
from policies.rules import all_rules  # noqa: E402
from policies.settings import PolicyConfig, PolicyConfigError  # noqa: E402
from stacks.config import ConfigError  # noqa: E402
from stacks.offline import StackFileError, StackNotFoundError  # noqa: E402
from tooling.cli import Exit, Parser, atomic_write_text, check_out_dir, run  # noqa: E402

#: Errors that mean bad input (exit 2), each with a one-line message naming the file or field.
BAD_INPUT = (
    AdapterError,
    ExceptionsError,
    PolicyConfigError,
    ConfigError,
    StackFileError,
    StackNotFoundError,
)


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="audit", description=__doc__)
    parser.add_argument(
        "--stack", action="append", default=[], help="audit this stack of stacks/ (repeatable)"
    )
    parser.add_argument(
        "--from-export",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="audit a `pulumi stack export` file (repeatable)",
    )
    parser.add_argument(
        "--from-preview",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="audit a `pulumi preview --json` file (repeatable)",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "reports", help="report directory (default: reports/)"
    )
    parser.add_argument("--config", type=Path, help="policy config (YAML/JSON, the CrossGuard config keys)")
    parser.add_argument(
        "--exceptions", type=Path, help="exceptions register (default: policies/exceptions.yaml)"
    )
    parser.add_argument("--no-checkov", action="store_true", help="skip the checkov cross-check")
    return parser  # fmt: skip


def _load_stacks(args: argparse.Namespace) -> list[tuple[str, Stack, str]]:
    """(name, stack, artifact) for every input, previewing stacks/ offline when asked."""
    loaded: list[tuple[str, Stack, str]] = []
    for path in args.from_export:
        stack = load_export_file(path)
        loaded.append((stack.name, stack, str(path)))
    for path in args.from_preview:
        stack = load_preview_file(path)
        loaded.append((stack.name, stack, str(path)))
    names = list(args.stack)
    if not names and not loaded:
        from stacks.offline import stack_names

        names = stack_names()
    if names:
        from stacks.offline import run_preview

        for index, name in enumerate(names, 1):
            started = time.perf_counter()
            print(f"[{index}/{len(names)}] {name}: offline preview …", end="", flush=True)
            document = run_preview(name).document
            print(f" {len(document['steps'])} resources in {time.perf_counter() - started:.1f}s", flush=True)
            loaded.append((name, stack_from_preview(document, name), f"stacks/Pulumi.{name}.yaml"))
    return loaded


def _table(results: list[AuditResult]) -> str:
    rows = [("STACK", "RESULT", "RESOURCES", "RULES", "FAILED", "MANDATORY", "EXCEPTED")]
    for r in results:
        rows.append(
            (
                r.stack,
                "PASS" if r.passed else "FAIL",
                str(r.resources),
                str(len(r.rules_evaluated)),
                str(len(r.failed)),
                str(sum(f.mandatory for f in r.failed)),
                str(len(r.excepted)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    for r in results:
        for f in r.findings:
            mark = "EXCEPTED" if f.status == "excepted" else ("FAIL" if f.mandatory else "WARN")
            lines.append(
                f"  {mark:8} {r.stack} {f.rule_id} {f.resource_urn.rsplit('::', 1)[-1]}: {f.message}"
            )
            if f.status == "excepted":
                lines.append(
                    f"           justification: {f.justification} (owner {f.owner}, expires {f.expires})"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run("audit", lambda: _audit(args), debug=args.debug, bad_input=BAD_INPUT)


def _audit(args: argparse.Namespace) -> int:
    check_out_dir(args.out)
    config = PolicyConfig.from_file(args.config) if args.config else PolicyConfig()
    register = load_exceptions(args.exceptions, known_rules=[r.id for r in all_rules()])
    inputs = _load_stacks(args)
    results = []
    started = time.perf_counter()
    for _name, stack, source in inputs:
        results.append(audit_stack(stack, config=config, exceptions=register, source=source))
    print(
        f"audited {len(results)} stack(s) with {len(all_rules())} rules in {time.perf_counter() - started:.2f}s"
    )
    checkov_summary: dict[str, str] = {}
    if not args.no_checkov:
        plans = args.out / "checkov" / "plans"
        plans.mkdir(parents=True, exist_ok=True)
        for name, stack, _ in inputs:
            atomic_write_text(
                plans / f"{name}.tfplan.json", json.dumps(terraform_plan.export(stack), indent=1)
            )
        outcome = checkov_runner.run(plans, args.out / "checkov")
        checkov_summary = outcome.summary()
        print(f"checkov: {outcome.describe()}")
    paths = reports.write_all(results, args.out, {n: a for n, _, a in inputs}, checkov_summary, root=ROOT)
    print(_table(results))
    print("reports: " + ", ".join(str(p) for p in paths.values()))
    return Exit.PASS if all(r.passed for r in results) else Exit.FINDING


if __name__ == "__main__":
    sys.exit(main())
