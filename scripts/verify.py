#!/usr/bin/env python3
"""Live detective audit: reads a real account (read-only) and runs the same rules as the audit.

Preventive checks at ``pulumi up`` do not see what changes afterwards (a console click that removes
bucket encryption, a key store that disconnects, a snapshot copied to another region). This reads
the account into the policies' resource model, runs every rule plus the live-only ones
(BK-LIVE-*), and writes the same reports as scripts/audit.py (junit.xml, results.sarif,
findings.json, index.html) into --out, plus coverage.json (regions read, gaps, retries).

Every call goes through an allow-list of read operations (policies/inputs/live/guard.py): verify cannot
change the account. The read-only role needs exactly policies/inputs/live/aws-readonly-policy.json.

By default every enabled region is read in detail; a resource the readers do not read in detail
(seen by the tagging API) fails BK-LIVE-005: nothing unread passes.

Exit status: 0 no mandatory finding and everything read; 1 a mandatory rule fails; 2 the run could
not start (credentials, unknown or empty region list, bad configuration, unreachable endpoint,
unwritable --out); 3 no mandatory finding but some part of the account could not be read (see
BK-LIVE-004 and coverage.json); 4 internal error. --out and every input are checked before the read.

Examples:
  scripts/verify.py --target aws --profile booking-audit
  scripts/verify.py --target aws --regions eu-west-3,us-east-1 --out reports/live
  scripts/verify.py --target aws --xks-credentials xks-creds.json     # also sign a proxy health check
  scripts/verify.py --target scaleway --project-id 11111111-2222-3333-4444-555555555555
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

from policies.audit import AuditResult, audit_stack  # noqa: E402
from policies.exceptions import ExceptionsError  # noqa: E402
from policies.exceptions import load as load_exceptions  # noqa: E402
from policies.inputs.live.errors import Coverage, VerifyError  # noqa: E402
from policies.model import Stack  # noqa: E402
from policies.outputs import reports  # noqa: E402
from policies.rules import all_rules  # noqa: E402
from policies.settings import PolicyConfig, PolicyConfigError  # noqa: E402
from tooling.cli import Exit, Parser, atomic_write_text, check_out_dir, run  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="verify", description=__doc__)
    parser.add_argument("--target", choices=("aws", "scaleway"), required=True)
    parser.add_argument(
        "--regions", default="all", help="'all' (every enabled region) or a comma-separated list"
    )
    parser.add_argument("--profile", help="AWS profile (default: the usual AWS credential chain)")
    parser.add_argument("--project-id", help="Scaleway project id (default: SCW_DEFAULT_PROJECT_ID)")
    parser.add_argument("--stack", help="name shown in reports and URNs (default: live-<provider>-<account>)")
    parser.add_argument("--out", type=Path, default=Path("reports/live"), help="report directory")
    parser.add_argument(
        "--config", type=Path, help="policy config (YAML/JSON, camelCase keys), as for audit.py"
    )
    parser.add_argument(
        "--exceptions", type=Path, help="exceptions register (default: policies/exceptions.yaml)"
    )
    parser.add_argument(
        "--xks-credentials",
        type=Path,
        help="XKS proxy credential file (AWS KMS console JSON) to sign a health check of each proxy; "
        "or set XKS_ACCESS_KEY_ID and XKS_SECRET_ACCESS_KEY",
    )
    parser.add_argument("--endpoint-url", help=argparse.SUPPRESS)  # tests: the moto server
    parser.add_argument("--s3-endpoint-url", help=argparse.SUPPRESS)  # tests: Scaleway Object Storage on moto
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    parser.add_argument(
        "--workers",
        type=_workers,
        default=None,
        help="AWS: reads in flight at once across regions and services (default 16; 1 reads serially)",
    )
    return parser


def _workers(text: str) -> int:
    """--workers: a whole number from 1 to 64 (more would only earn throttling)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 64 (got {text!r})") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 64 (got {value})")
    return value


def _progress(quiet: bool) -> tuple[float, object]:
    started = time.perf_counter()

    def show(message: str) -> None:
        if not quiet:
            print(f"  {time.perf_counter() - started:6.1f}s  {message}", file=sys.stderr, flush=True)

    return started, show


def aws_client_overrides() -> dict[str, object]:
    """Clients to use instead of the session's (tests stub the KMS custom-key-store calls moto lacks)."""
    return {}


def wanted_regions(text: str) -> str | list[str]:
    """``all`` or the listed regions; an empty list is refused (it would read nothing and pass)."""
    if text.strip() == "all":
        return "all"
    regions = [r.strip() for r in text.split(",") if r.strip()]
    if not regions:
        raise VerifyError(
            f"--regions {text!r}: no region given; pass 'all' (every enabled region, the default) or a "
            "comma-separated list such as eu-west-3,eu-central-1"
        )
    return regions


def _read_aws(
    args: argparse.Namespace, config: PolicyConfig, show: object, credential: Any
) -> tuple[Stack, Coverage]:
    from policies.inputs.live import xks_health
    from policies.inputs.live.aws import DEFAULT_WORKERS, AwsReader
    from policies.inputs.live.guard import read_only_session

    wanted = wanted_regions(args.regions)
    try:
        session = read_only_session(args.profile)
    except Exception as error:  # ProfileNotFound and friends
        raise VerifyError(f"cannot open the AWS session: {error}") from error
    reader = AwsReader(
        session,
        allowed_regions=config.regions_for("aws"),
        stack_name=args.stack or "",
        progress=show,  # type: ignore[arg-type]
        endpoint_url=args.endpoint_url,
        clients=aws_client_overrides(),  # type: ignore[arg-type]
        workers=args.workers or DEFAULT_WORKERS,
    )
    stack = reader.read(wanted)
    if credential is not None:
        stack = xks_health.check_stores(stack, credential, show)  # type: ignore[arg-type]
    return stack, reader.coverage


def _read_scaleway(
    args: argparse.Namespace, config: PolicyConfig, show: object, credential: Any
) -> tuple[Stack, Coverage]:
    from policies.inputs.live.scaleway import ScalewayReader

    del credential
    wanted = wanted_regions(args.regions)
    reader = ScalewayReader.from_environment(
        project_id=args.project_id,
        allowed_regions=config.regions_for("scaleway"),
        stack_name=args.stack or "",
        progress=show,  # type: ignore[arg-type]
    )
    if args.s3_endpoint_url:
        reader.s3_endpoints = {region: args.s3_endpoint_url for region in config.regions_for("scaleway")}
    stack = reader.read(wanted)
    return stack, reader.coverage


def summary(result: AuditResult, coverage: Coverage) -> str:
    failed_mandatory = [f for f in result.failed if f.mandatory]
    advisory = [f for f in result.failed if not f.mandatory]
    verdict = "FAIL" if not result.passed else ("INCOMPLETE" if coverage.gaps else "PASS")
    counts = result.counts()
    lines = [
        f"{result.stack}: {verdict} — {result.resources} resource(s) in {len(coverage.regions)} region(s), "
        f"{len(failed_mandatory)} mandatory finding(s), {len(advisory)} advisory, {len(result.excepted)} "
        f"excepted; {coverage.calls} API calls, {coverage.retries} throttled and retried",
        f"  rules: {counts['pass']} pass, {counts['fail']} fail, {counts['excepted']} excepted, "
        f"{counts['not_applicable']} n/a (not applicable here: reasons in the reports)",
    ]
    by_rule: dict[str, list[str]] = {}
    # Excepted findings: one line per register entry (count, owner, expiry); resources in the reports.
    entries: dict[tuple[str, str], list[Any]] = {}
    for finding in result.findings:
        if finding.status == "excepted":
            entries.setdefault((finding.rule_id, finding.exception_resource or ""), []).append(finding)
            continue
        mark = "FAIL" if finding.mandatory else "WARN"
        name = finding.resource_urn.rsplit("::", 1)[-1]
        by_rule.setdefault(f"{mark:8} {finding.rule_id} {finding.title}", []).append(
            f"{name}: {finding.message}"
        )
    for head, items in sorted(by_rule.items(), key=lambda kv: ("FAIL" not in kv[0], kv[0])):
        lines.append(f"  {head}")
        lines.extend(f"           - {item}" for item in items)
    for (rule_id, pattern), found in entries.items():
        lines.append(
            f"  EXCEPTED {rule_id} {pattern}: {len(found)} finding(s) (owner {found[0].owner}, "
            f"expires {found[0].expires})"
        )
    if coverage.gaps:
        lines.append(f"  not checked ({len(coverage.gaps)}):")
        lines.extend(f"           - {gap.describe()}" for gap in coverage.gaps)
    if coverage.not_read:
        lines.append(
            f"  seen by tag only, not read in detail, failed by BK-LIVE-005 ({len(coverage.not_read)}): "
            + ", ".join(coverage.not_read[:5])
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    bad_input = (VerifyError, ExceptionsError, PolicyConfigError)
    return run("verify", lambda: _verify(args), debug=args.debug, bad_input=bad_input)


def _verify(args: argparse.Namespace) -> int:
    from policies.inputs.live import xks_health

    _, show = _progress(args.quiet)
    # Everything a user gives is checked before the account is read (which may take minutes).
    check_out_dir(args.out)
    wanted_regions(args.regions)
    config = PolicyConfig.from_file(args.config) if args.config else PolicyConfig()
    register = load_exceptions(args.exceptions, known_rules=[r.id for r in all_rules()])
    credential = xks_health.load_credential(args.xks_credentials, os.environ)
    read = _read_aws if args.target == "aws" else _read_scaleway
    stack, coverage = read(args, config, show, credential)
    result = audit_stack(stack, config=config, exceptions=register, source=f"live {args.target}")
    paths = reports.write_all([result], args.out)
    coverage_path = atomic_write_text(
        args.out / "coverage.json",
        json.dumps(
            {
                "stack": result.stack,
                "regions": coverage.regions,
                "calls": coverage.calls,
                "throttled_retries": coverage.retries,
                "gaps": [g.to_dict() for g in coverage.gaps],
                "seen_by_tag_only": coverage.not_read,
            },
            indent=2,
        )
        + "\n",
    )
    print(summary(result, coverage))
    print("reports: " + ", ".join(str(p) for p in [*paths.values(), coverage_path]))
    if not result.passed:
        return Exit.FINDING
    return Exit.INCOMPLETE if coverage.gaps else Exit.PASS


if __name__ == "__main__":
    sys.exit(main())
