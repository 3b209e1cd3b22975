"""BK-ENC-002: every Scaleway data store is encrypted at rest."""

from __future__ import annotations

from collections.abc import Iterator

from policies.catalog import SCALEWAY_BUCKET_TYPES, SCALEWAY_DATA_STORES, SCALEWAY_SSE_TYPES
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.rules._helpers import is_true, settings_of
from policies.settings import PolicyConfig

#: Types Scaleway always encrypts at rest, with a Key Manager key when one is given (BK-ENC-004).
_ALWAYS_ENCRYPTED = frozenset({"scaleway:secrets/secret:Secret"})
#: Managed services whose storage encryption is Scaleway's and has no setting: nothing to check here;
#: BK-ENC-004 reports that no customer key protects them, which needs a recorded exception.
_PROVIDER_MANAGED = frozenset({"scaleway:observability/source:Source"})
_DATABASES = frozenset({"scaleway:databases/instance:Instance"})


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for type_token in SCALEWAY_DATA_STORES:
        for resource in stack.of_type(type_token):
            if type_token in _ALWAYS_ENCRYPTED or type_token in _PROVIDER_MANAGED:
                continue
            if type_token in _DATABASES:
                if not is_true(resource.get("encryptionAtRest")):
                    yield Violation(
                        "encryptionAtRest is not true: the database volume is not encrypted", resource
                    )
            elif type_token in SCALEWAY_BUCKET_TYPES:
                if not settings_of(stack, resource, SCALEWAY_SSE_TYPES):
                    yield Violation("no server-side encryption configuration names this bucket", resource)
            elif type_token in (
                "scaleway:databases/readReplica:ReadReplica",
                "scaleway:databases/snapshot:Snapshot",
            ):
                # Replicas and snapshots take the encryption of their instance, which is checked above.
                continue
            else:
                yield Violation(
                    f"{type_token}: encryption at rest cannot be shown from its settings", resource
                )


RULE = Rule(
    id="BK-ENC-002",
    title="Every Scaleway data store is encrypted at rest",
    severity="critical",
    mandatory=True,
    regulations=("HDS-2024", "SCW-HDS"),
    remediation=(
        "Set encryptionAtRest=true on the Database Instance (it can only be set at creation) and give every "
        "Object Storage bucket a server-side encryption configuration."
    ),
    rationale="HDS hosting requires encryption of stored health data.",
    check=check,
    scope="stack",
)
