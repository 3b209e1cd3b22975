"""The external key store and one KMS key per data domain, each backed by a key in the French HSM."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.keystore_connection import KeyStoreConnection, KeyStoreConnectionArgs

#: AWS services that must be able to use a domain's key on the stack's behalf, per domain.
#: CloudWatch Logs and CloudTrail call KMS as themselves, so the key policy must name them.
SERVICE_PRINCIPALS: dict[str, tuple[str, ...]] = {
    "logs": ("logs.{region}.amazonaws.com", "cloudtrail.amazonaws.com", "delivery.logs.amazonaws.com"),
}


@dataclass(frozen=True)
class XksKeyStoreArgs:
    """Where AWS KMS reaches the French XKS proxy, and the HSM key behind each data domain.
    See stacks/config.py (XksSettings) for the meaning and limits of each field."""

    uri_endpoint: str
    uri_path: str
    connectivity: str
    #: External key id in the HSM, per data domain (database, documents, logs, secrets, backups).
    key_ids: Mapping[str, str]
    access_key_id: pulumi.Input[str]
    secret_access_key: pulumi.Input[str]
    vpc_endpoint_service_name: str | None = None
    connect_timeout_seconds: int = 1200


@dataclass(frozen=True)
class ExternalKeysArgs:
    """Inputs of ExternalKeys."""

    region: str
    xks: XksKeyStoreArgs
    #: Days a deleted key waits before AWS forgets it (7-30); the HSM key stays with the custodian.
    deletion_window_days: int = 30


class ExternalKeys(pulumi.ComponentResource):
    """An AWS KMS external key store (XKS) and the KMS keys created in it, connected before use."""

    key_store_id: pulumi.Output[str]
    key_arns: dict[str, pulumi.Output[str]]
    keys: dict[str, aws.kms.Key]

    def __init__(self, name: str, args: ExternalKeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:aws:ExternalKeys", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        xks = args.xks

        credential = aws.kms.CustomKeyStoreXksProxyAuthenticationCredentialArgs(
            access_key_id=xks.access_key_id,
            # The SDK does not mark this nested field secret; without the wrap it would sit in the state.
            raw_secret_access_key=pulumi.Output.secret(xks.secret_access_key),
        )
        self.key_store = aws.kms.CustomKeyStore(
            f"{name}-store",
            custom_key_store_name=f"{name}-xks",
            custom_key_store_type="EXTERNAL_KEY_STORE",
            xks_proxy_uri_endpoint=xks.uri_endpoint,
            xks_proxy_uri_path=xks.uri_path,
            xks_proxy_connectivity=xks.connectivity,
            xks_proxy_vpc_endpoint_service_name=xks.vpc_endpoint_service_name,
            xks_proxy_authentication_credential=credential,
            opts=pulumi.ResourceOptions(
                parent=self,
                additional_secret_outputs=["xksProxyAuthenticationCredential"],
            ),
        )
        self.connection = KeyStoreConnection(
            f"{name}-connection",
            KeyStoreConnectionArgs(
                custom_key_store_id=self.key_store.id,
                region=args.region,
                timeout_seconds=xks.connect_timeout_seconds,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        account = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self))
        self.keys = {}
        for domain, xks_key_id in xks.key_ids.items():
            principals = [p.format(region=args.region) for p in SERVICE_PRINCIPALS.get(domain, ())]
            key = aws.kms.Key(
                f"{name}-{domain}",
                description=f"Booking {domain} key; material in the French HSM (external key {xks_key_id})",
                custom_key_store_id=self.key_store.id,
                xks_key_id=xks_key_id,
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                # XKS keys cannot rotate automatically in AWS; rotation happens in the HSM.
                enable_key_rotation=False,
                deletion_window_in_days=args.deletion_window_days,
                policy=account.account_id.apply(
                    functools.partial(_key_policy, service_principals=principals)
                ),
                tags={"booking:data-domain": domain},
                # A key cannot be created in a store that is not CONNECTED.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.connection]),
            )
            aws.kms.Alias(
                f"{name}-{domain}-alias",
                name=f"alias/booking/{domain}",
                target_key_id=key.key_id,
                opts=child,
            )
            self.keys[domain] = key
        self.key_store_id = self.key_store.id
        self.key_arns = {domain: key.arn for domain, key in self.keys.items()}
        self.register_outputs({"keyStoreId": self.key_store_id, "keyArns": self.key_arns})


def _key_policy(account_id: str, *, service_principals: Sequence[str]) -> str:
    """Account administrators manage the key; named AWS services may use it for this account only."""
    statements: list[dict[str, object]] = [
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if service_principals:
        statements.append(
            {
                "Sid": "AwsServicesOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": list(service_principals)},
                "Action": [
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
