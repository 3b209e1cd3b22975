"""BK-KEY-003: Scaleway Key Manager keys are symmetric encryption keys in the allowed region."""

from __future__ import annotations

from collections.abc import Iterator

from facts.tokens import SCALEWAY_KEY
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    allowed = config.regions_for("scaleway")
    for key in stack.of_type(SCALEWAY_KEY):
        if key.region not in allowed:
            yield Violation(f"Key Manager key in {key.region}, not in {', '.join(allowed)}", key)
        usage = key.get("usage")
        if usage is not None and usage != "symmetric_encryption":
            yield Violation(f"key usage is {usage!r}: data keys must be symmetric_encryption", key)


RULE = Rule(
    id="BK-KEY-003",
    title="Every Scaleway Key Manager key is a symmetric encryption key in fr-par",
    severity="critical",
    mandatory=True,
    regulations=("SCW-HDS", "HDS-2024"),
    remediation="Create Key Manager keys with region fr-par and usage symmetric_encryption.",
    rationale="Keys protecting health data must stay where the data is allowed to be.",
    check=check,
    scope="resource",
)
