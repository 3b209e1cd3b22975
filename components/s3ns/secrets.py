"""Secret Manager in the qualified region (a regional secret), under the secrets key: the database password."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random

from components.s3ns._options import inherited


@dataclass(frozen=True)
class SecretsArgs:
    """Inputs of Secrets."""

    project: str
    region: str
    secrets_key_id: pulumi.Input[str]
    #: Service accounts (``serviceAccount:<email>``) allowed to read the database password.
    readers: tuple[pulumi.Input[str], ...] = ()
    deletion_protection: bool = True


class Secrets(pulumi.ComponentResource):
    """Generates the database password and keeps it in Secret Manager.

    The password exists in Pulumi only as a secret output (encrypted in state, never in config); the
    API reads it from Secret Manager at run time.
    """

    db_password: pulumi.Output[str]
    db_secret_id: pulumi.Output[str]
    db_secret_name: pulumi.Output[str]

    def __init__(self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:s3ns:Secrets", name, None, opts)
        self._after = inherited(opts)
        child = pulumi.ResourceOptions(parent=self, depends_on=self._after)
        self.password = random.RandomPassword(f"{name}-db-password", length=40, special=False, opts=child)
        # A regional secret (projects.locations.secrets): the universe documents Secret Manager in
        # regional mode (data/facts/s3ns.yaml secret_manager_mode); payload and key stay in the region.
        self.db_secret = gcp.secretmanager.RegionalSecret(
            f"{name}-db-password",
            project=args.project,
            location=args.region,
            secret_id=f"{name}-db-password",
            customer_managed_encryption=gcp.secretmanager.RegionalSecretCustomerManagedEncryptionArgs(
                kms_key_name=args.secrets_key_id
            ),
            deletion_protection=args.deletion_protection,
            labels={"data": "credential"},
            opts=child,
        )
        self.db_secret_version = gcp.secretmanager.RegionalSecretVersion(
            f"{name}-db-password-v",
            secret=self.db_secret.id,
            secret_data=self.password.result,
            opts=child,
        )
        for index, member in enumerate(args.readers):
            gcp.secretmanager.RegionalSecretIamMember(
                f"{name}-db-password-reader-{index}",
                project=args.project,
                location=args.region,
                secret_id=self.db_secret.secret_id,
                role="roles/secretmanager.secretAccessor",
                member=member,
                opts=child,
            )
        self.db_password = pulumi.Output.secret(self.password.result)
        self.db_secret_id = self.db_secret.secret_id
        #: The secret's full resource name: the API reads it from Secret Manager's regional endpoint.
        self.db_secret_name = self.db_secret.name
        self.register_outputs({"dbSecretId": self.db_secret_id})
