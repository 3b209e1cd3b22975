"""The external key store and one KMS key per data domain, each backed by a key in the French HSM."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws.keystore_connection import KeyStoreConnection, KeyStoreConnectionArgs
from components.aws.names import Names
from facts import aws as aws_facts


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
    names: Names
    #: What each domain's key is used for (data/facts/aws.yaml key_uses): its policy names exactly the
    #: service principals those uses need, with the condition keys AWS documents, and no other.
    uses: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: The AWS profile of the stack's explicit provider (the connection's KMS client uses it too).
    profile: str | None = None
    #: Days a deleted key waits before AWS forgets it (7-30); the HSM key stays with the custodian.
    deletion_window_days: int = 30

    def __post_init__(self) -> None:
        window = aws_facts.load().key_store_deletion.schedule_window_days
        if not window.min <= self.deletion_window_days <= window.max:
            raise ValueError(
                f"ExternalKeysArgs.deletion_window_days: must be {window.min} to {window.max} (got "
                f"{self.deletion_window_days})"
            )
        unknown = sorted({u for uses in self.uses.values() for u in uses} - set(aws_facts.key_uses()))
        if unknown:
            raise ValueError(f"ExternalKeysArgs.uses: unknown key use(s) {unknown}")


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
        # Retained on destroy, as the keys: a store still holding keys cannot be deleted (AWS refuses,
        # the upstream delete ignores it and Pulumi would forget a store that stays in AWS). The
        # decommissioning script deletes it, in order. Endpoint and connectivity changes are applied by
        # the connection below, store disconnected: AWS refuses them while it is CONNECTED.
        self.key_store = aws.kms.CustomKeyStore(
            f"{name}-store",
            custom_key_store_name=args.names.key_store,
            custom_key_store_type="EXTERNAL_KEY_STORE",
            xks_proxy_uri_endpoint=xks.uri_endpoint,
            xks_proxy_uri_path=xks.uri_path,
            xks_proxy_connectivity=xks.connectivity,
            xks_proxy_vpc_endpoint_service_name=xks.vpc_endpoint_service_name,
            xks_proxy_authentication_credential=credential,
            opts=pulumi.ResourceOptions(
                parent=self,
                additional_secret_outputs=["xksProxyAuthenticationCredential"],
                retain_on_delete=True,
                ignore_changes=[row.pulumi for row in aws_facts.load().key_store_update.disconnect_to_change],
            ),
        )
        self.connection = KeyStoreConnection(
            f"{name}-connection",
            KeyStoreConnectionArgs(
                custom_key_store_id=self.key_store.id,
                region=args.region,
                uri_endpoint=xks.uri_endpoint,
                connectivity=xks.connectivity,
                vpc_endpoint_service_name=xks.vpc_endpoint_service_name,
                profile=args.profile,
                timeout_seconds=xks.connect_timeout_seconds,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        values = {
            "region": args.region,
            "cluster": args.names.cluster,
        }

        account = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self))
        self.keys = {}
        for domain, xks_key_id in xks.key_ids.items():
            uses = list(args.uses.get(domain, ()))
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
                    functools.partial(_key_policy, uses=uses, names=args.names, values=values)
                ),
                tags={"booking:data-domain": domain, "booking:key-uses": " ".join(uses)},
                # A key cannot be created in a store that is not CONNECTED. Retained on destroy: the
                # final snapshot and the backups are encrypted under these keys, and an XKS key can
                # never be recreated once deleted (docs/deploy-aws.md, decommissioning).
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.connection], retain_on_delete=True),
            )
            aws.kms.Alias(
                f"{name}-{domain}-alias",
                name=args.names.alias(domain),
                target_key_id=key.key_id,
                opts=child,
            )
            self.keys[domain] = key
        self.key_store_id = self.key_store.id
        self.key_arns = {domain: key.arn for domain, key in self.keys.items()}
        self.register_outputs({"keyStoreId": self.key_store_id, "keyArns": self.key_arns})


def _key_policy(account_id: str, *, uses: Sequence[str], names: Names, values: Mapping[str, str]) -> str:
    """Account administrators manage the key (IAM then grants it); each AWS service that calls KMS as
    itself for one of ``uses`` gets the statements data/facts/aws.yaml documents, and no other service."""
    filled = {**values, "account": account_id, "trail_arn": names.trail_arn(values["region"], account_id)}
    statements: list[dict[str, object]] = [
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        *aws_facts.key_policy_statements(list(uses), filled),
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
