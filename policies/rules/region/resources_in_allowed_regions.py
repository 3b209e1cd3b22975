"""BK-REGION-001: every resource lives in an allowed region."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    for resource in stack:
        if not resource.custom:
            continue
        allowed = config.regions_for(resource.package)
        if not allowed:
            continue  # packages without regions (random, dynamic) or judged by the provider rule
        if resource.region is None:
            yield Violation(
                f"the region of {resource.type} cannot be resolved (no region input, provider region or "
                f"'{resource.package}:region' config); allowed: {', '.join(allowed)}",
                resource,
            )
        elif resource.region not in allowed:
            yield Violation(
                f"region {resource.region} is not allowed (allowed: {', '.join(allowed)})", resource
            )


RULE = Rule(
    id="BK-REGION-001",
    title="Every resource is in an allowed region",
    severity="critical",
    mandatory=True,
    regulations=("HDS-2024", "CNIL-SCHREMS-II", "SCW-HDS"),
    remediation=(
        "Create the resource with the stack's provider (AWS eu-west-3, Scaleway fr-par) and remove any "
        "per-resource 'region' that points elsewhere; set 'aws:region' / 'scaleway:region' in the stack config."
    ),
    rationale="HDS requires health data to be hosted in the EEA; this project narrows it to Paris.",
    check=check,
    scope="resource",
)
