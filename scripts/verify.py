#!/usr/bin/env python3
"""Live detective audit: reads a real account (read-only) and runs the same rules as the audit.

Preventive checks at ``pulumi up`` do not see what changes afterwards (a console click that removes
bucket encryption, a key store that disconnects, a snapshot copied to another region). This reads
the account into the policies' resource model, runs every rule plus the live-only ones
(BK-LIVE-*), and writes the same reports as scripts/audit.py (junit.xml, results.sarif,
findings.json, index.html) into --out, plus coverage.json (regions read, gaps, retries).

Every call goes through an allow-list of read operations (policies/inputs/live/guard.py): verify cannot
change the account. The read-only role needs exactly policies/inputs/live/aws-readonly-policy.json.

Exit status: 0 no mandatory finding and everything read; 1 a mandatory rule fails; 2 the run could
not start (credentials, unknown region, bad configuration); 3 no mandatory finding but some part of
the account could not be read (see BK-LIVE-004 and coverage.json).

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

ROOT = Path(__file__).resolve().parent.parent

import yaml  # noqa: E402

from policies.audit import AuditResult, audit_stack  # noqa: E402
from policies.exceptions import ExceptionsError  # noqa: E402
from policies.exceptions import load as load_exceptions  # noqa: E402
from policies.inputs.live.errors import Coverage, VerifyError  # noqa: E402
from policies.model import Stack  # noqa: E402
from policies.outputs import reports  # noqa: E402
from policies.rules import all_rules  # noqa: E402
from policies.settings import PolicyConfig, PolicyConfigError  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else "",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
    return parser


def _progress(quiet: bool) -> tuple[float, object]:
    started = time.perf_counter()

    def show(message: str) -> None:
        if not quiet:
            print(f"  {time.perf_counter() - started:6.1f}s  {message}", file=sys.stderr, flush=True)

    return started, show


def aws_client_overrides() -> dict[str, object]:
    """Clients to use instead of the session's (tests stub the KMS custom-key-store calls moto lacks)."""
    return {}


def _read_aws(args: argparse.Namespace, config: PolicyConfig, show: object) -> tuple[Stack, Coverage]:
    from policies.inputs.live import xks_health
    from policies.inputs.live.aws import AwsReader
    from policies.inputs.live.guard import read_only_session

    wanted = "all" if args.regions == "all" else [r.strip() for r in args.regions.split(",") if r.strip()]
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
    )
    stack = reader.read(wanted)
    credential = xks_health.load_credential(args.xks_credentials, os.environ)
    if credential is not None:
        stack = xks_health.check_stores(stack, credential, show)  # type: ignore[arg-type]
    return stack, reader.coverage


def _read_scaleway(args: argparse.Namespace, config: PolicyConfig, show: object) -> tuple[Stack, Coverage]:
    from policies.inputs.live.scaleway import ScalewayReader

    wanted = "all" if args.regions == "all" else [r.strip() for r in args.regions.split(",") if r.strip()]
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
    lines = [
        f"{result.stack}: {verdict} — {result.resources} resource(s) in {len(coverage.regions)} region(s), "
        f"{len(result.rules_evaluated)} rules, {len(failed_mandatory)} mandatory finding(s), "
        f"{len(advisory)} advisory, {len(result.excepted)} excepted; {coverage.calls} API calls, "
        f"{coverage.retries} throttled and retried",
    ]
    by_rule: dict[str, list[str]] = {}
    for finding in result.findings:
        mark = "EXCEPTED" if finding.status == "excepted" else ("FAIL" if finding.mandatory else "WARN")
        name = finding.resource_urn.rsplit("::", 1)[-1]
        by_rule.setdefault(f"{mark:8} {finding.rule_id} {finding.title}", []).append(
            f"{name}: {finding.message}"
        )
    for head, items in sorted(by_rule.items(), key=lambda kv: ("FAIL" not in kv[0], kv[0])):
        lines.append(f"  {head}")
        lines.extend(f"           - {item}" for item in items)
    if coverage.gaps:
        lines.append(f"  not checked ({len(coverage.gaps)}):")
        lines.extend(f"           - {gap.describe()}" for gap in coverage.gaps)
    if coverage.not_read:
        lines.append(
            f"  seen by tag only, not read in detail ({len(coverage.not_read)}): "
            + ", ".join(coverage.not_read[:5])
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _, show = _progress(args.quiet)
    try:
        config = PolicyConfig()
        if args.config:
            config = PolicyConfig.from_mapping(yaml.safe_load(args.config.read_text()) or {})
        register = load_exceptions(args.exceptions, known_rules=[r.id for r in all_rules()])
        read = _read_aws if args.target == "aws" else _read_scaleway
        stack, coverage = read(args, config, show)
    except (VerifyError, ExceptionsError, PolicyConfigError, OSError) as error:
        print(f"verify: error: {error}", file=sys.stderr)
        return 2
    result = audit_stack(stack, config=config, exceptions=register, source=f"live {args.target}")
    paths = reports.write_all([result], args.out)
    coverage_path = args.out / "coverage.json"
    coverage_path.write_text(
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
        + "\n"
    )
    print(summary(result, coverage))
    print("reports: " + ", ".join(str(p) for p in [*paths.values(), coverage_path]))
    if not result.passed:
        return 1
    return 3 if coverage.gaps else 0


if __name__ == "__main__":
    sys.exit(main())
