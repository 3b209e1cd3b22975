"""``Keys``: Key Manager keys (AES-256-GCM, automatic rotation), one per data domain."""

from __future__ import annotations

import pulumi
import pulumiverse_scaleway as scw

from components.scaleway.args import ScalewayBookingPlatformArgs
from components.scaleway.common import TYPE_PREFIX, regional_uuid, tags_for

#: Data domains that get their own Key Manager key (crypto-shredding one domain at a time).
#: ``database`` is for application-level envelope encryption of health fields: Managed Database
#: encryption at rest uses a Scaleway-held key (see ``Database``), so the application adds its own.
KEY_DOMAINS: tuple[str, ...] = ("database", "documents", "secrets")


class Keys(pulumi.ComponentResource):
    """Key Manager keys in fr-par: symmetric AES-256-GCM, rotated automatically, protected."""

    def __init__(self, name: str, args: ScalewayBookingPlatformArgs, opts: pulumi.ResourceOptions) -> None:
        super().__init__(f"{TYPE_PREFIX}:Keys", name, None, opts)
        self.keys: dict[str, scw.keymanager.Key] = {}
        for domain in KEY_DOMAINS:
            self.keys[domain] = scw.keymanager.Key(
                f"{name}-{domain}",
                name=f"{args.name_prefix}-{domain}",
                description=f"Booking platform ({args.environment}): protects {domain} data",
                usage="symmetric_encryption",
                # AES-256-GCM: authenticated encryption, the Key Manager default for data keys.
                algorithm="aes_256_gcm",
                # Keys are generated inside Key Manager in fr-par (not imported from elsewhere).
                origin="scaleway_kms",
                # Operations run inside Scaleway's HSM rather than in software (Key Manager's own
                # protection level; data/facts/scaleway.yaml, key-manager-hsm-protection).
                protection_level=args.key_protection_level,
                rotation_policy=scw.keymanager.KeyRotationPolicyArgs(
                    rotation_period=f"{args.key_rotation_days * 24}h"
                ),
                # A protected key cannot be deleted by `pulumi destroy`: shredding health data must be
                # a deliberate act, not a side effect of tearing down a stack.
                unprotected=not args.keys_protected,
                region=args.region,
                project_id=args.project_id,
                tags=tags_for(args, "keys"),
                opts=pulumi.ResourceOptions(parent=self, protect=args.keys_protected),
            )
        self.key_ids = {domain: regional_uuid(key.id) for domain, key in self.keys.items()}
        self.register_outputs({"key_ids": self.key_ids})
