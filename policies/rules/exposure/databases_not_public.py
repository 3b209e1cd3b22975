"""BK-EXP-002: no database is reachable from the Internet."""

from __future__ import annotations

from collections.abc import Iterator

from facts import tokens
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.rules._helpers import as_list, is_true
from policies.settings import PolicyConfig

_OPEN = ("0.0.0.0/0", "::/0")


def _cloud_sql(stack: Stack) -> Iterator[Violation]:
    """Cloud SQL (S3NS): no public address, attached to the VPC, no Internet-wide authorized network."""
    for database in stack.of_type(tokens.GCP_SQL_INSTANCE):
        ip = database.get("settings", "ipConfiguration") or {}
        if not isinstance(ip, dict) or ip.get("ipv4Enabled") is not False:
            yield Violation(
                "ipConfiguration.ipv4Enabled is not false: the instance has a public address", database
            )
        if not isinstance(ip, dict) or not ip.get("privateNetwork"):
            yield Violation("the instance is not attached to a private network (privateNetwork)", database)
        for network in as_list(ip.get("authorizedNetworks") if isinstance(ip, dict) else None):
            if isinstance(network, dict) and network.get("value") in _OPEN:
                yield Violation(f"an authorized network admits {network.get('value')}", database)


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for database in stack.of_type("aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance"):
        if is_true(database.get("publiclyAccessible")):
            yield Violation("publiclyAccessible is true: the database has a public address", database)
    for database in stack.of_type(
        "scaleway:databases/instance:Instance", "scaleway:databases/readReplica:ReadReplica"
    ):
        # An empty loadBalancer block still asks for a public endpoint; only its absence means none.
        if database.properties.get("loadBalancer") not in (None, []) or database.get("directAccess"):
            yield Violation("the database has a public endpoint (load balancer / direct access)", database)
        if not database.get("privateNetwork"):
            yield Violation("the database is not attached to a private network", database)
    yield from _cloud_sql(stack)
    for acl in stack.of_type("scaleway:databases/acl:Acl"):
        for rule in as_list(acl.get("aclRules")):
            if isinstance(rule, dict) and rule.get("ip") in _OPEN:
                yield Violation(f"an ACL rule admits {rule.get('ip')}", acl)


RULE = Rule(
    id="BK-EXP-002",
    title="No database is reachable from the Internet",
    severity="critical",
    mandatory=True,
    regulations=("HDS-2024",),
    remediation=(
        "Keep publiclyAccessible=false and place databases in private subnets; on Scaleway attach the "
        "instance to a private network only and admit no 0.0.0.0/0 in its ACL; on S3NS set "
        "ip_configuration.ipv4_enabled=false with a private_network."
    ),
    rationale="A database with a public address is one credential away from a breach.",
    check=check,
    scope="resource",
)
