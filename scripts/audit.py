#!/usr/bin/env python3
"""Audits stacks against the policy rules and writes the reports auditors read.

With no arguments, every stack in stacks/ is previewed offline (the real program under mocks) and
audited. Reports go to --out (default reports/): junit.xml, results.sarif, findings.json,
index.html, and checkov's own JUnit and SARIF (checkov/) when its environment (.venv-checkov) is
there. Exit status: 0 when no mandatory rule fails, 1 when one does (or checkov finds an untriaged
failure), 2 when an input, the config, the signing key or the exceptions register cannot be read
(one line naming the file and field), 3 when checkov could not run (its environment missing
included; --no-checkov skips the cross-check explicitly), 4 on an internal error.
--out is checked before any work, and every report is written atomically.

Examples:
  scripts/audit.py                                  # every stack in stacks/
  scripts/audit.py --stack aws-xks-paris
  scripts/audit.py --from-export prod.json          # `pulumi stack export > prod.json` elsewhere
  scripts/audit.py --from-preview preview.json      # `pulumi preview --json > preview.json`
  scripts/audit.py --sign-key auditor.pem           # also sign reports/evidence/ (Ed25519, PEM)
  scripts/audit.py --verify-evidence reports        # check the evidence of an earlier run
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from policies.audit import AuditResult, audit_stack  # noqa: E402
from policies.checkov import runner as checkov_runner  # noqa: E402
from policies.exceptions import DEFAULT_PATH as DEFAULT_EXCEPTIONS  # noqa: E402
from policies.exceptions import ExceptionsError  # noqa: E402
from policies.exceptions import load as load_exceptions  # noqa: E402
from policies.inputs.export import load_export_file  # noqa: E402
from policies.inputs.preview import AdapterError, load_preview_file, stack_from_preview  # noqa: E402
from policies.model import Stack  # noqa: E402
from policies.outputs import evidence, oscal, reports, terraform_plan  # noqa: E402
from policies.rules import all_rules  # noqa: E402
from policies.rules.providers import perimeter_evidence, qualified_universe, secnumcloud_only  # noqa: E402
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
    evidence.EvidenceError,
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
    parser.add_argument(
        "--sign-key",
        type=Path,
        metavar="FILE",
        help="sign the evidence manifest with this Ed25519 private key (PEM, unencrypted)",
    )
    parser.add_argument(
        "--verify-evidence",
        type=Path,
        metavar="DIR",
        help="only verify the evidence of an earlier run in DIR (hashes and signature)",
    )
    parser.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="with --verify-evidence: the Ed25519 public key (PEM) the signature must match",
    )
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


def _write_oscal(
    out: Path,
    inputs: list[tuple[str, Stack, str]],
    results: list[AuditResult],
    checkov_failures: list[checkov_runner.CheckovFailure],
    started: dt.datetime,
) -> list[Path]:
    """The OSCAL catalog, profiles and component definition, and this run's assessment results."""
    ended = dt.datetime.now(dt.UTC).replace(microsecond=0)
    written = oscal.write_static(out, ROOT, ended)
    observed = [
        oscal.Observed(r.stack, "rules", f.rule_id, f.title, f.resource_urn, f.status, f.message,
                       f.justification, f.owner, f.expires)
        for r in results
        for f in r.findings
    ] + [
        oscal.Observed(f.stack, "checkov", f.check_id, f.check_name, f.urn or f.address, f.status,
                       f.note or f.check_name, f.justification, f.owner, f.expires)
        for f in checkov_failures
    ]  # fmt: skip
    targets = {name: str(stack.config.get("booking:target", "")) for name, stack, _ in inputs}
    stacks = [(r.stack, targets.get(r.stack, ""), r.rules_evaluated) for r in results]
    document = oscal.assessment_results(stacks, observed, started, ended, started.isoformat())
    oscal.write_json(out / "assessment-results.json", document)
    return [*written, out / "assessment-results.json"]


def _record_inputs(
    record: evidence.RunRecord, args: argparse.Namespace, inputs: list[tuple[str, Stack, str]]
) -> None:
    """Every file the run read, by role, for the evidence manifest."""
    for path in args.from_export:
        record.add("export", path)
    for path in args.from_preview:
        record.add("preview", path)
    for _name, _stack, source in inputs:
        if source.startswith("stacks/"):
            record.add("stack", ROOT / source)
    if any(source.startswith("stacks/") for _, _, source in inputs):
        record.add("project", ROOT / "Pulumi.yaml")
    register = args.exceptions or DEFAULT_EXCEPTIONS
    if Path(register).is_file():
        record.add("exceptions", Path(register))
    if args.config:
        record.add("policy-config", args.config)


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


def _perimeter_what_if(
    inputs: list[tuple[str, Stack, str]], config: PolicyConfig, out: Path, written: list[Path]
) -> str:
    """Every stack judged by the qualified-perimeter rule as if its data required SecNumCloud (loi SREN
    art. 31): what a ministry needs to know of each option. Informational: the audit's exit status
    follows each stack's own requirement only. Written to <out>/secnumcloud-perimeter.json."""
    required = config.model_copy(update={"secnumcloud_only": True})
    rows = []
    for name, stack, _ in inputs:
        outside = [v for v in secnumcloud_only.check(stack, required) if v.resource is not None]
        # Inside a row that rests on the provider's documentation only: "in the offer, not confirmed in
        # the qualification's scope" (advisory, BK-PROV-005); and outside the qualified universe.
        unconfirmed = [v for v in perimeter_evidence.check(stack, required) if v.resource is not None]
        off_universe = [v for v in qualified_universe.check(stack, required) if v.resource is not None]
        rows.append(
            {
                "stack": name,
                "rule": secnumcloud_only.RULE.id,
                "result": "PASS" if not outside and not off_universe else "FAIL",
                "resourcesOutside": len(outside),
                "typesOutside": sorted({v.resource.type for v in outside if v.resource is not None}),
                "resourcesOutsideUniverse": len(off_universe),
                "resourcesNotConfirmedInScope": len(unconfirmed),
            }
        )
    out.mkdir(parents=True, exist_ok=True)
    target = out / "secnumcloud-perimeter.json"
    partial = target.with_suffix(".json.partial")
    partial.write_text(json.dumps({"secnumcloudRequired": rows}, indent=1))
    partial.replace(target)
    written.append(target)  # recorded in the evidence manifest with the other reports
    lines = [f"if SecNumCloud were required ({secnumcloud_only.RULE.id}, qualified perimeter): {target}"]
    lines += [
        f"  {r['result']:4} {r['stack']}: {r['resourcesOutside']} resource(s) outside the perimeter, "
        f"{r['resourcesOutsideUniverse']} outside the qualified universe; {r['resourcesNotConfirmedInScope']} "
        "in the offer but not confirmed in the qualification's scope (advisory)"
        for r in rows
    ]
    return "\n".join(lines)


def _verify_evidence(directory: Path, public_key: Path | None) -> int:
    try:
        verification = evidence.verify(directory, public_key)
    except evidence.EvidenceError as error:
        print(f"audit: error: {error}", file=sys.stderr)
        return 2
    for note in verification.notes:
        print(f"evidence: {note}")
    for problem in verification.problems:
        print(f"evidence: TAMPERED {problem}")
    print(f"evidence: {'VERIFIED' if verification.ok else 'NOT VERIFIED'} ({directory})")
    return 0 if verification.ok else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run("audit", lambda: _audit(args), debug=args.debug, bad_input=BAD_INPUT)


def _audit(args: argparse.Namespace) -> int:
    if args.verify_evidence:
        return _verify_evidence(args.verify_evidence, args.public_key)
    check_out_dir(args.out)
    record = evidence.RunRecord(rules=[r.id for r in all_rules()])
    signing_key = evidence.load_signing_key(args.sign_key) if args.sign_key else None
    config = PolicyConfig.from_file(args.config) if args.config else PolicyConfig()
    register = load_exceptions(args.exceptions, known_rules=[r.id for r in all_rules()])
    inputs = _load_stacks(args)
    _record_inputs(record, args, inputs)
    # The effective allow-lists and switches, whether from --config or the defaults in policies/settings.py.
    record.facts["policyConfig"] = config.model_dump(mode="json")
    run_started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    results = []
    started = time.perf_counter()
    for _name, stack, source in inputs:
        results.append(audit_stack(stack, config=config, exceptions=register, source=source))
    print(
        f"audited {len(results)} stack(s) with {len(all_rules())} rules in {time.perf_counter() - started:.2f}s"
    )
    checkov_summary: dict[str, str] = {}
    checkov_untriaged = 0
    checkov_failures: list[checkov_runner.CheckovFailure] = []
    checkov_missing = False
    written: list[Path] = []
    if not args.no_checkov:
        plans = args.out / "checkov" / "plans"
        plans.mkdir(parents=True, exist_ok=True)
        for name, stack, _ in inputs:
            atomic_write_text(
                plans / f"{name}.tfplan.json", json.dumps(terraform_plan.export(stack), indent=1)
            )
        try:
            outcome = checkov_runner.run(plans, args.out / "checkov", register)
        except checkov_runner.CheckovError as error:
            print(f"audit: error: {' '.join(str(error).split())}", file=sys.stderr)
            return Exit.INCOMPLETE
        checkov_summary = outcome.summary()
        print(f"checkov: {outcome.describe()}")
        print("\n".join(outcome.lines()))
        checkov_untriaged = len(outcome.untriaged)
        checkov_failures = outcome.failures
        # Fail closed: a cross-check that was asked for and did not run is an incomplete audit, not a
        # pass (--no-checkov is the explicit way to audit without it).
        checkov_missing = not outcome.available
        if outcome.available:
            record.add("checkov-skip-list", checkov_runner.SKIP_LIST)
            record.checkov_version = outcome.version
            record.facts["checkov"] = {k: v for k, v in outcome.to_dict().items() if k != "failures"}
            written += [
                p
                for p in (
                    outcome.junit,
                    outcome.sarif,
                    outcome.triage,
                    args.out / "checkov" / "results_json.json",
                )
                if p and p.is_file()
            ]
            written += sorted(plans.glob("*.tfplan.json"))
    paths = reports.write_all(results, args.out, {n: a for n, _, a in inputs}, checkov_summary, root=ROOT)
    written += [
        *paths.values(),
        *_write_oscal(args.out / "oscal", inputs, results, checkov_failures, run_started),
    ]
    perimeter_summary = _perimeter_what_if(inputs, config, args.out, written)
    written += evidence.write(record, written, args.out, signing_key)
    print(_table(results) + "\n" + perimeter_summary)
    print("reports: " + ", ".join(str(p) for p in written))
    if checkov_untriaged:
        print(
            f"audit: {checkov_untriaged} untriaged checkov failure(s): fix them or record them in the register"
        )
    if not all(r.passed for r in results) or checkov_untriaged:
        return Exit.FINDING
    if checkov_missing:
        print(
            "audit: incomplete: checkov did not run (.venv-checkov missing: run scripts/bootstrap.sh, "
            "or pass --no-checkov to audit without the cross-check)",
            file=sys.stderr,
        )
        return Exit.INCOMPLETE
    return Exit.PASS


if __name__ == "__main__":
    sys.exit(main())
