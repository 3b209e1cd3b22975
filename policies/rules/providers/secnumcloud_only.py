"""BK-PROV-002: in SecNumCloud-only mode, every resource is created by a SecNumCloud-qualified provider."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    if not config.secnumcloud_only:
        return
    for resource in stack:
        if resource.custom and resource.package not in config.secnumcloud_providers:
            yield Violation(
                f"provider {resource.package!r} holds no SecNumCloud qualification "
                f"(qualified: {', '.join(config.secnumcloud_providers)})",
                resource,
            )


RULE = Rule(
    id="BK-PROV-002",
    title="In SecNumCloud-only mode, every resource is created by a SecNumCloud-qualified provider",
    severity="high",
    mandatory=True,
    regulations=("SNC-3.2-19",),
    remediation="Move the stack to a SecNumCloud-qualified provider, or turn 'secnumcloudOnly' off for stacks "
    "that do not require it.",
    rationale=(
        "SecNumCloud §19 requires immunity from non-European law, which neither an external key store nor a "
        "European region gives a US provider."
    ),
    check=check,
    scope="resource",
)
