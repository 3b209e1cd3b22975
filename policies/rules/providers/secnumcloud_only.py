"""BK-PROV-002: where SecNumCloud is required, every resource is a service inside its provider's
SecNumCloud-qualified perimeter (data/facts/providers.yaml)."""

from __future__ import annotations

from collections.abc import Iterator

from facts.providers import Provider, by_package, perimeter
from policies.model import Resource, Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig

#: Stack config key by which a stack declares that its data requires a SecNumCloud-qualified offer
#: (loi SREN art. 31; circular n° 6519/SG). The policy config's ``secnumcloudOnly`` does the same for
#: every stack it judges (CrossGuard sees only the policy config).
STACK_SWITCH = "booking:requireSecNumCloud"


def required(stack: Stack, config: PolicyConfig) -> bool:
    return config.secnumcloud_only or str(stack.config.get(STACK_SWITCH, "")).lower() == "true"


def applies_where_required(stack: Stack, config: PolicyConfig) -> str | None:
    if required(stack, config):
        return None
    return f"SecNumCloud not required (policy config secnumcloudOnly false, stack config {STACK_SWITCH} not true)"


def cloud_resources(stack: Stack) -> Iterator[tuple[Resource, Provider | None]]:
    """Each resource a cloud creates, with its provider's facts (None: a package data/facts/providers.yaml
    does not know); provider objects and the engine's own resources, which create nothing, are left out."""
    facts = by_package()
    for resource in stack:
        if not resource.custom or resource.is_provider:
            continue
        provider = facts.get(resource.package)
        if provider is not None and provider.engine:
            continue
        yield resource, provider


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    if not required(stack, config):
        return
    for resource, provider in cloud_resources(stack):
        if resource.package not in config.secnumcloud_providers or provider is None:
            snc = provider.secnumcloud if provider else None
            status = snc.status if snc else "not in data/facts/providers.yaml"
            yield Violation(
                f"provider {resource.package!r} holds no SecNumCloud qualification (status: {status})",
                resource,
            )
            continue
        if resource.type not in perimeter(resource.package):
            # Fail closed: a service the data file does not list is outside the perimeter.
            yield Violation(
                f"{resource.type} is not in the SecNumCloud-qualified perimeter of {resource.package!r} "
                "(no row covers it in data/facts/providers.yaml)",
                resource,
            )


RULE = Rule(
    id="BK-PROV-002",
    title="Where SecNumCloud is required, every resource is a service inside the qualified perimeter",
    severity="critical",
    mandatory=True,
    regulations=("SNC-3.2-19", "SREN-31"),
    remediation=(
        "Use only services listed in the provider's 'perimeter' rows of data/facts/providers.yaml (each with a "
        "dated source); to add a service, first obtain the provider's confirmation that it is inside the "
        "qualified perimeter and record it there with its source."
    ),
    rationale=(
        "Loi SREN art. 31 and circular n° 6519/SG require a SecNumCloud-qualified offer for health data of a "
        "State service; a qualification covers named services, not a provider's whole catalogue."
    ),
    check=check,
    scope="resource",
    applies=applies_where_required,
)
