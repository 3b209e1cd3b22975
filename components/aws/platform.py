"""AwsBookingPlatform: the whole booking platform in one AWS region, every data store under a KMS
key whose material stays in an HSM in France (external key store)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws.backups import Backups, BackupsArgs
from components.aws.bucket import EncryptedBucket, EncryptedBucketArgs
from components.aws.database import Database, DatabaseArgs
from components.aws.iam import policy_document, service_role
from components.aws.keys import ExternalKeys, ExternalKeysArgs, XksKeyStoreArgs
from components.aws.names import Names
from components.aws.network import Network, NetworkArgs
from components.aws.service import ContainerSpec, Service, ServiceArgs
from facts.domains import DATA_DOMAINS

#: Days an overwritten or deleted log object's old version is kept in the log buckets. The medical
#: documents bucket keeps every version: its retention is set by the records' own rules, not here.
LOG_VERSIONS_KEPT_DAYS = 90

#: What each domain's key is used for below (data/facts/aws.yaml key_uses): its key policy follows.
KEY_USES: dict[str, tuple[str, ...]] = {
    "database": ("rds-storage",),
    "documents": ("s3-objects", "fargate-ephemeral-storage"),
    "logs": ("cloudwatch-logs", "cloudtrail", "s3-objects", "ecs-exec-session"),
    "secrets": ("secrets-manager", "rds-storage"),
    "backups": ("backup-vault",),
}


@dataclass(frozen=True)
class AwsBookingPlatformArgs:
    """Inputs of AwsBookingPlatform. Defaults are the secure choice; sizes suit a national campaign."""

    region: str
    #: Prefix of every physical name (booking:prefix, default the stack name): two stacks can share
    #: an account and region.
    prefix: str
    availability_zones: Sequence[str]
    xks: XksKeyStoreArgs
    certificate_arn: str
    api: ContainerSpec
    web: ContainerSpec
    db_instance_class: str = "db.m6g.large"
    db_storage_gb: int = 100
    db_max_storage_gb: int = 500
    backup_retention_days: int = 35
    log_retention_days: int = 365
    deletion_protection: bool = True
    #: The AWS profile of the stack's explicit provider (None: the default credential chain).
    profile: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [d for d in DATA_DOMAINS if d not in self.xks.key_ids]
        if missing:
            raise ValueError(f"AwsBookingPlatformArgs.xks.key_ids: missing external key ids for {missing}")
        for zone in self.availability_zones:
            if not zone.startswith(self.region):
                raise ValueError(
                    f"AwsBookingPlatformArgs.availability_zones: {zone!r} is not in region {self.region!r}"
                )


class AwsBookingPlatform(pulumi.ComponentResource):
    """Network, external keys, database, documents, service, backups and audit trail."""

    load_balancer_dns: pulumi.Output[str]
    documents_bucket: pulumi.Output[str]
    database_endpoint: pulumi.Output[str]
    key_store_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: AwsBookingPlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("booking:aws:AwsBookingPlatform", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self))
        names = Names(args.prefix)

        keys = ExternalKeys(
            f"{name}-keys",
            ExternalKeysArgs(
                region=args.region, xks=args.xks, names=names, uses=KEY_USES, profile=args.profile
            ),
            opts=child,
        )
        key = keys.key_arns

        # No S3 server access logs: their target would be SSE-S3 (outside the stack's keys) or need the
        # S3 log delivery in a key policy (data/facts/aws.yaml, s3-access-logs-target, gap stated). Object-level access to the documents is recorded instead by
        # CloudTrail data events into the KMS-encrypted trail (below; data/facts/aws.yaml).
        documents = EncryptedBucket(
            f"{name}-documents",
            EncryptedBucketArgs(kms_key_arn=key["documents"]),
            opts=child,
        )

        cidr = "10.40.0.0/16"
        network = Network(
            f"{name}-network",
            NetworkArgs(
                availability_zones=args.availability_zones,
                logs_key_arn=key["logs"],
                cidr_block=cidr,
                log_retention_days=args.log_retention_days,
            ),
            opts=child,
        )
        # The API's security group is needed by the database and the database's secret by the API,
        # so the group is created here and handed to both.
        api_sg = aws.ec2.SecurityGroup(
            f"{name}-db-clients",
            vpc_id=network.vpc_id,
            description="Members may connect to the booking database",
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=5432,
                    to_port=5432,
                    cidr_blocks=[cidr],
                    description="PostgreSQL inside the VPC",
                )
            ],
            opts=child,
        )
        database = Database(
            f"{name}-db",
            DatabaseArgs(
                identifier=names.db_identifier,
                vpc_id=network.vpc_id,
                subnet_ids=network.data_subnet_ids,
                client_security_group_ids=[api_sg.id],
                database_key_arn=key["database"],
                secrets_key_arn=key["secrets"],
                logs_key_arn=key["logs"],
                instance_class=args.db_instance_class,
                allocated_storage_gb=args.db_storage_gb,
                max_allocated_storage_gb=args.db_max_storage_gb,
                backup_retention_days=args.backup_retention_days,
                log_retention_days=args.log_retention_days,
                deletion_protection=args.deletion_protection,
            ),
            opts=child,
        )
        # Secrets the application needs besides the database credentials (e.g. session signing):
        # created empty, the value is put by the operator, never through Pulumi.
        aws.secretsmanager.Secret(
            f"{name}-app-secrets",
            description="Booking application secrets (values set by the operator, not by Pulumi)",
            kms_key_id=key["secrets"],
            recovery_window_in_days=30,
            opts=child,
        )
        service = Service(
            f"{name}-service",
            ServiceArgs(
                region=args.region,
                names=names,
                vpc_id=network.vpc_id,
                vpc_cidr=cidr,
                public_subnet_ids=network.public_subnet_ids,
                app_subnet_ids=network.app_subnet_ids,
                certificate_arn=args.certificate_arn,
                api=args.api,
                web=args.web,
                logs_key_arn=key["logs"],
                ephemeral_storage_key_arn=key["documents"],
                secrets_key_arn=key["secrets"],
                documents_bucket_arn=documents.arn,
                documents_key_arn=key["documents"],
                database_secret_arn=database.master_secret_arn,
                log_retention_days=args.log_retention_days,
                deletion_protection=args.deletion_protection,
                extra_security_group_ids=[api_sg.id],
            ),
            opts=child,
        )
        Backups(
            f"{name}-backups",
            BackupsArgs(
                backups_key_arn=key["backups"],
                resource_arns=[database.instance.arn, documents.arn],
                retention_days=args.backup_retention_days,
            ),
            opts=child,
        )

        trail_bucket = EncryptedBucket(
            f"{name}-audit-trail",
            EncryptedBucketArgs(
                kms_key_arn=key["logs"],
                log_writers=("cloudtrail.amazonaws.com",),
                account_id=account.account_id,
                noncurrent_version_expiration_days=LOG_VERSIONS_KEPT_DAYS,
            ),
            opts=child,
        )
        # The trail is also delivered to CloudWatch Logs (under the logs key) so alarms can watch it.
        trail_log_group = aws.cloudwatch.LogGroup(
            f"{name}-audit-trail-logs",
            retention_in_days=args.log_retention_days,
            kms_key_id=key["logs"],
            opts=child,
        )
        trail_role = service_role(f"{name}-audit-trail-logs", "cloudtrail.amazonaws.com", self)
        trail_role_policy = aws.iam.RolePolicy(
            f"{name}-audit-trail-logs",
            role=trail_role.id,
            policy=trail_log_group.arn.apply(
                lambda arn: policy_document(
                    [
                        {
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": [f"{arn}:log-stream:*"],
                        }
                    ]
                )
            ),
            opts=child,
        )
        aws.cloudtrail.Trail(
            f"{name}-audit-trail",
            # Named: the logs key's policy allows CloudTrail for this trail's ARN only (aws:SourceArn).
            name=names.trail,
            s3_bucket_name=trail_bucket.bucket_name,
            cloud_watch_logs_group_arn=trail_log_group.arn.apply(lambda arn: f"{arn}:*"),
            cloud_watch_logs_role_arn=trail_role.arn,
            kms_key_id=key["logs"],
            enable_log_file_validation=True,
            include_global_service_events=True,
            # Records API calls made in every region, so activity outside Paris is seen; the trail
            # and its bucket stay in the stack's region.
            is_multi_region_trail=True,
            # Object-level access (who read, wrote or deleted which document) replaces S3 server access
            # logs. The trail's own bucket is recorded for reads only: CloudTrail's writes into it
            # would otherwise be logged into it again.
            event_selectors=[
                aws.cloudtrail.TrailEventSelectorArgs(
                    read_write_type="All",
                    include_management_events=True,
                    data_resources=[
                        aws.cloudtrail.TrailEventSelectorDataResourceArgs(
                            type="AWS::S3::Object", values=[documents.arn.apply(lambda arn: f"{arn}/")]
                        )
                    ],
                ),
                aws.cloudtrail.TrailEventSelectorArgs(
                    read_write_type="ReadOnly",
                    include_management_events=False,
                    data_resources=[
                        aws.cloudtrail.TrailEventSelectorDataResourceArgs(
                            type="AWS::S3::Object", values=[trail_bucket.arn.apply(lambda arn: f"{arn}/")]
                        )
                    ],
                ),
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[trail_bucket, trail_role_policy]),
        )

        self.load_balancer_dns = service.load_balancer_dns
        self.documents_bucket = documents.bucket_name
        self.database_endpoint = database.endpoint
        self.key_store_id = keys.key_store_id
        self.register_outputs(
            {
                "loadBalancerDns": self.load_balancer_dns,
                "documentsBucket": self.documents_bucket,
                "databaseEndpoint": self.database_endpoint,
                "keyStoreId": self.key_store_id,
                "keyArns": keys.key_arns,
            }
        )
