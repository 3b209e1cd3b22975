"""Runs every rule over a stack and applies the exceptions register: the API behind every report.

``audit_preview(document, stack)`` and ``audit_export(document, stack)`` return an
:class:`AuditResult`; ``findings.json`` is its ``to_json()``.
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

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in asdict(self).items()
            if v is not None or k not in ("justification", "owner", "expires")
        }


@dataclass
class AuditResult:
    stack: str
    findings: list[Finding]
    #: Ids of the rules run over the stack.
    rules_evaluated: list[str]
    resources: int = 0
    source: str = ""
    unused_exceptions: list[dict[str, str]] = field(default_factory=list)

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "source": self.source,
            "passed": self.passed,
            "resources": self.resources,
            "rules_evaluated": self.rules_evaluated,
            "summary": {
                "failed": len(self.failed),
                "failed_mandatory": sum(1 for f in self.failed if f.mandatory),
                "excepted": len(self.excepted),
            },
            "findings": [f.to_dict() for f in self.findings],
            "unused_exceptions": self.unused_exceptions,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)


def evaluate(
    stack: Stack, config: PolicyConfig, rules: Sequence[Rule] | None = None
) -> list[tuple[Rule, Violation]]:
    """Every violation of every rule, in rule order."""
    found: list[tuple[Rule, Violation]] = []
    for rule in rules if rules is not None else all_rules():
        found.extend((rule, violation) for violation in rule.check(stack, config))
    return found


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
    for rule, violation in evaluate(stack, config, rules):
        urn = violation.resource.urn if violation.resource else whole_stack
        resource_type = violation.resource.type if violation.resource else STACK_TYPE
        exception = exceptions_register.find(register, rule.id, urn)
        status: Status = "failed"
        message = violation.message
        extra: dict[str, str] = {}
        if exception is not None:
            used.add(id(exception))
            extra = {"justification": exception.justification, "owner": exception.owner}
            extra["expires"] = exception.expires.isoformat()
            if exception.expired(today):
                message += (
                    f" (exception owned by {exception.owner} expired on {exception.expires.isoformat()})"
                )
            else:
                status = "excepted"
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
    return AuditResult(stack.name, findings, [r.id for r in rules], len(stack), source, unused)


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
