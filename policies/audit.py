"""Runs every rule over a stack and applies the exceptions register: the API behind every report.

``audit_preview(document, stack)`` and ``audit_export(document, stack)`` return an
:class:`AuditResult`; ``findings.json`` is its ``to_json()``.

Each rule ends in one :class:`RuleOutcome` per stack: ``pass`` (with the number of resources it looked
at, 0 included, so "pass, 0 resources" never reads as a pass over resources), ``fail``, ``excepted``
(every finding covered by the register) or ``not_applicable`` with the rule's reason. Every report
reads these outcomes, so they all say the same thing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from policies import exceptions as exceptions_register
from policies.inputs.export import stack_from_export
from policies.inputs.preview import stack_from_preview
from policies.model import STACK_TYPE, Stack
from policies.rules import Rule, Violation, all_rules
from policies.settings import PolicyConfig

Status = Literal["failed", "excepted"]
#: A rule's result on one stack.
Outcome = Literal["pass", "fail", "excepted", "not_applicable"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "excepted", "not_applicable")


@dataclass(frozen=True)
class Finding:
    rule_id: str
    title: str
    severity: str
    mandatory: bool
    regulation: str
    remediation: str
    resource_urn: str
    resource_type: str
    message: str
    status: Status
    justification: str | None = None
    owner: str | None = None
    expires: str | None = None
    #: The register entry that matched: its URN pattern (with rule_id, the entry's identity).
    exception_resource: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in asdict(self).items()
            if v is not None or k not in ("justification", "owner", "expires", "exception_resource")
        }


@dataclass(frozen=True)
class RuleOutcome:
    """One rule on one stack."""

    rule_id: str
    status: Outcome
    #: Resources the rule looked at (0 when it applies but finds nothing to check, or does not apply).
    resources: int = 0
    #: Why the rule does not apply (``not_applicable`` only).
    reason: str = ""
    failed: int = 0
    excepted: int = 0
    mandatory: bool = True

    def describe(self) -> str:
        """The same words in every report: "pass, 3 resources", "not applicable: <reason>"."""
        if self.status == "not_applicable":
            return f"not applicable: {self.reason}"
        if self.status == "pass":
            return f"pass, {self.resources} resource{'' if self.resources == 1 else 's'}"
        if self.status == "excepted":
            return f"excepted, {self.excepted} finding{'' if self.excepted == 1 else 's'}"
        level = "" if self.mandatory else " (advisory)"
        return f"fail{level}, {self.failed} finding{'' if self.failed == 1 else 's'}" + (
            f", {self.excepted} excepted" if self.excepted else ""
        )

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {"rule": self.rule_id, "status": self.status, "resources": self.resources}
        if self.status == "not_applicable":
            document["reason"] = self.reason
        else:
            document |= {"failed": self.failed, "excepted": self.excepted}
        return document


@dataclass
class AuditResult:
    stack: str
    findings: list[Finding]
    #: Ids of the rules run over the stack (the applicable ones).
    rules_evaluated: list[str]
    resources: int = 0
    source: str = ""
    unused_exceptions: list[dict[str, str]] = field(default_factory=list)
    #: Every rule's outcome, in rule order, inapplicable rules included (with their reason).
    outcomes: list[RuleOutcome] = field(default_factory=list)

    def outcome(self, rule_id: str) -> RuleOutcome | None:
        return next((o for o in self.outcomes if o.rule_id == rule_id), None)

    @property
    def not_applicable(self) -> dict[str, str]:
        """Rule id -> why it does not apply to this stack."""
        return {o.rule_id: o.reason for o in self.outcomes if o.status == "not_applicable"}

    def counts(self) -> dict[Outcome, int]:
        """How many rules passed, failed, were excepted, did not apply."""
        found = dict.fromkeys(OUTCOMES, 0)
        for o in self.outcomes:
            found[o.status] += 1
        return found

    @property
    def passed(self) -> bool:
        """True when no mandatory rule fails (excepted findings and advisory rules do not fail)."""
        return not any(f.mandatory and f.status == "failed" for f in self.findings)

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "failed"]

    @property
    def excepted(self) -> list[Finding]:
        return [f for f in self.findings if f.status == "excepted"]

    def to_dict(self, *, findings: bool = True) -> dict[str, Any]:
        document = {
            "stack": self.stack,
            "source": self.source,
            "passed": self.passed,
            "resources": self.resources,
            "rules_evaluated": self.rules_evaluated,
            "summary": {
                "failed": len(self.failed),
                "failed_mandatory": sum(1 for f in self.failed if f.mandatory),
                "excepted": len(self.excepted),
                "rules": self.counts(),
            },
            "rules": [o.to_dict() for o in self.outcomes],
            "findings": [f.to_dict() for f in self.findings] if findings else [],
            "unused_exceptions": self.unused_exceptions,
        }
        if not findings:
            del document["findings"]  # the caller streams them
        return document

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)


@dataclass(frozen=True)
class RuleRun:
    """One rule run over a stack: why it did not apply, or what it looked at and found."""

    rule: Rule
    not_applicable: str | None
    violations: tuple[Violation, ...] = ()
    resources: int = 0


def run_rules(stack: Stack, config: PolicyConfig, rules: Sequence[Rule] | None = None) -> list[RuleRun]:
    """Every rule over the stack, in run order (``runs_last`` rules after the others)."""
    runs: list[RuleRun] = []
    ordered = sorted(rules if rules is not None else all_rules(), key=lambda r: r.runs_last)
    for rule in ordered:
        reason = rule.not_applicable(stack, config)
        if reason is not None:
            runs.append(RuleRun(rule, reason))
            continue
        with stack.watching() as seen:
            violations = tuple(rule.check(stack, config))
        runs.append(RuleRun(rule, None, violations, seen.count))
    return runs


def stack_urn(stack: Stack) -> str:
    project = "project"
    for resource in stack:
        parts = resource.urn.split("::")
        if len(parts) >= 2:
            project = parts[1]
            break
    return f"urn:pulumi:{stack.name}::{project}::{STACK_TYPE}::{project}-{stack.name}"


def audit_stack(
    stack: Stack,
    *,
    config: PolicyConfig | None = None,
    exceptions: Iterable[exceptions_register.PolicyException] | None = None,
    exceptions_path: Path | None = None,
    today: dt.date | None = None,
    source: str = "",
    rules: Sequence[Rule] | None = None,
) -> AuditResult:
    config = config or PolicyConfig()
    rules = tuple(rules if rules is not None else all_rules())
    register = (
        list(exceptions)
        if exceptions is not None
        else exceptions_register.load(exceptions_path, known_rules=[r.id for r in all_rules()])
    )
    today = today or dt.date.today()
    used: set[int] = set()
    findings = []
    whole_stack = stack_urn(stack)
    runs = run_rules(stack, config, rules)
    for rule, violation in ((run.rule, v) for run in runs for v in run.violations):
        urn = violation.resource.urn if violation.resource else whole_stack
        resource_type = violation.resource.type if violation.resource else STACK_TYPE
        decision = exceptions_register.apply(register, rule.id, urn, today)
        status: Status = "excepted" if decision.excepted else "failed"
        message = decision.annotate(violation.message)
        extra: dict[str, str] = {}
        if (exception := decision.exception) is not None:
            used.add(id(exception))
            extra = {"justification": exception.justification, "owner": exception.owner}
            extra["expires"] = exception.expires.isoformat()
            extra["exception_resource"] = exception.resource
        findings.append(
            Finding(
                rule_id=rule.id,
                title=rule.title,
                severity=rule.severity,
                mandatory=rule.mandatory,
                regulation=rule.regulation,
                remediation=rule.remediation,
                resource_urn=urn,
                resource_type=resource_type,
                message=message,
                status=status,
                **extra,
            )
        )
    unused = [
        {"rule": e.rule, "resource": e.resource, "owner": e.owner, "expires": e.expires.isoformat()}
        for e in register
        if id(e) not in used
        and _concerns(e.resource, stack.name)
        and not exceptions_register.is_checkov_check(e.rule)
    ]
    outcomes = [_outcome(run, findings) for run in sorted(runs, key=lambda run: run.rule.id)]
    evaluated = [o.rule_id for o in outcomes if o.status != "not_applicable"]
    return AuditResult(stack.name, findings, evaluated, len(stack), source, unused, outcomes)


def _outcome(run: RuleRun, findings: Sequence[Finding]) -> RuleOutcome:
    rule = run.rule
    if run.not_applicable is not None:
        return RuleOutcome(rule.id, "not_applicable", reason=run.not_applicable, mandatory=rule.mandatory)
    mine = [f for f in findings if f.rule_id == rule.id]
    failed = sum(f.status == "failed" for f in mine)
    excepted = len(mine) - failed
    status: Outcome = "fail" if failed else ("excepted" if excepted else "pass")
    return RuleOutcome(rule.id, status, run.resources, "", failed, excepted, rule.mandatory)


def _concerns(pattern: str, stack: str) -> bool:
    """Whether an exception's URN pattern can apply to this stack (for the unused-exceptions list)."""
    import fnmatch

    return fnmatch.fnmatchcase(f"urn:pulumi:{stack}::", pattern.split("::", 1)[0] + "::")


def audit_preview(
    document: Mapping[str, Any],
    stack: str,
    *,
    exceptions_path: Path | None = None,
    today: dt.date | None = None,
    config: PolicyConfig | None = None,
) -> AuditResult:
    """Audits a ``pulumi preview --json`` (or offline preview) document."""
    return audit_stack(
        stack_from_preview(document, stack),
        config=config,
        exceptions_path=exceptions_path,
        today=today,
        source="preview",
    )


def audit_export(
    document: Mapping[str, Any],
    stack: str,
    *,
    exceptions_path: Path | None = None,
    today: dt.date | None = None,
    config: PolicyConfig | None = None,
    stack_config: Mapping[str, Any] | None = None,
) -> AuditResult:
    """Audits a ``pulumi stack export`` document (deployment version 3)."""
    return audit_stack(
        stack_from_export(document, stack, stack_config),
        config=config,
        exceptions_path=exceptions_path,
        today=today,
        source="stack export",
    )
