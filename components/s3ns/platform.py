"""S3nsBookingPlatform: the whole booking platform on Cloud de Confiance by S3NS (offer PREMI3NS,
SecNumCloud-qualified), every data store under a Cloud KMS key of its own domain in u-france-east1."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from components.s3ns.args import S3nsBookingPlatformArgs
from components.s3ns.bucket import EncryptedBucket, EncryptedBucketArgs
from components.s3ns.database import Database, DatabaseArgs
from components.s3ns.keys import Keys, KeysArgs
from components.s3ns.logs import Logs, LogsArgs
from components.s3ns.network import Network, NetworkArgs
from components.s3ns.secrets import Secrets, SecretsArgs
from components.s3ns.service import Service, ServiceArgs
from facts import s3ns as universe

#: Where the offer has no customer key for a store the platform uses, said once, here and in
#: docs/secnumcloud.md; the policies hold the matching exceptions.
NO_CUSTOMER_KEY: dict[str, str] = {
    "cloud-logging-_Required": "the _Required log bucket (audit logs, 400 days) takes no customer key; in region",
}


class S3nsBookingPlatform(pulumi.ComponentResource):
    """Network, keys, database, documents, backups, secrets, service and logs."""

    url: pulumi.Output[str]
    documents_bucket: pulumi.Output[str]
    database_connection: pulumi.Output[str]

    def __init__(
        self, name: str, args: S3nsBookingPlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("booking:s3ns:S3nsBookingPlatform", name, None, opts)
        invoke = pulumi.InvokeOptions(parent=self)
        project, region, prefix = args.project_id, args.region, args.name_prefix

        # Every API the stack uses, enabled here rather than by hand; never disabled on destroy (that
        # would stop services other stacks of the project rely on). Everything below waits for them.
        self.apis = [
            gcp.projects.Service(
                f"{name}-api-{api.split('.')[0]}",
                project=project,
                service=api,
                disable_on_destroy=False,
                disable_dependent_services=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for api in universe.apis()
        ]
        child = pulumi.ResourceOptions(parent=self, depends_on=self.apis)

        self.keys = Keys(
            f"{name}-keys",
            KeysArgs(
                project=project,
                region=region,
                rotation_days=args.key_rotation_days,
                protection_level=args.key_protection_level,
                protected=args.keys_protected,
                ekm=args.ekm,
            ),
            opts=child,
        )
        key = {domain: k.id for domain, k in self.keys.keys.items()}
        after_keys = pulumi.ResourceOptions(parent=self, depends_on=[self.keys, *self.apis])

        # Each service encrypts through its own service agent; each agent gets its domain's key only.
        # The universe has no API to create service agents (data/facts/s3ns.yaml service_identity_api):
        # Cloud SQL's, Secret Manager's, Cloud Run's and Cloud Logging's come from config; Cloud
        # Storage's is read through the storage API, as S3NS documents.
        agents = args.service_agents
        storage_agent = gcp.storage.get_project_service_account_output(project=project, opts=invoke)
        self.keys.grant("database", [f"serviceAccount:{agents.cloud_sql}"], "sql")
        self.keys.grant(
            "secrets",
            [f"serviceAccount:{agents.secret_manager}", f"serviceAccount:{agents.cloud_run}"],
            "secrets",
        )
        self.keys.grant("documents", [storage_agent.member], "storage")
        self.keys.grant("backups", [storage_agent.member], "storage")
        self.keys.grant("logs", [f"serviceAccount:{agents.logging}"], "logging")

        self.network = Network(
            f"{name}-net",
            NetworkArgs(
                project=project,
                region=region,
                app_cidr=args.app_cidr,
                proxy_cidr=args.proxy_cidr,
                data_cidr=args.data_cidr,
            ),
            opts=child,
        )

        self.api_identity = gcp.serviceaccount.Account(
            f"{name}-api",
            project=project,
            account_id=f"{prefix}-api"[:30],
            display_name="Booking API",
            opts=child,
        )
        self.web_identity = gcp.serviceaccount.Account(
            f"{name}-web",
            project=project,
            account_id=f"{prefix}-web"[:30],
            display_name="Booking web front",
            opts=child,
        )

        self.secrets = Secrets(
            f"{name}-secrets",
            SecretsArgs(
                project=project,
                region=region,
                secrets_key_id=key["secrets"],
                readers=(self.api_identity.member,),
                deletion_protection=args.deletion_protection,
            ),
            opts=after_keys,
        )

        self.database = Database(
            f"{name}-db",
            DatabaseArgs(
                project=project,
                region=region,
                network_id=self.network.network_id,
                private_services=self.network.private_services,
                database_key_id=key["database"],
                password=self.secrets.db_password,
                version=args.db_version,
                tier=args.db_tier,
                disk_gb=args.db_disk_gb,
                max_disk_gb=args.db_max_disk_gb,
                high_availability=args.db_high_availability,
                backup_retention_days=args.backup_retention_days,
                db_name=args.db_name,
                db_user=args.db_user,
                deletion_protection=args.deletion_protection,
            ),
            # The key grant must exist before Cloud SQL tries to use the key.
            opts=after_keys,
        )

        # Who read or wrote which object: Data Access audit logs, not bucket usage logs (their grant to
        # Google's analytics group is not documented in the universe, data/facts/s3ns.yaml
        # bucket_access_logs). They land in the log bucket under the logs key through the sink below.
        self.storage_audit = gcp.projects.IAMAuditConfig(
            f"{name}-storage-audit",
            project=project,
            service="storage.googleapis.com",
            audit_log_configs=[
                gcp.projects.IAMAuditConfigAuditLogConfigArgs(log_type=kind)
                for kind in ("ADMIN_READ", "DATA_READ", "DATA_WRITE")
            ],
            opts=child,
        )
        self.documents = EncryptedBucket(
            f"{prefix}-documents",
            EncryptedBucketArgs(project=project, region=region, kms_key_id=key["documents"]),
            opts=after_keys,
        )
        # Database exports and document copies taken by the operator; locked for the retention period.
        self.backups = EncryptedBucket(
            f"{prefix}-backups",
            EncryptedBucketArgs(
                project=project,
                region=region,
                kms_key_id=key["backups"],
                retention_days=args.backup_retention_days,
            ),
            opts=after_keys,
        )

        self.service = Service(
            f"{name}-svc",
            ServiceArgs(
                project=project,
                region=region,
                network_id=self.network.network_id,
                app_subnet_id=self.network.app_subnet_id,
                proxy_subnet=self.network.proxy_subnet,
                certificate=args.certificate,
                api=args.api,
                web=args.web,
                api_service_account=self.api_identity.email,
                web_service_account=self.web_identity.email,
                db_secret_name=self.secrets.db_secret_name,
                db_host=self.database.private_ip,
                db_server_ca=self.database.server_ca,
                run_key_id=key["secrets"],
                rate_limit_per_minute=args.rate_limit_per_minute,
                db_name=args.db_name,
                db_user=args.db_user,
                tls_profile=args.tls_profile,
                tls_min_version=args.tls_min_version,
                deletion_protection=args.deletion_protection,
            ),
            opts=after_keys,
        )

        self.logs = Logs(
            f"{name}-logs",
            LogsArgs(
                project=project,
                region=region,
                logs_key_id=key["logs"],
                retention_days=args.log_retention_days,
            ),
            opts=after_keys,
        )

        self.url = pulumi.Output.from_input(f"https://{args.domain}")
        self.documents_bucket = self.documents.bucket_name
        self.database_connection = self.database.connection_name
        self.no_customer_key = NO_CUSTOMER_KEY
        self.register_outputs(
            {
                "url": self.url,
                "documentsBucket": self.documents_bucket,
                "databaseConnection": self.database_connection,
                "keyIds": self.keys.key_ids,
                "noCustomerKey": NO_CUSTOMER_KEY,
            }
        )
