"""``Documents``: Object Storage bucket, SSE under a Key Manager key, versioned, private, TLS only."""

from __future__ import annotations

import json

import pulumi
import pulumiverse_scaleway as scw

from components.scaleway.args import ScalewayBookingPlatformArgs
from components.scaleway.common import TYPE_PREFIX, uuid_of


class Documents(pulumi.ComponentResource):
    """Patients' documents: a private, versioned bucket, SSE under a Key Manager key, TLS only.

    Follows Scaleway's "How to create a compliant bucket to host healthcare data": fr-par, private,
    a dedicated bucket with no lifecycle rule (lifecycle rules and the Glacier class void HDS
    compliance there), bucket encryption enabled and a bucket policy restricting access.
    """

    def __init__(
        self,
        name: str,
        args: ScalewayBookingPlatformArgs,
        documents_key_id: pulumi.Input[str],
        api_application_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:Documents", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket_name = f"{args.name_prefix}-documents"
        self.bucket = scw.object.Bucket(
            f"{name}-bucket",
            name=bucket_name,
            region=args.region,
            project_id=args.project_id,
            versioning=scw.object.BucketVersioningArgs(enabled=args.documents_versioning),
            # Never delete objects along with the bucket; and no lifecycle_rules (HDS guidance).
            force_destroy=False,
            tags={**{"app": "booking", "environment": args.environment, "data": "health"}, **dict(args.tags)},
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.acl = scw.object.BucketAcl(
            f"{name}-acl",
            bucket=self.bucket.name,
            acl="private",
            region=args.region,
            project_id=args.project_id,
            opts=child,
        )
        self.encryption = scw.object.BucketServerSideEncryptionConfiguration(
            f"{name}-sse",
            bucket=self.bucket.name,
            region=args.region,
            project_id=args.project_id,
            rules=[
                scw.object.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=(
                        scw.object.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="aws:kms",
                            kms_master_key_id=documents_key_id,
                        )
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        principals = pulumi.Output.from_input(api_application_id).apply(
            lambda app: [f"application_id:{uuid_of(app)}", *args.documents_admin_principals]
        )
        self.policy_document = principals.apply(
            lambda p: tls_only_policy(bucket_name, p, args.deployer_principal)
        )
        # Last, after the ACL and the encryption settings: a bucket policy denies whatever it does not
        # allow, so those two would race it and fail with 403 if it came first.
        self.policy = scw.object.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.name,
            policy=self.policy_document,
            region=args.region,
            project_id=args.project_id,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.acl, self.encryption]),
        )
        self.bucket_name = self.bucket.name
        self.register_outputs(
            {
                "bucket_name": self.bucket.name,
                "sse_algorithm": "aws:kms",
                "kms_key_id": documents_key_id,
            }
        )


def tls_only_policy(bucket: str, principals: list[str], deployer: str | None = None) -> str:
    """Scaleway bucket policy: named principals over TLS only, everything else denied.

    Scaleway bucket policies deny whatever they do not allow, so the Allow lists who may act; the
    explicit Deny on ``aws:SecureTransport = false`` makes the TLS requirement readable by tools. The
    deployer keeps the bucket's configuration (policy, ACL, encryption, versioning), not its objects:
    without it, a deployer that is not the Organization Owner locks itself out of the bucket it manages.
    """
    resources = [bucket, f"{bucket}/*"]
    deployer_statement = (
        [
            {
                "Sid": "DeployerKeepsBucketConfiguration",
                "Effect": "Allow",
                "Principal": {"SCW": [deployer]},
                # What the stack's bucket resources read and write on refresh and update.
                "Action": [
                    "s3:GetBucketPolicy",
                    "s3:PutBucketPolicy",
                    "s3:DeleteBucketPolicy",
                    "s3:GetBucketAcl",
                    "s3:PutBucketAcl",
                    "s3:GetBucketVersioning",
                    "s3:PutBucketVersioning",
                    "s3:GetBucketTagging",
                    "s3:PutBucketTagging",
                    "s3:GetEncryptionConfiguration",
                    "s3:PutEncryptionConfiguration",
                    "s3:ListBucket",
                ],
                "Resource": [bucket],
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            }
        ]
        if deployer
        else []
    )
    document = {
        "Version": "2023-04-17",
        "Id": f"{bucket}-tls-only",
        "Statement": [
            *deployer_statement,
            {
                "Sid": "AllowNamedPrincipalsOverTls",
                "Effect": "Allow",
                "Principal": {"SCW": principals},
                "Action": [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:ListBucket",
                    "s3:GetObjectVersion",
                    "s3:ListBucketVersions",
                ],
                "Resource": resources,
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            },
            {
                "Sid": "DenyPlainHttp",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": resources,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    }
    return json.dumps(document, sort_keys=True)
