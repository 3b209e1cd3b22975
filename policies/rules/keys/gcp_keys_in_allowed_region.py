"""BK-KEY-005: Cloud KMS keys (S3NS) are symmetric, at a protection level the universe offers, rotated
(or, for external keys, held by an EKM connection of the stack in the allowed region), in a key ring of
the stack in the allowed region."""

from __future__ import annotations

from collections.abc import Iterator

from facts import s3ns as universe
from policies.model import Resource, Stack, is_known
from policies.rules import Rule, Violation
from policies.rules._keys.gcp import GCP_KEY, GCP_KEY_RING, key_ring_of
from policies.settings import PolicyConfig

EKM_CONNECTION = "gcp:kms/ekmConnection:EkmConnection"
#: External over VPC: the key material stays at the customer's key manager (data/facts/s3ns.yaml).
EXTERNAL_VPC = universe.EXTERNAL_VPC
_MAX_ROTATION_SECONDS = 365 * 86400


def _ekm_connection(stack: Stack, key: Resource) -> Resource | None:
    """The stack's EKM connection a key's ``cryptoKeyBackend`` names (by id, else by dependency)."""
    value = key.get("cryptoKeyBackend")
    found = stack.references(value, EKM_CONNECTION, ("id", "name"))
    if found is not None or (isinstance(value, str) and is_known(value)) or not value:
        return found
    candidates = stack.dependencies_of(key, EKM_CONNECTION)
    return candidates[0] if len(candidates) == 1 else None


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    allowed = config.regions_for("gcp")
    levels = universe.key_protection_levels()
    for ring in stack.of_type(GCP_KEY_RING):
        if ring.region not in allowed:
            yield Violation(
                f"key ring in {ring.region}, not in {', '.join(allowed) or 'no allowed region'}", ring
            )
    for connection in stack.of_type(EKM_CONNECTION):
        if connection.region not in allowed:
            yield Violation(
                f"EKM connection in {connection.region}, not in {', '.join(allowed) or 'no allowed region'}",
                connection,
            )
    for key in stack.of_type(GCP_KEY):
        if key_ring_of(stack, key) is None:
            yield Violation(
                "its key ring is not a key ring of this stack: the key's location is unknown", key
            )
        if key.get("purpose", default="ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
            yield Violation(f"purpose is {key.get('purpose')!r}: data keys must be ENCRYPT_DECRYPT", key)
        level = key.get("versionTemplate", "protectionLevel", default="SOFTWARE")
        if level not in levels:
            yield Violation(
                f"protection level {level!r} is not offered in the S3NS universe (one of {', '.join(levels)}; "
                f"{universe.cite('kms_protection_levels')})",
                key,
            )
            continue
        if level == EXTERNAL_VPC:
            # The key's material is wherever its EKM connection leads: only a connection of this stack,
            # in the allowed region, says where that is.
            backend = _ekm_connection(stack, key)
            if backend is None:
                yield Violation(
                    "EXTERNAL_VPC key without an EKM connection of this stack (cryptoKeyBackend): where its "
                    "key material lives is unknown",
                    key,
                )
            elif backend.region not in allowed:
                yield Violation(f"EXTERNAL_VPC key through an EKM connection in {backend.region}", key)
            # External keys rotate at the key manager (data/facts/s3ns.yaml kms_external_rotation).
            continue
        rotation = str(key.get("rotationPeriod", default=""))
        seconds = int(rotation[:-1]) if rotation.endswith("s") and rotation[:-1].isdigit() else None
        if seconds is None or seconds > _MAX_ROTATION_SECONDS:
            yield Violation(f"rotationPeriod {rotation or 'unset'}: keys must rotate at least yearly", key)


RULE = Rule(
    id="BK-KEY-005",
    title="Every S3NS Cloud KMS key is a symmetric key at a level the universe offers, in a key ring of the "
    "stack in u-france-east1",
    severity="critical",
    mandatory=True,
    regulations=("S3NS-CMEK", "SNC-3.2-19", "HDS-2024"),
    remediation=(
        "Create the keys in a key ring of the stack located in u-france-east1, purpose ENCRYPT_DECRYPT, at a "
        "protection level of data/facts/s3ns.yaml (SOFTWARE with rotation_period at most 365 days, or "
        "EXTERNAL_VPC with crypto_key_backend naming an EKM connection of the stack in u-france-east1). HSM "
        "is not offered in Cloud de Confiance."
    ),
    rationale=(
        "Keys protecting health data must stay where the data may be: in Cloud KMS inside the qualified "
        "offer, or at the ministry's own key manager reached through a connection the stack declares."
    ),
    check=check,
    scope="stack",
)
