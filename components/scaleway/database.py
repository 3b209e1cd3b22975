"""``Database``: managed PostgreSQL, encrypted at rest, reachable on the Private Network only."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scw

from components.scaleway.args import ScalewayBookingPlatformArgs
from components.scaleway.common import TYPE_PREFIX, get_field, tags_for


class Database(pulumi.ComponentResource):
    """Managed PostgreSQL on the Private Network only, encrypted at rest, backed up in fr-par.

    # NO-CUSTOMER-KEY: Managed Databases encrypt volumes, logs and snapshots with LUKS
    # (aes-xts-plain64) under a key that Scaleway manages; no Key Manager key can be given, and
    # logical backups are not encrypted by that feature (Scaleway docs, Managed Databases concepts,
    # "Encryption at rest"). Mitigation: the application encrypts health fields with the `database`
    # Key Manager key (envelope encryption) before they reach PostgreSQL.
    """

    #: What in this part is covered by a Scaleway-held key only (read by the policies).
    no_customer_key: tuple[str, ...] = ("database-volume", "database-snapshots", "database-logical-backups")

    def __init__(  # noqa: PLR0917 - parts are wired positionally by the platform only
        self,
        name: str,
        args: ScalewayBookingPlatformArgs,
        private_network_id: pulumi.Input[str],
        password: pulumi.Input[str],
        app_password: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # NO-CUSTOMER-KEY: `encryption_at_rest` uses a Scaleway-managed LUKS key (see class docstring).
        self.instance = scw.databases.Instance(
            f"{name}-postgres",
            name=f"{args.name_prefix}-postgres",
            engine=args.db_engine,
            node_type=args.db_node_type,
            is_ha_cluster=args.db_high_availability,
            encryption_at_rest=args.db_encryption_at_rest,
            volume_type=args.db_volume_type,
            volume_size_in_gb=args.db_volume_gb,
            user_name=args.db_admin_user,
            password=password,
            # Only a Private Network endpoint and no `load_balancer` block: the instance gets no
            # public endpoint at all, so no ACL can ever open it to the Internet.
            private_network=scw.databases.InstancePrivateNetworkArgs(
                pn_id=private_network_id, enable_ipam=True
            ),
            disable_backup=False,
            backup_schedule_frequency=args.backup_frequency_hours,
            backup_schedule_retention=args.backup_retention_days,
            # Without it Scaleway may keep logical backups in another region (HDS: data in France).
            backup_same_region=args.backup_same_region,
            region=args.region,
            project_id=args.project_id,
            tags=tags_for(args, "database"),
            # Losing the booking history is not an acceptable outcome of a mistaken `pulumi destroy`.
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        self.database = scw.databases.Database(
            f"{name}-db",
            name=args.db_name,
            instance_id=self.instance.id,
            region=args.region,
            opts=child,
        )
        # The application's own role: not an administrator, read/write on the booking database only.
        self.app_user = scw.databases.User(
            f"{name}-app-user",
            instance_id=self.instance.id,
            name=args.db_app_user,
            password=app_password,
            is_admin=False,
            region=args.region,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["password"]),
        )
        self.app_privilege = scw.databases.Privilege(
            f"{name}-app-privilege",
            instance_id=self.instance.id,
            user_name=self.app_user.name,
            database_name=self.database.name,
            permission="readwrite",
            region=args.region,
            opts=child,
        )
        # The instance's TLS certificate (public): what the application verifies with sslmode=verify-full.
        self.ca_certificate: pulumi.Output[str] = self.instance.certificate.apply(lambda c: c or "")
        endpoint = self.instance.private_network.apply(lambda pn: pn or {})
        self.host = endpoint.apply(lambda pn: str(get_field(pn, "ip") or get_field(pn, "hostname") or ""))
        self.port = endpoint.apply(lambda pn: int(get_field(pn, "port") or 5432))
        self.register_outputs(
            {
                "instance_id": self.instance.id,
                "host": self.host,
                "port": self.port,
                "no_customer_key": list(self.no_customer_key),
            }
        )
