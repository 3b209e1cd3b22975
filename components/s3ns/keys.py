"""Cloud KMS keys of the S3NS platform: one key ring in the qualified region, one key per data domain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from facts.domains import DATA_DOMAINS as DOMAINS


@dataclass(frozen=True)
class KeysArgs:
    """Inputs of Keys."""

    project: str
    region: str
    rotation_days: int = 90
    protection_level: str = "SOFTWARE"
    protected: bool = True


class Keys(pulumi.ComponentResource):
    """A key ring and one symmetric key per domain, so that one domain can be crypto-shredded alone.

    Key material of a Cloud KMS key stays in its location for the key's whole life (Cloud KMS
    "Locations"); the location is the universe's only region, in France.
    """

    key_ids: pulumi.Output[Mapping[str, str]]

    def __init__(self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:s3ns:Keys", name, None, opts)
        self._prefix = name
        # A key ring cannot be deleted in Cloud KMS; protecting it only states that in Pulumi.
        self.key_ring = gcp.kms.KeyRing(
            f"{name}-ring",
            project=args.project,
            location=args.region,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protected),
        )
        self.keys: dict[str, gcp.kms.CryptoKey] = {}
        for domain in DOMAINS:
            self.keys[domain] = gcp.kms.CryptoKey(
                f"{name}-{domain}",
                key_ring=self.key_ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=f"{args.rotation_days * 86400}s",
                # 30 days between a destroy request and the material's destruction: time to undo.
                destroy_scheduled_duration=f"{30 * 86400}s",
                version_template=gcp.kms.CryptoKeyVersionTemplateArgs(
                    algorithm="GOOGLE_SYMMETRIC_ENCRYPTION", protection_level=args.protection_level
                ),
                labels={"domain": domain},
                opts=pulumi.ResourceOptions(parent=self, protect=args.protected),
            )
        self.key_ids = pulumi.Output.all(**{d: k.id for d, k in self.keys.items()})
        self.register_outputs({"keyIds": self.key_ids})

    def grant(self, domain: str, members: Sequence[pulumi.Input[str]], label: str) -> None:
        """Lets service agents use one domain's key, and only that one (encrypt/decrypt, no admin)."""
        for index, member in enumerate(members):
            gcp.kms.CryptoKeyIAMMember(
                f"{self._prefix}-{domain}-{label}-{index}",
                crypto_key_id=self.keys[domain].id,
                role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
                member=member,
                opts=pulumi.ResourceOptions(parent=self),
            )
