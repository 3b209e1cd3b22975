"""BK-SCW-001: no Scaleway resource sets arguments its provider declares in conflict."""

from __future__ import annotations

from collections.abc import Iterator

from facts.scaleway import argument_conflicts
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    for type_token, groups in argument_conflicts().items():
        for resource in stack.of_type(type_token):
            for group in groups:
                # An unknown value (a preview's computed input) is set: it will hold something.
                present = [name for name in group if resource.get(name) not in (None, "", [])]
                if len(present) > 1:
                    yield Violation(
                        f"sets {present}: Scaleway accepts only one of {list(group)} "
                        "(data/facts/scaleway.yaml); the API refuses the resource",
                        resource,
                    )


RULE = Rule(
    id="BK-SCW-001",
    title="No Scaleway resource combines arguments the provider declares in conflict",
    severity="high",
    mandatory=True,
    regulations=("SCW-DOCS",),
    remediation=(
        "Keep one of the conflicting arguments per resource (a load balancer route matches on SNI, Host header "
        "or path prefix, not two): split the route in two."
    ),
    rationale="A conflicting combination previews cleanly and fails the first `pulumi up`.",
    check=check,
    scope="resource",
)
