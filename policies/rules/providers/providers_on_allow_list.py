"""BK-PROV-001: every resource is created by an allowed (HDS-certified) provider."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    for resource in stack:
        if resource.custom and resource.package not in config.allowed_providers:
            yield Violation(
                f"provider {resource.package!r} is not on the allow-list ({', '.join(config.allowed_providers)})",
                resource,
            )


RULE = Rule(
    id="BK-PROV-001",
    title="Every resource is created by an HDS-certified provider on the allow-list",
    severity="critical",
    mandatory=True,
    regulations=("HDS-2024",),
    remediation="Use only providers on the allow-list (policy config 'allowedProviders'); extend it only for "
    "providers holding an HDS certificate for the services used.",
    rationale="Only an HDS-certified host may store health data in France (Code de la santé publique L.1111-8).",
    check=check,
    scope="resource",
)
