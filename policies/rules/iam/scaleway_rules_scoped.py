"""BK-IAM-002: every Scaleway IAM rule is scoped to projects or to the organization, as Scaleway requires."""

from __future__ import annotations

from collections.abc import Iterator

from facts.scaleway import iam_scope_arguments
from policies.model import Stack, is_known
from policies.rules import Rule, Violation
from policies.rules.iam._scaleway import POLICY, rules_of
from policies.settings import PolicyConfig


def _set(value: object) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, str) and is_known(v) and v for v in value)
    return isinstance(value, str) and is_known(value) and bool(value)


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    scope = iam_scope_arguments()
    for policy in stack.of_type(POLICY):
        rules = rules_of(policy)
        if not rules:
            yield Violation("the policy has no readable rule", policy)
        for index, rule in enumerate(rules):
            present = [name for name in scope if _set(rule.get(name))]
            if len(present) != 1:
                yield Violation(
                    f"rule {index} sets {present or 'none'} of {list(scope)}: Scaleway requires exactly one "
                    "(a known project list or organization id) per rule",
                    policy,
                )


RULE = Rule(
    id="BK-IAM-002",
    title="Every Scaleway IAM rule is scoped to projects or to the organization",
    severity="high",
    mandatory=True,
    regulations=("SCW-DOCS",),
    remediation=(
        "Set projectIds (this stack's project: booking:scalewayProjectId) on every rule of every scaleway.iam.Policy."
    ),
    rationale=(
        "Scaleway refuses a rule with neither projectIds nor organizationId, so the first `pulumi up` fails; "
        "scoping to the stack's project also keeps the grant off every other project."
    ),
    check=check,
    scope="resource",
)
