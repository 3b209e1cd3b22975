"""An S3 bucket that cannot be anything but private, versioned, KMS-encrypted and TLS-only."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class EncryptedBucketArgs:
    """Inputs of EncryptedBucket."""

    #: ARN of the KMS key (in the external key store) that encrypts every object.
    kms_key_arn: pulumi.Input[str]
    #: AWS services that deliver logs into this bucket (e.g. cloudtrail.amazonaws.com,
    #: logging.s3.amazonaws.com); they are allowed to write for ``account_id`` only.
    log_writers: Sequence[str] = field(default_factory=tuple)
    account_id: pulumi.Input[str] | None = None
    #: Bucket that receives this bucket's server access logs (None for a log bucket itself).
    access_log_bucket: pulumi.Input[str] | None = None
    access_log_prefix: str = ""
    #: Objects in a bucket with force_destroy may be deleted with the stack; off for health data.
    force_destroy: bool = False
    #: Days a replaced or deleted object's old version is kept; None keeps every version (the default,
    #: so medical documents keep their full retention; log buckets set it).
    noncurrent_version_expiration_days: int | None = None

    def __post_init__(self) -> None:
        days = self.noncurrent_version_expiration_days
        if days is not None and days < 1:
            raise ValueError(
                "EncryptedBucketArgs.noncurrent_version_expiration_days: must be 1 or more, or None"
            )


class EncryptedBucket(pulumi.ComponentResource):
    """Private, versioned, SSE-KMS (bucket key on) bucket whose policy denies any request without TLS."""

    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: EncryptedBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("booking:aws:EncryptedBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(name, force_destroy=args.force_destroy, opts=child)
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            # ACLs disabled: access is decided by policies only.
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        public_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms",
                        kms_master_key_id=args.kms_key_arn,
                    ),
                    # One data key per bucket rather than per object: far fewer calls to the external
                    # key store, which AWS caps at 1,800 requests per second.
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=_lifecycle_rules(args.noncurrent_version_expiration_days),
            opts=child,
        )
        if args.access_log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-access-logs",
                bucket=self.bucket.id,
                target_bucket=args.access_log_bucket,
                target_prefix=args.access_log_prefix or f"{name}/",
                opts=child,
            )
        if args.log_writers and args.account_id is None:
            raise ValueError("EncryptedBucketArgs.account_id: required when log_writers are given")
        policy = pulumi.Output.all(self.bucket.arn, args.account_id).apply(
            lambda values: _policy(values[0], values[1], args.log_writers)
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=policy,
            # The public access block must exist first, or a permissive policy could slip in between.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_block, ownership]),
        )
        self.bucket_name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"bucketName": self.bucket_name, "arn": self.arn})


def _lifecycle_rules(noncurrent_days: int | None) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """Abandoned multipart uploads (never a whole object) always go; old versions only when asked."""
    rules = [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="abort-incomplete-uploads",
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=7
            ),
        )
    ]
    if noncurrent_days is not None:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-old-versions",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=noncurrent_days
                ),
            )
        )
    return rules


def _policy(bucket_arn: str, account_id: str | None, log_writers: Sequence[str]) -> str:
    deny_plain_http = {
        "Sid": "DenyRequestsWithoutTls",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    deny_old_tls = {
        "Sid": "DenyTlsBelow12",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
    }
    statements: list[dict[str, Any]] = [deny_plain_http, deny_old_tls]
    if log_writers:
        source = {"StringEquals": {"aws:SourceAccount": account_id}}
        statements += [
            {
                "Sid": "LogDeliveryReadsAcl",
                "Effect": "Allow",
                "Principal": {"Service": list(log_writers)},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": source,
            },
            {
                "Sid": "LogDeliveryWrites",
                "Effect": "Allow",
                "Principal": {"Service": list(log_writers)},
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/*",
                "Condition": source,
            },
        ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
