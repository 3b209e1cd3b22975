"""EncryptedBucket: a Cloud Storage bucket under one customer key, versioned, never public."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.s3ns._options import inherited


@dataclass(frozen=True)
class EncryptedBucketArgs:
    """Inputs of EncryptedBucket."""

    project: str
    region: str
    kms_key_id: pulumi.Input[str]
    #: Days objects are locked against deletion (0: no retention policy).
    retention_days: int = 0
    #: Bucket receiving this bucket's access logs (None: none, for the log bucket itself).
    log_bucket: pulumi.Input[str] | None = None
    force_destroy: bool = False


class EncryptedBucket(pulumi.ComponentResource):
    """A regional bucket in the qualified region.

    Cloud Storage serves its JSON and XML APIs over HTTPS only, so unlike S3 there is no plain-HTTP
    request for a bucket policy to deny; uniform bucket-level access leaves IAM as the only access path.
    """

    bucket_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: EncryptedBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("booking:s3ns:EncryptedBucket", name, None, opts)
        self._after = inherited(opts)
        self.bucket = gcp.storage.Bucket(
            name,
            project=args.project,
            # A region, not a multi-region: the universe has one region and data stays in it.
            location=args.region.upper(),
            storage_class="STANDARD",
            encryption=gcp.storage.BucketEncryptionArgs(default_kms_key_name=args.kms_key_id),
            versioning=gcp.storage.BucketVersioningArgs(enabled=True),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            retention_policy=(
                gcp.storage.BucketRetentionPolicyArgs(retention_period=str(args.retention_days * 86400))
                if args.retention_days
                else None
            ),
            logging=gcp.storage.BucketLoggingArgs(log_bucket=args.log_bucket) if args.log_bucket else None,
            force_destroy=args.force_destroy,
            labels={"data": "health"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._after),
        )
        self.bucket_name = self.bucket.name
        self.register_outputs({"bucketName": self.bucket_name})
