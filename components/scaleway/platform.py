"""``ScalewayBookingPlatform``: the booking platform entirely in Scaleway fr-par.

Parts, each a ComponentResource in its own module of this package so an auditor sees the shape in the resource tree:

- ``Network``: VPC and one Private Network; nothing that holds data has a public address.
- ``Keys``: Key Manager keys (AES-256-GCM, automatic rotation), one per data domain.
- ``Database``: managed PostgreSQL, encrypted at rest, reachable on the Private Network only.
- ``Secrets``: the generated database password, in Secret Manager under our own key.
- ``Documents``: Object Storage bucket, SSE under a Key Manager key, versioned, private, TLS only.
- ``ApiIdentity``: the API's IAM application and exactly the permission sets its uses need.
- ``Service``: Serverless Containers (web, api), each on its own HTTPS endpoint and custom domain.
- ``Observability``: Cockpit data sources for application logs and metrics.

Where Scaleway offers no customer-managed key the code carries a ``# NO-CUSTOMER-KEY:`` comment
and the part exposes ``no_customer_key`` (a list of what is covered by a Scaleway-held key only),
so that the policies can record a justified exception instead of a silent gap.
"""

from __future__ import annotations

import pulumi

from components.scaleway.args import ScalewayBookingPlatformArgs
from components.scaleway.common import TYPE_PREFIX
from components.scaleway.database import Database
from components.scaleway.documents import Documents
from components.scaleway.iam import ApiIdentity
from components.scaleway.keys import Keys
from components.scaleway.network import Network
from components.scaleway.observability import Observability
from components.scaleway.secrets import Secrets
from components.scaleway.service import Service


class ScalewayBookingPlatform(pulumi.ComponentResource):
    """The medical booking platform in Scaleway fr-par (option B of the blueprint)."""

    #: Everything in this stack protected only by a Scaleway-held key, for the policies' exceptions.
    no_customer_key: list[str]

    def __init__(
        self, name: str, args: ScalewayBookingPlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:ScalewayBookingPlatform", name, None, opts)
        part = pulumi.ResourceOptions(parent=self)

        self.network = Network(f"{name}-network", args, part)
        self.keys = Keys(f"{name}-keys", args, part)
        self.identity = ApiIdentity(f"{name}-identity", args, part)
        self.secrets = Secrets(f"{name}-secrets", args, self.keys.key_ids["secrets"], part)
        self.database = Database(
            f"{name}-database",
            args,
            self.network.private_network_id,
            self.secrets.db_password,
            self.secrets.app_password,
            part,
        )
        self.db_credentials = self.secrets.store_credentials(args, self.database.host, self.database.port)
        self.app_credentials = self.secrets.store_credentials(
            args, self.database.host, self.database.port, app=True
        )
        self.documents = Documents(
            f"{name}-documents", args, self.keys.key_ids["documents"], self.identity.application.id, part
        )
        self.observability = Observability(f"{name}-observability", args, part)

        # No SCW_* name: Serverless Containers reserve them (data/facts/scaleway.yaml). The application
        # reads its database password from Secret Manager (DATABASE_SECRET_ID) with its own API key.
        environment: dict[str, pulumi.Input[str]] = {
            "BOOKING_ENVIRONMENT": args.environment,
            "BOOKING_REGION": args.region,
            "DATABASE_HOST": self.database.host,
            "DATABASE_PORT": self.database.port.apply(str),
            "DATABASE_NAME": args.db_name,
            "DATABASE_USER": args.db_app_user,
            "DATABASE_SSLMODE": "verify-full",
            "DATABASE_SECRET_ID": self.secrets.app_secret_id,
            "DATABASE_FIELD_KEY_ID": self.keys.key_ids["database"],
            "DOCUMENTS_BUCKET": self.documents.bucket_name,
            "DOCUMENTS_ENDPOINT": f"https://s3.{args.region}.scw.cloud",
            "COCKPIT_LOGS_URL": self.observability.logs.push_url,
        }
        secret_environment: dict[str, pulumi.Input[str]] = {
            # The CA that sslmode=verify-full checks the server against. Public, but longer than the
            # 1000 characters a plain variable may hold (data/facts/scaleway.yaml, containers-environment-size).
            "DATABASE_CA_PEM": self.database.ca_certificate,
            "BOOKING_API_ACCESS_KEY": pulumi.Output.secret(self.identity.api_key.access_key),
            "BOOKING_API_SECRET_KEY": pulumi.Output.secret(self.identity.api_key.secret_key),
            "COCKPIT_TOKEN": pulumi.Output.secret(self.observability.token.secret_key),
        }
        self.service = Service(
            f"{name}-service",
            args,
            self.network.private_network_id,
            environment,
            secret_environment,
            part,
        )

        self.no_customer_key = [
            *Database.no_customer_key,
            *Observability.no_customer_key,
            "container-tls-private-key",
            "container-ephemeral-storage",
        ]
        self.url = pulumi.Output.concat("https://", args.domain)
        self.register_outputs(
            {
                "url": self.url,
                "region": args.region,
                "cname_targets": self.service.cname_targets,
                "private_network_id": self.network.private_network_id,
                "database_instance_id": self.database.instance.id,
                "database_secret_id": self.secrets.db_secret_id,
                "app_secret_id": self.secrets.app_secret_id,
                "documents_bucket": self.documents.bucket_name,
                "key_ids": self.keys.key_ids,
                "no_customer_key": self.no_customer_key,
            }
        )
