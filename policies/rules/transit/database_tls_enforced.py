"""BK-TLS-002: databases and caches refuse unencrypted connections."""

from __future__ import annotations

from collections.abc import Iterator

from facts import tokens
from policies.model import Resource, Stack
from policies.rules import Rule, Violation
from policies.rules._helpers import as_list, is_true
from policies.settings import PolicyConfig

#: Parameters that force TLS, by engine family, with the values that turn it on.
#: Cloud SQL ssl_mode values that refuse every unencrypted connection (S3NS / Google Cloud technology).
_GCP_TLS_ONLY = ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")
_FORCE_TLS = {"rds.force_ssl": ("1", "true", "on"), "require_secure_transport": ("1", "on", "true")}


def _forces_tls(group: Resource) -> bool:
    for parameter in as_list(group.get("parameters")):
        if not isinstance(parameter, dict):
            continue
        accepted = _FORCE_TLS.get(str(parameter.get("name")))
        if accepted and str(parameter.get("value")).lower() in accepted:
            return True
    return False


def _group(stack: Stack, database: Resource, attribute: str, group_type: str) -> Resource | None:
    name = database.get(attribute)
    found = stack.references(name, group_type, ("name", "id"))
    if found is None and name:
        candidates = stack.dependencies_of(database, group_type)
        found = candidates[0] if len(candidates) == 1 else None
    return found


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    pairs = (
        ("aws:rds/instance:Instance", "parameterGroupName", "aws:rds/parameterGroup:ParameterGroup"),
        (
            "aws:rds/cluster:Cluster",
            "dbClusterParameterGroupName",
            "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        ),
    )
    for database_type, attribute, group_type in pairs:
        for database in stack.of_type(database_type):
            group = _group(stack, database, attribute, group_type)
            if group is None:
                yield Violation(
                    f"{attribute} names no parameter group of this stack: the default group accepts plaintext "
                    "connections",
                    database,
                )
            elif not _forces_tls(group):
                yield Violation(f"parameter group {group.name} does not set rds.force_ssl=1", database)
    for database in stack.of_type(tokens.GCP_SQL_INSTANCE):
        mode = database.get("settings", "ipConfiguration", "sslMode")
        if mode not in _GCP_TLS_ONLY:
            yield Violation(
                f"ipConfiguration.sslMode is {mode!r}: unencrypted connections are accepted", database
            )
    for cache in stack.of_type("aws:elasticache/replicationGroup:ReplicationGroup"):
        if not is_true(cache.get("transitEncryptionEnabled")):
            yield Violation("transitEncryptionEnabled is not true", cache)


RULE = Rule(
    id="BK-TLS-002",
    title="Databases and caches accept TLS connections only",
    severity="high",
    mandatory=True,
    regulations=("ANSSI-TLS", "HDS-2024"),
    remediation=(
        "Attach a parameter group of the stack with rds.force_ssl=1 (PostgreSQL) or "
        "require_secure_transport=ON (MySQL); enable transitEncryptionEnabled on ElastiCache; on S3NS set "
        "Cloud SQL ip_configuration.ssl_mode=ENCRYPTED_ONLY."
    ),
    rationale="Inside the VPC too, health data travels encrypted: the network is not a trust boundary.",
    check=check,
    scope="stack",
    providers=("aws", "gcp"),
)
