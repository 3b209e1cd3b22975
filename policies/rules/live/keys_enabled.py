"""BK-LIVE-002: every customer-managed key is enabled."""

from __future__ import annotations

from collections.abc import Iterator

from facts.tokens import KMS_KEY, SCALEWAY_KEY
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for key in stack.of_type(KMS_KEY):
        state = key.get("keyState")
        if state is not None and state != "Enabled":
            yield Violation(f"key state is {state}: data under this key cannot be decrypted", key)
    for key in stack.of_type(SCALEWAY_KEY):
        state = key.get("state")
        if state is not None and state != "enabled":
            yield Violation(f"key state is {state}: data under this key cannot be decrypted", key)


RULE = Rule(
    id="BK-LIVE-002",
    title="Every customer-managed key is enabled",
    severity="high",
    mandatory=True,
    regulations=("AWS-XKS", "HDS-2024"),
    remediation=(
        "Enable the key (EnableKey; Scaleway: EnableKey) or cancel its deletion (CancelKeyDeletion) if it "
        "still "
        "protects data; keys no longer used are removed from the stack and recorded as retired."
    ),
    rationale="A disabled key or one pending deletion makes the data it protects unavailable, or soon lost.",
    check=check,
    scope="resource",
    providers=("aws", "scaleway"),
)
