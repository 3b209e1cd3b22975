"""Secret Manager in the qualified region, under the secrets key: the database password."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_random as random


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

    def __init__(self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:s3ns:Secrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.password = random.RandomPassword(f"{name}-db-password", length=40, special=False, opts=child)
        self.db_secret = gcp.secretmanager.Secret(
            f"{name}-db-password",
            project=args.project,
            secret_id=f"{name}-db-password",
            # User-managed replication pins the one replica to the region; "automatic" would not.
            replication=gcp.secretmanager.SecretReplicationArgs(
                user_managed=gcp.secretmanager.SecretReplicationUserManagedArgs(
                    replicas=[
                        gcp.secretmanager.SecretReplicationUserManagedReplicaArgs(
                            location=args.region,
                            customer_managed_encryption=gcp.secretmanager.SecretReplicationUserManagedReplicaCustomerManagedEncryptionArgs(
                                kms_key_name=args.secrets_key_id
                            ),
                        )
                    ]
                )
            ),
            deletion_protection=args.deletion_protection,
            labels={"data": "credential"},
            opts=child,
        )
        self.db_secret_version = gcp.secretmanager.SecretVersion(
            f"{name}-db-password-v",
            secret=self.db_secret.id,
            secret_data=self.password.result,
            opts=child,
        )
        for index, member in enumerate(args.readers):
            gcp.secretmanager.SecretIamMember(
                f"{name}-db-password-reader-{index}",
                project=args.project,
                secret_id=self.db_secret.secret_id,
                role="roles/secretmanager.secretAccessor",
                member=member,
                opts=child,
            )
        self.db_password = pulumi.Output.secret(self.password.result)
        self.db_secret_id = self.db_secret.secret_id
        self.register_outputs({"dbSecretId": self.db_secret_id})
