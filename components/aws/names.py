"""Every physical name the AWS platform sets, derived from one per-stack prefix.

AWS names these resources in the account and region, not in the stack: two stacks in one account
(staging beside production) collide on any fixed one. Resources Pulumi auto-names (buckets, roles,
most log groups) get a random suffix and are not listed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from facts import aws as aws_facts

#: Lowercase letters, digits and single hyphens, 3 to 30 characters: valid inside an RDS identifier
#: (letter first, no "--", no trailing hyphen, 63 max), a KMS alias, an ECS cluster name and a log group.
PREFIX = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{1,28}[a-z0-9]$")


@dataclass(frozen=True)
class Names:
    """Physical names of one stack's platform; ``prefix`` is booking:prefix (default: the stack name)."""

    prefix: str

    def __post_init__(self) -> None:
        if not PREFIX.match(self.prefix):
            raise ValueError(
                f"Names.prefix: {self.prefix!r} must be 3 to 30 of [a-z0-9-], a letter first, no '--', "
                "no trailing '-'"
            )

    @property
    def key_store(self) -> str:
        return f"{self.prefix}-xks"

    def alias(self, domain: str) -> str:
        return f"alias/{self.prefix}/{domain}"

    @property
    def db_identifier(self) -> str:
        return f"{self.prefix}-postgres"

    @property
    def cluster(self) -> str:
        return f"{self.prefix}-cluster"

    @property
    def container_insights_log_group(self) -> str:
        """Where Container Insights writes (it would create it, under no key of ours, if missing)."""
        return f"/aws/ecs/containerinsights/{self.cluster}/performance"

    def task_family(self, service: str) -> str:
        return f"{self.prefix}-{service}"

    @property
    def trail(self) -> str:
        return f"{self.prefix}-audit-trail"

    def trail_arn(self, region: str, account: str) -> str:
        return f"arn:aws:cloudtrail:{region}:{account}:trail/{self.trail}"

    @property
    def waf_log_group(self) -> str:
        # WAF delivers only to destinations whose name starts with its prefix (data/facts/aws.yaml).
        return f"{aws_facts.load().log_destination_prefixes['waf'].prefix}{self.prefix}"
