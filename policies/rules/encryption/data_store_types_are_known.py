"""BK-ENC-003: every resource type is known to the rules (fail closed on unknown data stores)."""

from __future__ import annotations

from collections.abc import Iterator

from policies.catalog import LIVE_UNREAD_TYPES, classify
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for resource in stack:
        if resource.type in LIVE_UNREAD_TYPES:
            continue  # seen live but not read in detail: BK-LIVE-005 fails it, naming its real type
        if resource.custom and not resource.is_provider and classify(resource.type) == "unknown":
            yield Violation(
                f"{resource.type} is not known to the rules: it may hold data whose encryption and location "
                "nothing checks",
                resource,
            )


RULE = Rule(
    id="BK-ENC-003",
    title="Every resource type is known to the encryption rules",
    severity="high",
    mandatory=True,
    regulations=("HDS-2024", "CNIL-SCHREMS-II"),
    remediation=(
        "If the type holds data, add its encryption setting to policies/catalog.py (AWS_DATA_STORES or "
        "SCALEWAY_DATA_STORES) with a test; if it holds none, add it to NON_DATA_TYPES with a comment saying why."
    ),
    rationale="Rules that pass what they do not know would let a new data store in unencrypted and unlocated.",
    check=check,
    scope="resource",
)
