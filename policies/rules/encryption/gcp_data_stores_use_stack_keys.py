"""BK-ENC-005: every data store on Google Cloud technology (S3NS) is encrypted under a Cloud KMS key of the stack."""

from __future__ import annotations

from collections.abc import Iterator

from policies.catalog import GCP_DATA_STORES, GCP_SECRET
from policies.model import Resource, Stack
from policies.rules import Rule, Violation
from policies.rules._helpers import as_list
from policies.rules._keys.gcp import resolve_gcp_key
from policies.settings import PolicyConfig


def _secret_keys(secret: Resource) -> Iterator[tuple[str, object]]:
    """(where, key reference) for every place a secret's payload is stored."""
    replication = secret.get("replication") or {}
    automatic = replication.get("automatic") if isinstance(replication, dict) else None
    if automatic is not None:
        # Automatic replication: one key for every copy, wherever Secret Manager puts them.
        automatic = automatic[0] if isinstance(automatic, list) and automatic else automatic
        cmek = automatic.get("customerManagedEncryption") if isinstance(automatic, dict) else None
        cmek = cmek[0] if isinstance(cmek, list) and cmek else cmek
        yield "automatic replication", cmek.get("kmsKeyName") if isinstance(cmek, dict) else None
        return
    replicas = as_list(secret.get("replication", "userManaged", "replicas"))
    if not replicas:
        yield "replication", None
    for index, replica in enumerate(replicas):
        cmek = replica.get("customerManagedEncryption") if isinstance(replica, dict) else None
        cmek = cmek[0] if isinstance(cmek, list) and cmek else cmek
        yield f"replica {index}", cmek.get("kmsKeyName") if isinstance(cmek, dict) else None


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for type_token, settings in GCP_DATA_STORES.items():
        for resource in stack.of_type(type_token):
            if type_token == GCP_SECRET:
                for where, value in _secret_keys(resource):
                    if not resolve_gcp_key(stack, resource, value):
                        yield Violation(
                            f"secret payload ({where}): no Cloud KMS key of the stack is set", resource
                        )
                continue
            for setting in settings:
                if not resolve_gcp_key(stack, resource, resource.get(*setting.key)):
                    yield Violation(
                        f"{setting.protects}: {'.'.join(setting.key)} names no Cloud KMS key of the stack "
                        "(a provider-managed key would be used)",
                        resource,
                    )


RULE = Rule(
    id="BK-ENC-005",
    title="Every S3NS data store is encrypted under a Cloud KMS key of the stack",
    severity="critical",
    mandatory=True,
    regulations=("S3NS-CMEK", "HDS-2024", "SNC-3.2-19"),
    remediation=(
        "Set the store's CMEK to the domain's key of the stack: Cloud SQL encryption_key_name, Cloud Storage "
        "encryption.default_kms_key_name, Secret Manager customer_managed_encryption on every replica, Cloud "
        "Logging bucket cmek_settings.kms_key_name."
    ),
    rationale="With a key of its own per domain the customer can revoke or crypto-shred one domain alone.",
    check=check,
    scope="stack",
)
