"""``Secrets``: the generated database password, in Secret Manager under our own key."""

from __future__ import annotations

import json

import pulumi
import pulumi_random as random
import pulumiverse_scaleway as scw

from components.scaleway.args import ScalewayBookingPlatformArgs
from components.scaleway.common import TYPE_PREFIX, tags_for


class Secrets(pulumi.ComponentResource):
    """Generates the database password and keeps it in Secret Manager under our `secrets` key."""

    def __init__(
        self,
        name: str,
        args: ScalewayBookingPlatformArgs,
        secrets_key_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions,
    ) -> None:
        super().__init__(f"{TYPE_PREFIX}:Secrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.password = _database_password(f"{name}-db-password", child)
        # RandomPassword.result is already a Pulumi secret; wrap again so no refactor can leak it.
        self.db_password: pulumi.Output[str] = pulumi.Output.secret(self.password.result)
        self.app_password_resource = _database_password(f"{name}-db-app-password", child)
        self.app_password: pulumi.Output[str] = pulumi.Output.secret(self.app_password_resource.result)
        self.db_secret = _credentials_secret(
            f"{name}-db-credentials",
            args,
            secrets_key_id,
            child,
            suffix="db-credentials",
            description="PostgreSQL administrator credentials of the booking platform",
        )
        # What the application reads at start (SecretManagerSecretAccess): its own role, not the admin's.
        self.app_secret = _credentials_secret(
            f"{name}-db-app-credentials",
            args,
            secrets_key_id,
            child,
            suffix="db-app-credentials",
            description="PostgreSQL credentials of the booking application's own role",
        )
        self.db_secret_id = self.db_secret.id
        self.app_secret_id = self.app_secret.id
        self.register_outputs({"db_secret_id": self.db_secret.id, "app_secret_id": self.app_secret.id})

    def store_credentials(
        self,
        args: ScalewayBookingPlatformArgs,
        host: pulumi.Input[str],
        port: pulumi.Input[int],
        app: bool = False,
    ) -> scw.secrets.Version:
        """Writes the credentials once the database endpoint is known (a secret version)."""
        password = self.app_password if app else self.db_password
        username = args.db_app_user if app else args.db_admin_user
        secret = self.app_secret if app else self.db_secret
        suffix = "db-app-credentials" if app else "db-credentials"
        payload: pulumi.Output[str] = pulumi.Output.all(password, host, port).apply(
            lambda v: json.dumps(
                {
                    "engine": "postgres",
                    "username": username,
                    "password": v[0],
                    "host": v[1],
                    "port": str(v[2]),
                    "dbname": args.db_name,
                }
            )
        )
        return scw.secrets.Version(
            f"{self._name}-{suffix}-v1",
            secret_id=secret.id,
            # The payload derives from a secret, so it is one; `additional_secret_outputs` keeps the
            # state's copy secret too.
            data=payload,
            description="initial credentials",
            region=args.region,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["data"]),
        )


def _database_password(resource_name: str, opts: pulumi.ResourceOptions) -> random.RandomPassword:
    """A database password by Scaleway's rules: 8+ characters with upper, lower, digit and special."""
    return random.RandomPassword(
        resource_name,
        length=32,
        special=True,
        override_special="!#%*-_=+",
        min_upper=2,
        min_lower=2,
        min_numeric=2,
        min_special=2,
        opts=opts,
    )


def _credentials_secret(
    resource_name: str,
    args: ScalewayBookingPlatformArgs,
    secrets_key_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    *,
    suffix: str,
    description: str,
) -> scw.secrets.Secret:
    """A database-credentials secret, encrypted under our own Key Manager key rather than Secret
    Manager's internal key."""
    return scw.secrets.Secret(
        resource_name,
        name=f"{args.name_prefix}-{suffix}",
        path="/booking",
        description=description,
        type="database_credentials",
        key_id=secrets_key_id,
        protected=args.secrets_protected,
        region=args.region,
        project_id=args.project_id,
        tags=tags_for(args, "secrets"),
        opts=opts,
    )
