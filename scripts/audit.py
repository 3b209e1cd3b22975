#!/usr/bin/env python3
"""Audits stacks against the policy rules and writes the reports auditors read.

With no arguments, every stack in stacks/ is previewed offline (the real program under mocks) and
audited. Reports go to --out (default reports/): junit.xml, results.sarif, findings.json,
index.html, and checkov's own JUnit and SARIF (checkov/) when its environment (.venv-checkov) is
there. Exit status: 0 when no mandatory rule fails, 1 when one does, 2 when the input or the
exceptions register cannot be read.

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

import yaml  # noqa: E402

from policies.audit import AuditResult, audit_stack  # noqa: E402
from policies.checkov import runner as checkov_runner  # noqa: E402
from policies.exceptions import ExceptionsError  # noqa: E402
from policies.exceptions import load as load_exceptions  # noqa: E402
from policies.inputs.export import load_export_file  # noqa: E402
from policies.inputs.preview import AdapterError, load_preview_file, stack_from_preview  # noqa: E402
from policies.model import Stack  # noqa: E402
from policies.outputs import reports, terraform_plan  # noqa: E402
from policies.rules import all_rules  # noqa: E402
from policies.settings import PolicyConfig, PolicyConfigError  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
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
    try:
        config = PolicyConfig()
        if args.config:
            config = PolicyConfig.from_mapping(yaml.safe_load(args.config.read_text()) or {})
        register = load_exceptions(args.exceptions, known_rules=[r.id for r in all_rules()])
        inputs = _load_stacks(args)
    except (AdapterError, ExceptionsError, PolicyConfigError, OSError) as error:
        print(f"audit: error: {error}", file=sys.stderr)
        return 2
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
            (plans / f"{name}.tfplan.json").write_text(json.dumps(terraform_plan.export(stack), indent=1))
        outcome = checkov_runner.run(plans, args.out / "checkov")
        checkov_summary = outcome.summary()
        print(f"checkov: {outcome.describe()}")
    paths = reports.write_all(results, args.out, {n: a for n, _, a in inputs}, checkov_summary, root=ROOT)
    print(_table(results))
    print("reports: " + ", ".join(str(p) for p in paths.values()))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
