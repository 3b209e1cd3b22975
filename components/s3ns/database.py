"""Cloud SQL for PostgreSQL: regional (two zones), under the database key, private IP only, TLS only,
backups kept in the qualified region."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.s3ns._options import inherited


@dataclass(frozen=True)
class DatabaseArgs:
    """Inputs of Database."""

    project: str
    region: str
    network_id: pulumi.Input[str]
    #: The private services connection; the instance can only get an address once it exists.
    private_services: pulumi.Resource
    database_key_id: pulumi.Input[str]
    password: pulumi.Input[str]
    version: str = "POSTGRES_16"
    tier: str = "db-custom-2-8192"
    disk_gb: int = 100
    max_disk_gb: int = 500
    high_availability: bool = True
    backup_retention_days: int = 35
    db_name: str = "booking"
    db_user: str = "booking_app"
    deletion_protection: bool = True


#: Connection and statement logging (CIS Google Cloud benchmark 6.2.x, which checkov checks).
_FLAGS: dict[str, str] = {
    "log_checkpoints": "on",
    "log_connections": "on",
    "log_disconnections": "on",
    "log_lock_waits": "on",
    "log_min_messages": "error",
    "log_temp_files": "0",
    "log_min_duration_statement": "-1",
    "log_min_error_statement": "error",
    "log_duration": "on",
    "log_hostname": "on",
    # Schema changes only: "mod" or "all" would copy appointment data into the logs.
    "log_statement": "ddl",
    "cloudsql.enable_pgaudit": "on",
}


class Database(pulumi.ComponentResource):
    """The booking database."""

    connection_name: pulumi.Output[str]
    private_ip: pulumi.Output[str]
    server_ca: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:s3ns:Database", name, None, opts)
        self._after = inherited(opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=self._after)
        self.instance = gcp.sql.DatabaseInstance(
            f"{name}-postgres",
            project=args.project,
            region=args.region,
            database_version=args.version,
            # CMEK: storage, and the automated backups Cloud SQL takes of it, are under this key.
            # BACKUP-KEY=INSTANCE-KEY: Cloud SQL offers no separate key for its automated backups, so
            # they are under the database key, not the backups key (exports go to the backups bucket).
            encryption_key_name=args.database_key_id,
            deletion_protection=args.deletion_protection,
            settings=gcp.sql.DatabaseInstanceSettingsArgs(
                tier=args.tier,
                edition="ENTERPRISE",
                availability_type="REGIONAL" if args.high_availability else "ZONAL",
                disk_type="PD_SSD",
                disk_size=args.disk_gb,
                disk_autoresize=True,
                disk_autoresize_limit=args.max_disk_gb,
                deletion_protection_enabled=args.deletion_protection,
                ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
                    ipv4_enabled=False,
                    private_network=args.network_id,
                    # Refuses every connection that is not TLS (Cloud SQL "ssl_mode").
                    ssl_mode="ENCRYPTED_ONLY",
                ),
                backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                    enabled=True,
                    # Without a location Cloud SQL picks the nearest multi-region; pinned here.
                    location=args.region,
                    point_in_time_recovery_enabled=True,
                    transaction_log_retention_days=7,
                    backup_retention_settings=gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                        retained_backups=args.backup_retention_days, retention_unit="COUNT"
                    ),
                ),
                database_flags=[
                    gcp.sql.DatabaseInstanceSettingsDatabaseFlagArgs(name=k, value=v)
                    for k, v in _FLAGS.items()
                ],
                insights_config=gcp.sql.DatabaseInstanceSettingsInsightsConfigArgs(
                    query_insights_enabled=True, record_client_address=False
                ),
                user_labels={"data": "health"},
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self._after, args.private_services]),
        )
        self.database = gcp.sql.Database(
            f"{name}-db", project=args.project, instance=self.instance.name, name=args.db_name, opts=child
        )
        # The password is a Pulumi secret (encrypted in state); the API reads it from Secret Manager.
        self.user = gcp.sql.User(
            f"{name}-user",
            project=args.project,
            instance=self.instance.name,
            name=args.db_user,
            password=args.password,
            opts=child,
        )
        self.connection_name = self.instance.connection_name
        self.private_ip = self.instance.private_ip_address
        # The server CA the instance's certificate chains to (public): the application verifies the
        # server against it (sslmode verify-ca). Fail closed: no CA known, no value to verify with.
        self.server_ca = self.instance.server_ca_certs.apply(
            lambda certs: next((c.cert for c in certs or () if c.cert), "")
        )
        self.register_outputs(
            {"connectionName": self.connection_name, "privateIp": self.private_ip, "serverCa": self.server_ca}
        )
