"""BK-ENC-001: every AWS data store is encrypted with a customer-managed key of the stack."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Stack
from policies.rules import Rule, Violation
from policies.rules._keys.aws import aws_protections
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for protection in aws_protections(stack):
        if protection.problem:
            yield Violation(f"{protection.protects}: {protection.problem}", protection.resource)


RULE = Rule(
    id="BK-ENC-001",
    title="Every AWS data store is encrypted at rest with a customer-managed key of the stack",
    severity="critical",
    mandatory=True,
    regulations=("HDS-2024", "CNIL-SCHREMS-II", "AWS-XKS"),
    remediation=(
        "Turn encryption on and pass the ARN of the stack's KMS key for the data domain (database, "
        "documents, logs, secrets, backups): S3 default encryption aws:kms with kmsMasterKeyId, RDS "
        "storageEncrypted + kmsKeyId (+ performanceInsightsKmsKeyId, masterUserSecretKmsKeyId), log group "
        "kmsKeyId, Backup vault kmsKeyArn, ECS cluster fargateEphemeralStorageKmsKeyId, and so on."
    ),
    rationale=(
        "Data encrypted with AWS-managed keys can be decrypted by AWS alone; only the stack's own keys, held in "
        "the French external key store, keep the decision (and the kill switch) with the data controller."
    ),
    check=check,
    scope="stack",
)
