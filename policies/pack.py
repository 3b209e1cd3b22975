"""The CrossGuard pack: every rule as a CrossGuard policy, same ids, same metadata.

Rules that judge one resource alone (``scope="resource"``) are ``ResourceValidationPolicy`` (the
engine calls ``Analyze`` for each resource); the others are ``StackValidationPolicy`` (``AnalyzeStack``
once, with every resource). Every policy takes the same config schema (the allow-lists of
``policies.settings``); an applied exception from ``policies/exceptions.yaml`` silences a violation
(the audit reports show it), an expired one does not.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import pulumi
import pulumi.runtime
import pulumi_policy as crossguard
from pulumi_policy import policy as crossguard_internals

from policies import exceptions as exceptions_register
from policies.inputs.crossguard import keep_engine_markers, stack_from_resource_args, stack_from_stack_args
from policies.model import Stack
from policies.rules import Rule, all_rules
from policies.settings import CONFIG_SCHEMA, PolicyConfig

PACK_NAME = "sovereign-booking"
_SEVERITY = {
    "critical": crossguard.Severity.CRITICAL,
    "high": crossguard.Severity.HIGH,
    "medium": crossguard.Severity.MEDIUM,
    "low": crossguard.Severity.LOW,
}


def install_marker_preserving_deserializer() -> None:
    """Let properties reach the rules with secret and unknown markers intact.

    pulumi_policy 1.21 unwraps secrets to their plaintext and raises on reading an unknown value; the
    rules need to know that a value *is* a secret (BK-EXP-004) without ever holding it, and to treat
    unknowns as the preview does. Pinned by pyproject (pulumi-policy>=1.21,<1.22).
    """
    crossguard_internals.deserialize_properties = keep_engine_markers  # type: ignore[attr-defined]
    crossguard_internals.unknown_checking_proxy = lambda props: props  # type: ignore[attr-defined]


def _engine_config() -> tuple[dict[str, Any], frozenset[str]]:
    """The stack config the engine passes to analyzers (PULUMI_CONFIG), secrets by name only."""
    values = dict(pulumi.runtime.get_config_env())
    secret_keys = frozenset(pulumi.runtime.get_config_secret_keys_env())
    for key in secret_keys:
        if key in values:
            values[key] = "[secret]"
    return values, secret_keys


def _stack_name() -> str:
    try:
        return pulumi.get_stack()
    except Exception:
        return "stack"


def _report(
    rule: Rule,
    stack: Stack,
    config: Mapping[str, Any] | None,
    report: crossguard.ReportViolation,
    today: dt.date,
) -> None:
    # Read once per process and file version: the engine calls this for every rule and resource.
    register = exceptions_register.load(known_rules=_RULE_IDS)
    policy_config = _policy_config(json.dumps(config or {}, sort_keys=True))
    if rule.not_applicable(stack, policy_config) is not None:
        return  # e.g. a live-only rule at `pulumi up`: nothing it could judge, nothing to report
    for violation in rule.check(stack, policy_config):
        urn = violation.resource.urn if violation.resource else None
        decision = exceptions_register.apply(register, rule.id, urn or "", today)
        if decision.excepted:
            continue  # recorded exception: the audit reports list it with its justification
        message = (
            f"[{rule.id}] {violation.message}. Remediation: {rule.remediation} Regulation: {rule.regulation}"
        )
        report(decision.annotate(message), urn)


_RULE_IDS = frozenset(r.id for r in all_rules())


@lru_cache(maxsize=32)
def _policy_config(config_json: str) -> PolicyConfig:
    """The validated policy config, once per distinct config the engine passes."""
    return PolicyConfig.from_mapping(json.loads(config_json))


def _resource_validator(rule: Rule) -> Callable[[Any, crossguard.ReportViolation], None]:
    def validate(args: Any, report: crossguard.ReportViolation) -> None:
        values, secret_keys = _engine_config()
        stack = stack_from_resource_args(args, _stack_name(), values, secret_keys)
        _report(rule, stack, args.get_config(), report, dt.date.today())

    return validate


def _stack_validator(rule: Rule) -> Callable[[Any, crossguard.ReportViolation], None]:
    def validate(args: Any, report: crossguard.ReportViolation) -> None:
        values, secret_keys = _engine_config()
        stack = stack_from_stack_args(args, _stack_name(), values, secret_keys)
        _report(rule, stack, args.get_config(), report, dt.date.today())

    return validate


def policies() -> list[crossguard.Policy]:
    schema = crossguard.PolicyConfigSchema(properties=CONFIG_SCHEMA)
    built: list[crossguard.Policy] = []
    for rule in all_rules():
        level = (
            crossguard.EnforcementLevel.MANDATORY if rule.mandatory else crossguard.EnforcementLevel.ADVISORY
        )
        common: dict[str, Any] = {
            "name": rule.id,
            "description": f"{rule.title}. {rule.rationale}",
            "enforcement_level": level,
            "config_schema": schema,
            "display_name": rule.title,
            "severity": _SEVERITY[rule.severity],
            "tags": [rule.topic, *rule.regulations],
            "remediation_steps": rule.remediation,
            "framework": crossguard.PolicyComplianceFramework(
                name=", ".join(rule.regulations), version="", reference=rule.id, specification=rule.regulation
            ),
        }
        if rule.scope == "resource":
            built.append(crossguard.ResourceValidationPolicy(validate=_resource_validator(rule), **common))
        else:
            built.append(crossguard.StackValidationPolicy(validate=_stack_validator(rule), **common))
    return built


def serve() -> None:
    """Starts the analyzer (prints its port, then serves until killed)."""
    install_marker_preserving_deserializer()
    crossguard.PolicyPack(
        name=PACK_NAME,
        policies=policies(),
        enforcement_level=crossguard.EnforcementLevel.MANDATORY,
        description="Sovereign booking platform: region, encryption, key location, transit, exposure, providers.",
    )
