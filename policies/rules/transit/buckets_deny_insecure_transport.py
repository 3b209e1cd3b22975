"""BK-TLS-003: every S3 bucket's policy denies requests not made over TLS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.catalog import S3_BUCKET_TYPES
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.rules._helpers import as_list, settings_of, statements
from policies.settings import PolicyConfig

BUCKET_POLICIES = ("aws:s3/bucketPolicy:BucketPolicy",)


def denies_insecure_transport(policy: Any) -> bool:
    for statement in statements(policy):
        if statement.get("Effect") != "Deny":
            continue
        actions = [str(a) for a in as_list(statement.get("Action"))]
        if not any(a in ("s3:*", "*") for a in actions):
            continue
        condition = statement.get("Condition") or {}
        secure = (
            (condition.get("Bool") or {}).get("aws:SecureTransport") if isinstance(condition, dict) else None
        )
        if str(secure).lower() == "false":
            return True
    return False


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for bucket in stack.of_type(*S3_BUCKET_TYPES):
        policies = settings_of(stack, bucket, BUCKET_POLICIES)
        if not any(
            denies_insecure_transport(p.get("policy")) for p in policies
        ) and not denies_insecure_transport(bucket.get("policy")):
            yield Violation("no bucket policy denies s3:* when aws:SecureTransport is false", bucket)


RULE = Rule(
    id="BK-TLS-003",
    title="Every bucket denies requests made without TLS",
    severity="high",
    mandatory=True,
    regulations=("ANSSI-TLS", "HDS-2024"),
    remediation=(
        'Add a bucket policy statement {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": '
        '[bucket ARN, bucket ARN/*], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}.'
    ),
    rationale="S3 still answers plain HTTP unless its policy refuses it.",
    check=check,
    scope="stack",
    providers=("aws",),
)
