"""BK-LIVE-005: every resource of the account is read in detail by the live audit."""

from __future__ import annotations

from collections.abc import Iterator

from policies.catalog import LIVE_UNREAD_TYPES
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for resource in stack.of_type(*LIVE_UNREAD_TYPES):
        kind = resource.get("resourceType", default="an unknown type")
        yield Violation(
            f"{kind} {resource.id or resource.name} in {resource.region or 'an unknown region'} was seen "
            "but not read in detail: its encryption, key and exposure are not established",
            resource,
        )


RULE = Rule(
    id="BK-LIVE-005",
    title="Every resource in the account is read in detail by the live audit",
    severity="high",
    mandatory=True,
    regulations=("HDS-2024",),
    remediation=(
        "Delete the resource if it should not exist; if it should, read its service in the live audit "
        "(policies/inputs/live/) or record a justified exception naming its URN in policies/exceptions.yaml."
    ),
    rationale=(
        "The audit is fail-closed: a resource whose settings were not read could hold health data "
        "unencrypted or outside the allowed regions, so it cannot pass."
    ),
    check=check,
    scope="stack",
)
