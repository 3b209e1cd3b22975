"""BK-KEY-005: Cloud KMS keys (S3NS) are symmetric, rotated, and held in a key ring of the stack in the allowed region."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Stack
from policies.rules import Rule, Violation
from policies.rules._keys.gcp import GCP_KEY, GCP_KEY_RING, key_ring_of
from policies.settings import PolicyConfig

#: Protection levels whose key material Cloud KMS holds in its region (SOFTWARE, HSM). EXTERNAL keys
#: live with an external key manager whose location the stack does not show: not accepted here.
_IN_REGION_LEVELS = ("SOFTWARE", "HSM", "HSM_SINGLE_TENANT")
_MAX_ROTATION_SECONDS = 365 * 86400


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    allowed = config.regions_for("gcp")
    for ring in stack.of_type(GCP_KEY_RING):
        if ring.region not in allowed:
            yield Violation(
                f"key ring in {ring.region}, not in {', '.join(allowed) or 'no allowed region'}", ring
            )
    for key in stack.of_type(GCP_KEY):
        if key_ring_of(stack, key) is None:
            yield Violation(
                "its key ring is not a key ring of this stack: the key's location is unknown", key
            )
        if key.get("purpose", default="ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
            yield Violation(f"purpose is {key.get('purpose')!r}: data keys must be ENCRYPT_DECRYPT", key)
        level = key.get("versionTemplate", "protectionLevel", default="SOFTWARE")
        if level not in _IN_REGION_LEVELS:
            yield Violation(
                f"protection level {level!r} keeps the key material outside Cloud KMS's region", key
            )
        rotation = str(key.get("rotationPeriod", default=""))
        seconds = int(rotation[:-1]) if rotation.endswith("s") and rotation[:-1].isdigit() else None
        if seconds is None or seconds > _MAX_ROTATION_SECONDS:
            yield Violation(f"rotationPeriod {rotation or 'unset'}: keys must rotate at least yearly", key)


RULE = Rule(
    id="BK-KEY-005",
    title="Every S3NS Cloud KMS key is a rotated symmetric key in a key ring of the stack in u-france-east1",
    severity="critical",
    mandatory=True,
    regulations=("S3NS-CMEK", "SNC-3.2-19", "HDS-2024"),
    remediation=(
        "Create the keys in a key ring of the stack located in u-france-east1, purpose ENCRYPT_DECRYPT, "
        "protection level SOFTWARE or HSM, rotation_period at most 365 days."
    ),
    rationale="Keys protecting health data must stay where the data may be, inside the qualified offer.",
    check=check,
    scope="stack",
)
