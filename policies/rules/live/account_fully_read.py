"""BK-LIVE-004: every part of the account could be read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig

#: Stack config key the live adapters fill with what they could not read.
GAPS_KEY = "verify:gaps"


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for gap in stack.config.get(GAPS_KEY, ()):
        if not isinstance(gap, Mapping):
            continue
        need = f" (missing permission {gap['permission']})" if gap.get("permission") else ""
        yield Violation(
            f"{gap.get('provider')} {gap.get('region')}: {gap.get('what')} not checked: "
            f"{gap.get('reason')}{need}"
        )


RULE = Rule(
    id="BK-LIVE-004",
    title="Every part of the account is read by the live audit",
    severity="medium",
    mandatory=False,
    regulations=("HDS-2024",),
    remediation=(
        "Grant the read-only role every action of policies/inputs/live/aws-readonly-policy.json (Scaleway: the "
        "permission sets in docs/verify.md) and run verify again."
    ),
    rationale=(
        "A live audit that could not read a part of the account says nothing about it; the gap is shown."
    ),
    check=check,
    scope="stack",
)
