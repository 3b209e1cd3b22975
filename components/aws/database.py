"""PostgreSQL on RDS: Multi-AZ, encrypted under the database key, TLS forced, never public."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.iam import service_role


@dataclass(frozen=True)
class DatabaseArgs:
    """Inputs of Database."""

    #: The RDS instance identifier, unique in the account and region (components/aws/names.py).
    identifier: str
    vpc_id: pulumi.Input[str]
    #: Isolated subnets (no route out of the VPC), one per zone.
    subnet_ids: Sequence[pulumi.Input[str]]
    #: Security groups allowed to connect on 5432 (the API's).
    client_security_group_ids: Sequence[pulumi.Input[str]]
    #: Key for storage, snapshots, automated backups and Performance Insights.
    database_key_arn: pulumi.Input[str]
    #: Key for the master password secret that RDS manages in Secrets Manager.
    secrets_key_arn: pulumi.Input[str]
    #: Key for the PostgreSQL log group.
    logs_key_arn: pulumi.Input[str]
    instance_class: str = "db.m6g.large"
    allocated_storage_gb: int = 100
    max_allocated_storage_gb: int = 500
    engine_version: str = "16"
    backup_retention_days: int = 35
    log_retention_days: int = 365
    performance_insights: bool = True
    #: Seconds between enhanced-monitoring samples of the host's OS (0 turns it off; RDS accepts 1 to 60).
    monitoring_interval_seconds: int = 60
    multi_az: bool = True
    deletion_protection: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.backup_retention_days <= 35:
            raise ValueError(
                "DatabaseArgs.backup_retention_days: must be 1 to 35 (RDS limit; 0 disables backups)"
            )
        if self.monitoring_interval_seconds not in (0, 1, 5, 10, 15, 30, 60):
            raise ValueError(
                "DatabaseArgs.monitoring_interval_seconds: must be one of 0, 1, 5, 10, 15, 30, 60"
            )
        if self.max_allocated_storage_gb < self.allocated_storage_gb:
            raise ValueError("DatabaseArgs.max_allocated_storage_gb: must be at least allocated_storage_gb")


class Database(pulumi.ComponentResource):
    """The booking database."""

    endpoint: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:aws:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identifier = args.identifier

        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="PostgreSQL, reachable from the booking API only",
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=5432,
                    to_port=5432,
                    security_groups=list(args.client_security_group_ids),
                    description="booking API",
                )
            ],
            egress=[],
            opts=child,
        )
        subnet_group = aws.rds.SubnetGroup(f"{name}-subnets", subnet_ids=list(args.subnet_ids), opts=child)
        major = args.engine_version.split(".")[0]
        parameters = aws.rds.ParameterGroup(
            f"{name}-params",
            family=f"postgres{major}",
            description="Booking database: TLS only, connection logging",
            parameters=[
                # Refuse any connection without TLS.
                aws.rds.ParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
                aws.rds.ParameterGroupParameterArgs(name="ssl_min_protocol_version", value="TLSv1.2"),
                aws.rds.ParameterGroupParameterArgs(name="log_connections", value="1"),
                aws.rds.ParameterGroupParameterArgs(name="log_disconnections", value="1"),
            ],
            opts=child,
        )
        # RDS would create this log group itself, unencrypted; creating it first (the instance depends
        # on it) puts it under our key.
        postgresql_logs = aws.cloudwatch.LogGroup(
            f"{name}-postgresql-logs",
            name=f"/aws/rds/instance/{identifier}/postgresql",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child,
        )
        monitoring_role = None
        if args.monitoring_interval_seconds:
            # Enhanced monitoring writes to RDSOSMetrics, a log group RDS creates and shares between every
            # instance of the account and region: the stack must not own it (a second stack could not
            # create it, a destroy would delete it for all). data/facts/aws.yaml shared_resources;
            # docs/deploy-aws.md says how to put it under the logs key once per account.
            monitoring_role = service_role(f"{name}-monitoring", "monitoring.rds.amazonaws.com", self)
            aws.iam.RolePolicyAttachment(
                f"{name}-monitoring-managed",
                role=monitoring_role.name,
                policy_arn="arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
                opts=child,
            )
        self.instance = aws.rds.Instance(
            f"{name}-postgres",
            identifier=identifier,
            engine="postgres",
            engine_version=args.engine_version,
            instance_class=args.instance_class,
            allocated_storage=args.allocated_storage_gb,
            max_allocated_storage=args.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=args.database_key_arn,
            multi_az=args.multi_az,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[self.security_group.id],
            publicly_accessible=False,
            parameter_group_name=parameters.name,
            username="booking_admin",
            # RDS generates the password and keeps it in Secrets Manager under our key: it never
            # passes through Pulumi, so it is in neither the config nor the state.
            manage_master_user_password=True,
            master_user_secret_kms_key_id=args.secrets_key_arn,
            iam_database_authentication_enabled=True,
            backup_retention_period=args.backup_retention_days,
            backup_window="01:00-02:00",
            maintenance_window="sun:03:00-sun:04:00",
            copy_tags_to_snapshot=True,
            delete_automated_backups=False,
            deletion_protection=args.deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{identifier}-final",
            performance_insights_enabled=args.performance_insights,
            performance_insights_kms_key_id=args.database_key_arn if args.performance_insights else None,
            performance_insights_retention_period=7 if args.performance_insights else None,
            enabled_cloudwatch_logs_exports=["postgresql"],
            monitoring_interval=args.monitoring_interval_seconds,
            monitoring_role_arn=monitoring_role.arn if monitoring_role else None,
            auto_minor_version_upgrade=True,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[postgresql_logs]),
        )
        self.endpoint = self.instance.endpoint
        self.master_secret_arn = self.instance.master_user_secrets.apply(_first_secret_arn)
        self.security_group_id = self.security_group.id
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "masterSecretArn": self.master_secret_arn,
                "instanceArn": self.instance.arn,
            }
        )


def _first_secret_arn(secrets: Sequence[aws.rds.outputs.InstanceMasterUserSecret]) -> str:
    """ARN of the secret RDS created for the master password (empty until RDS has made it)."""
    return (secrets[0].secret_arn or "") if secrets else ""
