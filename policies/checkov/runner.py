"""Runs checkov from its own pinned environment over exported Terraform-plan files, then triages it.

checkov cannot read the exceptions register, so its failures are triaged here, after the run:
each failed check is traced back to its Pulumi URN (the plan carries it as ``pulumi_urn``) and
looked up in the register under the checkov id (``CKV_AWS_23``) or, for the project's own checks
(``CKV_BK_ENC_004``), under the rule id (``BK-ENC-004``), so a resource is excepted by the same
entry, with the same justification, owner and expiry, in both engines. A failure no valid entry
covers is *untriaged*, and an audit with one fails.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from policies import exceptions as exceptions_register

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CHECKS_DIR = Path(__file__).resolve().parent / "checks"
SKIP_LIST = Path(__file__).resolve().parent / "skipped_checks.yaml"
PLAN_SUFFIX = ".tfplan.json"
_BK_CHECK = re.compile(r"^CKV_BK_([A-Z]+)_(\d{3})$")

Triage = Literal["untriaged", "excepted"]


class CheckovError(RuntimeError):
    """checkov did not produce a result the audit can read."""


def register_id(check_id: str) -> str:
    """The id the exceptions register knows a checkov check by (``CKV_BK_ENC_004`` -> ``BK-ENC-004``)."""
    match = _BK_CHECK.match(check_id)
    return f"BK-{match.group(1)}-{match.group(2)}" if match else check_id


@dataclass(frozen=True)
class CheckovFailure:
    """One failed checkov check on one resource, and where the register puts it."""

    check_id: str
    check_name: str
    stack: str
    address: str
    urn: str
    status: Triage
    justification: str | None = None
    owner: str | None = None
    expires: str | None = None
    #: Why an entry that matched does not except it (expired).
    note: str | None = None


@dataclass
class StackCounts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    excepted: int = 0
    untriaged: int = 0


@dataclass
class CheckovRun:
    available: bool
    returncode: int = 0
    seconds: float = 0.0
    version: str = ""
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    junit: Path | None = None
    sarif: Path | None = None
    triage: Path | None = None
    failures: list[CheckovFailure] = field(default_factory=list)
    per_stack: dict[str, StackCounts] = field(default_factory=dict)
    skipped_checks: list[str] = field(default_factory=list)

    @property
    def untriaged(self) -> list[CheckovFailure]:
        return [f for f in self.failures if f.status == "untriaged"]

    @property
    def excepted(self) -> list[CheckovFailure]:
        return [f for f in self.failures if f.status == "excepted"]

    def describe(self) -> str:
        if not self.available:
            return "not run (.venv-checkov missing: run scripts/bootstrap.sh)"
        return (
            f"checkov {self.version}: {self.passed} passed, {self.failed} failed "
            f"({len(self.excepted)} excepted, {len(self.untriaged)} untriaged), {self.skipped} skipped "
            f"in {self.seconds:.1f}s; {len(self.skipped_checks)} check(s) not run by policy"
        )

    def lines(self) -> list[str]:
        """The per-stack table and every untriaged failure, for the console."""
        out = [
            f"  {stack:16} {c.passed} passed, {c.failed} failed ({c.excepted} excepted, "
            f"{c.untriaged} untriaged), {c.skipped} skipped"
            for stack, c in sorted(self.per_stack.items())
        ]
        out += [
            f"  UNTRIAGED {f.stack} {f.check_id} {f.address}: {f.check_name}"
            + (f" ({f.note})" if f.note else "")
            for f in self.untriaged
        ]
        return out

    def summary(self) -> dict[str, str]:
        """Entries for the HTML report."""
        found = {"result": self.describe()}
        for stack, c in sorted(self.per_stack.items()):
            found[stack] = (
                f"{c.passed} passed, {c.failed} failed ({c.excepted} excepted, {c.untriaged} untriaged)"
            )
        for f in self.failures:
            key = f"{f.status.upper()} {f.stack} {f.check_id} {f.address}"
            found[key] = (
                f"{f.justification} (owner {f.owner}, expires {f.expires})"
                if f.status == "excepted"
                else f"{f.check_name}" + (f" ({f.note})" if f.note else "")
            )
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "checkov_version": self.version,
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "excepted": len(self.excepted),
            "untriaged": len(self.untriaged),
            "skipped_checks": self.skipped_checks,
            "per_stack": {stack: asdict(c) for stack, c in sorted(self.per_stack.items())},
            "failures": [{k: v for k, v in asdict(f).items() if v is not None} for f in self.failures],
        }


def skipped_checks() -> list[str]:
    """Built-in checks not run at all (each with its reason in skipped_checks.yaml)."""
    document = yaml.safe_load(SKIP_LIST.read_text()) or {}
    entries = document.get("skipped", [])
    missing = [e.get("id", "?") for e in entries if not str(e.get("why", "")).strip()]
    if missing:
        raise CheckovError(f"{SKIP_LIST}: skipped check(s) {missing} have no 'why'")
    return [entry["id"] for entry in entries]


def _urns(plans: Path) -> dict[tuple[str, str], str]:
    """(stack, Terraform address) -> Pulumi URN for every resource of every plan."""
    found: dict[tuple[str, str], str] = {}
    for plan in sorted(plans.glob(f"*{PLAN_SUFFIX}")):
        document = json.loads(plan.read_text())
        stack = plan.name.removesuffix(PLAN_SUFFIX)
        for resource in document.get("planned_values", {}).get("root_module", {}).get("resources", []):
            found[(stack, resource["address"])] = resource["values"].get("pulumi_urn", "")
    return found


def triage(
    report: Any,
    plans: Path,
    register: list[exceptions_register.PolicyException],
    today: dt.date | None = None,
) -> tuple[list[CheckovFailure], dict[str, StackCounts]]:
    """Every failed check of checkov's JSON report, excepted or untriaged, and per-stack counts."""
    today = today or dt.date.today()
    urns = _urns(plans)
    failures: list[CheckovFailure] = []
    per_stack: dict[str, StackCounts] = {
        plan.name.removesuffix(PLAN_SUFFIX): StackCounts() for plan in plans.glob(f"*{PLAN_SUFFIX}")
    }
    for entry in report if isinstance(report, list) else [report]:
        results = entry.get("results", {})
        for kind in ("passed", "skipped"):
            for check in results.get(f"{kind}_checks", []):
                counts = per_stack.setdefault(_stack_of(check), StackCounts())
                setattr(counts, kind, getattr(counts, kind) + 1)
        for check in results.get("failed_checks", []):
            stack = _stack_of(check)
            counts = per_stack.setdefault(stack, StackCounts())
            counts.failed += 1
            address = check["resource"]
            urn = urns.get((stack, address), "")
            exception = (
                exceptions_register.find(register, register_id(check["check_id"]), urn) if urn else None
            )
            common = {"check_id": check["check_id"], "check_name": check.get("check_name", ""), "stack": stack,
                      "address": address, "urn": urn}  # fmt: skip
            if exception is None:
                failures.append(CheckovFailure(**common, status="untriaged"))
                counts.untriaged += 1
                continue
            recorded = {"justification": exception.justification, "owner": exception.owner,
                        "expires": exception.expires.isoformat()}  # fmt: skip
            if exception.expired(today):
                note = f"exception owned by {exception.owner} expired on {exception.expires.isoformat()}"
                failures.append(CheckovFailure(**common, status="untriaged", note=note, **recorded))
                counts.untriaged += 1
            else:
                failures.append(CheckovFailure(**common, status="excepted", **recorded))
                counts.excepted += 1
    return failures, per_stack


def _stack_of(check: dict[str, Any]) -> str:
    return Path(str(check.get("file_path", ""))).name.removesuffix(PLAN_SUFFIX)


def run(
    plans: Path,
    out: Path,
    register: list[exceptions_register.PolicyException] | None = None,
    today: dt.date | None = None,
) -> CheckovRun:
    """One checkov invocation over every plan in ``plans``; JUnit, SARIF, JSON and the triage in ``out``."""
    if not CHECKOV.exists():
        return CheckovRun(available=False)
    register = list(register) if register is not None else exceptions_register.load()
    out.mkdir(parents=True, exist_ok=True)
    # No --quiet: the JSON report must list passed checks too, or per-stack counts cannot be told.
    command = [
        str(CHECKOV), "--directory", str(plans), "--framework", "terraform_plan", "--skip-download",
        "--external-checks-dir", str(CHECKS_DIR), "--compact",
        "--output", "junitxml", "--output", "sarif", "--output", "json", "--output-file-path", str(out),
    ]  # fmt: skip
    skipped = skipped_checks()
    if skipped:
        command += ["--skip-check", ",".join(skipped)]
    report = out / "results_json.json"
    report.unlink(missing_ok=True)
    started = time.perf_counter()
    env = {**os.environ, "BOOKING_CHECKOV_PLANS": str(plans.resolve())}
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, env=env)  # noqa: S603
    seconds = time.perf_counter() - started
    if completed.returncode not in (0, 1) or not report.exists():
        raise CheckovError(
            f"checkov exited {completed.returncode} without a report: {completed.stderr[-500:]}"
        )
    data = json.loads(report.read_text())
    entries = data if isinstance(data, list) else [data]
    outcome = CheckovRun(True, completed.returncode, seconds, junit=out / "results_junitxml.xml",
                         sarif=out / "results_sarif.sarif", skipped_checks=skipped)  # fmt: skip
    for entry in entries:
        summary = entry.get("summary", {})
        outcome.passed += int(summary.get("passed", 0))
        outcome.failed += int(summary.get("failed", 0))
        outcome.skipped += int(summary.get("skipped", 0))
        outcome.version = str(summary.get("checkov_version", outcome.version))
    outcome.failures, outcome.per_stack = triage(data, plans, register, today)
    if sum(c.failed for c in outcome.per_stack.values()) != outcome.failed:
        raise CheckovError("checkov's summary and its listed failures disagree; the triage cannot be trusted")
    outcome.triage = out / "triage.json"
    outcome.triage.write_text(json.dumps(outcome.to_dict(), indent=2) + "\n")
    return outcome
