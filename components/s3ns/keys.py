"""Cloud KMS keys of the S3NS platform: one key ring in the qualified region, one key per data domain,
at the protection level the ministry chooses (SOFTWARE, or EXTERNAL_VPC in its own key manager)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.s3ns._options import inherited
from components.s3ns.args import S3nsEkmSpec
from facts import s3ns as universe
from facts.domains import DATA_DOMAINS as DOMAINS


@dataclass(frozen=True)
class KeysArgs:
    """Inputs of Keys."""

    project: str
    region: str
    rotation_days: int = 90
    protection_level: str = "SOFTWARE"
    protected: bool = True
    #: The ministry's key manager, with EXTERNAL_VPC only.
    ekm: S3nsEkmSpec | None = None


class Keys(pulumi.ComponentResource):
    """A key ring and one symmetric key per domain, so that one domain can be crypto-shredded alone.

    SOFTWARE: the key material is Cloud KMS's, in the universe's only region. EXTERNAL_VPC: the
    material stays in the ministry's key manager; Cloud KMS holds only a path to it, reached through an
    EKM connection over the VPC (data/facts/s3ns.yaml kms_protection_levels, ekm_connection).
    """

    key_ids: pulumi.Output[Mapping[str, str]]

    def __init__(self, name: str, args: KeysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("booking:s3ns:Keys", name, None, opts)
        self._after = inherited(opts)
        self._prefix = name
        external = args.protection_level == universe.EXTERNAL_VPC
        # A key ring cannot be deleted in Cloud KMS; protecting it only states that in Pulumi.
        self.key_ring = gcp.kms.KeyRing(
            f"{name}-ring",
            project=args.project,
            location=args.region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._after, protect=args.protected),
        )
        self.ekm_connection: gcp.kms.EkmConnection | None = None
        if external:
            if args.ekm is None:
                raise ValueError("Keys: protection_level EXTERNAL_VPC needs the external key manager (ekm)")
            # MANUAL: the ministry creates and rotates keys in its own key manager; Cloud KMS never
            # holds the material (an EKM connection cannot be deleted: protected like the ring).
            self.ekm_connection = gcp.kms.EkmConnection(
                f"{name}-ekm",
                name=f"{name}-ekm",
                project=args.project,
                location=args.region,
                key_management_mode="MANUAL",
                service_resolvers=[
                    gcp.kms.EkmConnectionServiceResolverArgs(
                        service_directory_service=args.ekm.service_directory_service,
                        hostname=args.ekm.hostname,
                        server_certificates=[
                            gcp.kms.EkmConnectionServiceResolverServerCertificateArgs(
                                raw_der=args.ekm.server_certificate_der_b64
                            )
                        ],
                    )
                ],
                opts=pulumi.ResourceOptions(parent=self, depends_on=self._after, protect=args.protected),
            )
        self.keys: dict[str, gcp.kms.CryptoKey] = {}
        self.versions: dict[str, gcp.kms.CryptoKeyVersion] = {}
        for domain in DOMAINS:
            self.keys[domain] = gcp.kms.CryptoKey(
                f"{name}-{domain}",
                key_ring=self.key_ring.id,
                purpose="ENCRYPT_DECRYPT",
                # External keys rotate at the key manager, by hand (data/facts/s3ns.yaml
                # kms_external_rotation): Cloud KMS takes no rotation period for them.
                rotation_period=None if external else f"{args.rotation_days * 86400}s",
                # 30 days between a destroy request and the material's destruction: time to undo.
                destroy_scheduled_duration=f"{30 * 86400}s",
                version_template=gcp.kms.CryptoKeyVersionTemplateArgs(
                    algorithm="EXTERNAL_SYMMETRIC_ENCRYPTION" if external else "GOOGLE_SYMMETRIC_ENCRYPTION",
                    protection_level=args.protection_level,
                ),
                crypto_key_backend=self.ekm_connection.id if self.ekm_connection else None,
                # An external key's first version must name its key at the key manager: created below.
                skip_initial_version_creation=True if external else None,
                labels={"domain": domain},
                opts=pulumi.ResourceOptions(parent=self, depends_on=self._after, protect=args.protected),
            )
            if external and args.ekm is not None:
                self.versions[domain] = gcp.kms.CryptoKeyVersion(
                    f"{name}-{domain}-v1",
                    crypto_key=self.keys[domain].id,
                    external_protection_level_options=gcp.kms.CryptoKeyVersionExternalProtectionLevelOptionsArgs(
                        ekm_connection_key_path=args.ekm.key_paths[domain]
                    ),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=self._after, protect=args.protected),
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
                opts=pulumi.ResourceOptions(parent=self, depends_on=self._after),
            )
