"""BK-STATE-001: the recorded state agrees with what the program declares, for every setting a rule reads."""

from __future__ import annotations

import json
from collections.abc import Iterator

from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig


def _short(value: object) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for resource in stack:
        # Only settings a rule has read: a default the cloud fills in that no rule judges is no finding.
        judged = sorted(key for key in resource.recorded if key in resource.read)
        if judged:
            yield Violation(
                "the recorded state disagrees with the program on "
                + "; ".join(
                    f"{key} (declared {_short(resource.properties.get(key))}, recorded "
                    f"{_short(resource.recorded[key])})"
                    for key in judged
                )
                + ": rules judged the declared value",
                resource,
            )


RULE = Rule(
    id="BK-STATE-001",
    title="The recorded state agrees with the program on every setting a rule judges",
    severity="high",
    mandatory=True,
    regulations=("HDS-2024",),
    remediation=(
        "Find out which side is true: run `pulumi refresh` and `pulumi preview --diff`, then either "
        "declare the setting in the program or `pulumi up` so the cloud matches it; export again."
    ),
    rationale=(
        "An export whose outputs disagree with its inputs shows drift between the program and the "
        "cloud; the audit cannot know which one holds health data, so it does not pick one silently."
    ),
    check=check,
    scope="stack",
    inputs=("export",),  # only an export records state beside the declared inputs
    runs_last=True,
)
