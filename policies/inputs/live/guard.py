"""Read-only by construction: every API call of a verify session must be on an allow-list of reads.

The guard is a botocore ``before-parameter-build`` handler registered on the session, so it runs for
every client the session creates, before parameters are validated or any HTTP request is sent. An
operation that is not on :data:`AWS_READ_OPERATIONS` raises :class:`ReadOnlyViolationError`.

:data:`AWS_READ_OPERATIONS` maps each allowed operation to the IAM action it needs; the read-only
role's policy document (``aws-readonly-policy.json``) is exactly these actions (a test checks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import boto3
from botocore.config import Config

POLICY_PATH: Final = Path(__file__).with_name("aws-readonly-policy.json")

#: service name (botocore) -> operation name -> IAM action. Only these calls can be made.
AWS_READ_OPERATIONS: Final[Mapping[str, Mapping[str, str]]] = {
    "sts": {"GetCallerIdentity": "sts:GetCallerIdentity"},
    "ec2": {
        "DescribeRegions": "ec2:DescribeRegions",
        "DescribeVolumes": "ec2:DescribeVolumes",
        "DescribeSnapshots": "ec2:DescribeSnapshots",
        "DescribeSnapshotAttribute": "ec2:DescribeSnapshotAttribute",
        "DescribeSecurityGroups": "ec2:DescribeSecurityGroups",
    },
    "efs": {"DescribeFileSystems": "elasticfilesystem:DescribeFileSystems"},
    "dynamodb": {"ListTables": "dynamodb:ListTables", "DescribeTable": "dynamodb:DescribeTable"},
    "elbv2": {
        "DescribeLoadBalancers": "elasticloadbalancing:DescribeLoadBalancers",
        "DescribeListeners": "elasticloadbalancing:DescribeListeners",
    },
    "ecs": {
        "ListTaskDefinitions": "ecs:ListTaskDefinitions",
        "DescribeTaskDefinition": "ecs:DescribeTaskDefinition",
    },
    "s3": {
        "ListBuckets": "s3:ListAllMyBuckets",
        "GetBucketLocation": "s3:GetBucketLocation",
        "GetBucketEncryption": "s3:GetEncryptionConfiguration",
        "GetBucketPolicy": "s3:GetBucketPolicy",
        "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
        "GetBucketAcl": "s3:GetBucketAcl",
        "GetBucketReplication": "s3:GetReplicationConfiguration",
        "GetBucketLogging": "s3:GetBucketLogging",
    },
    "rds": {
        "DescribeDBInstances": "rds:DescribeDBInstances",
        "DescribeDBClusters": "rds:DescribeDBClusters",
        "DescribeDBSnapshots": "rds:DescribeDBSnapshots",
        "DescribeDBClusterSnapshots": "rds:DescribeDBClusterSnapshots",
        "DescribeDBSnapshotAttributes": "rds:DescribeDBSnapshotAttributes",
        "DescribeDBClusterSnapshotAttributes": "rds:DescribeDBClusterSnapshotAttributes",
        "DescribeDBInstanceAutomatedBackups": "rds:DescribeDBInstanceAutomatedBackups",
        "DescribeDBParameters": "rds:DescribeDBParameters",
        "DescribeDBClusterParameters": "rds:DescribeDBClusterParameters",
    },
    "logs": {"DescribeLogGroups": "logs:DescribeLogGroups"},
    "secretsmanager": {
        "ListSecrets": "secretsmanager:ListSecrets",
        "DescribeSecret": "secretsmanager:DescribeSecret",
    },
    "backup": {
        "ListBackupVaults": "backup:ListBackupVaults",
        "ListBackupPlans": "backup:ListBackupPlans",
        "GetBackupPlan": "backup:GetBackupPlan",
    },
    "kms": {
        "ListKeys": "kms:ListKeys",
        "DescribeKey": "kms:DescribeKey",
        "ListAliases": "kms:ListAliases",
        "DescribeCustomKeyStores": "kms:DescribeCustomKeyStores",
        # Who may use a key (BK-ACCESS-001, BK-KEY-006): its policy and its grants.
        "GetKeyPolicy": "kms:GetKeyPolicy",
        "ListGrants": "kms:ListGrants",
    },
    "resourcegroupstaggingapi": {"GetResources": "tag:GetResources"},
}

#: Retries with exponential backoff and jitter for throttling and transient errors (botocore).
MAX_ATTEMPTS: Final = 6
RETRY_CONFIG: Final = Config(
    retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS}, connect_timeout=10, read_timeout=30
)


class ReadOnlyViolationError(RuntimeError):
    """A verify session was asked to make a call that is not on the read allow-list."""


def iam_action(service: str, operation: str) -> str:
    """The IAM action an allowed operation needs.

    ``s3``/``GetBucketEncryption`` -> ``s3:GetEncryptionConfiguration``.
    """
    return AWS_READ_OPERATIONS.get(service, {}).get(operation, f"{service}:{operation}")


def iam_actions() -> list[str]:
    """Every IAM action of the allow-list, sorted."""
    return sorted({action for ops in AWS_READ_OPERATIONS.values() for action in ops.values()})


def policy_document() -> dict[str, Any]:
    """The IAM policy the read-only role needs: exactly the allow-list's actions."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SovereignBookingVerifyReadOnly",
                "Effect": "Allow",
                "Action": iam_actions(),
                "Resource": "*",
            }
        ],
    }


def _refuse_unlisted(model: Any = None, **_: Any) -> None:
    service = model.service_model.service_name
    if model.name not in AWS_READ_OPERATIONS.get(service, {}):
        raise ReadOnlyViolationError(
            f"verify is read-only: {service}:{model.name} is not on the allow-list of read calls "
            "(policies/inputs/live/guard.py); no request was sent"
        )


def guard_session(session: boto3.Session) -> boto3.Session:
    """Registers the allow-list on every client the session creates (idempotent)."""
    session.events.register(
        "before-parameter-build", _refuse_unlisted, unique_id="sovereign-booking-read-only"
    )
    return session


def read_only_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """A boto3 session that can only make the allow-listed read calls."""
    return guard_session(boto3.Session(profile_name=profile, region_name=region))
