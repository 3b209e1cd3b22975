"""BK-STATE-002: the stack owns no account-level resource AWS creates and shares between stacks.

RDS creates ``RDSOSMetrics`` itself, one per account and region, for every instance with Enhanced
Monitoring (data/facts/aws.yaml, shared_resources). A stack that creates it fails when it exists
(a second stack, or RDS was first) and deletes it for every other instance when destroyed.
"""

from __future__ import annotations

from collections.abc import Iterator

from facts import aws as aws_facts
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    facts = aws_facts.load()
    for shared in facts.shared_resources:
        for resource in stack.of_type(shared.type):
            if resource.get("name") == shared.name:
                yield Violation(
                    f"creates {shared.name}, which AWS creates and shares between every stack of the account "
                    f"and region ({facts.sources[shared.source].url})",
                    resource,
                )


RULE = Rule(
    id="BK-STATE-002",
    title="The stack owns no account-level resource AWS shares between stacks (RDSOSMetrics)",
    severity="medium",
    mandatory=True,
    regulations=("HDS-2024",),
    remediation=(
        "Do not create the resource: let AWS create it. To put RDSOSMetrics under a customer key, associate "
        "the key once per account (aws logs associate-kms-key), as docs/deploy-aws.md says."
    ),
    rationale=(
        "The first `pulumi up` fails when the resource exists, a second stack cannot be deployed beside the "
        "first, and a destroy deletes what other stacks use."
    ),
    check=check,
    scope="stack",
    providers=("aws",),
)
