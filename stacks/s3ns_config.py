"""The ``s3ns`` target's part of the stack configuration (Cloud de Confiance by S3NS).

Read by ``stacks.config.load`` with the same reader, so every problem is listed with the others, each
naming its key, before any resource is registered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi

from components.s3ns.args import KEY_PROTECTION_LEVELS, S3nsContainerSpec

if TYPE_CHECKING:
    from stacks.config import _Reader

_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_CERTIFICATE = re.compile(
    r"^projects/(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])/locations/(?P<location>[a-z0-9-]+)/certificates/[a-z0-9-]{1,63}$"
)
_TIER = re.compile(r"^db-custom-([1-9]\d?)-(\d{4,6})$")

#: Provider config keys that hold credentials: never in plaintext in a stack file.
CREDENTIAL_KEYS: tuple[str, ...] = ("credentials", "accessToken")


@dataclass(frozen=True)
class S3nsSizes:
    db_tier: str = "db-custom-2-8192"
    db_disk_gb: int = 100
    db_max_disk_gb: int = 500
    api_cpu: int = 1
    api_memory_mb: int = 2048
    api_min_instances: int = 2
    api_max_instances: int = 10
    web_cpu: int = 1
    web_memory_mb: int = 1024
    web_min_instances: int = 2
    web_max_instances: int = 6

    def container(self, service: str, image: str) -> S3nsContainerSpec:
        return S3nsContainerSpec(
            image=image,
            cpu=getattr(self, f"{service}_cpu"),
            memory_mb=getattr(self, f"{service}_memory_mb"),
            min_instances=getattr(self, f"{service}_min_instances"),
            max_instances=getattr(self, f"{service}_max_instances"),
        )


@dataclass(frozen=True)
class S3nsSettings:
    project_id: str
    certificate: str
    key_protection_level: str = "SOFTWARE"
    sizes: S3nsSizes = field(default_factory=S3nsSizes)


_SIZE_LIMITS: dict[str, tuple[int, int] | tuple[re.Pattern[str], str]] = {
    "dbTier": (_TIER, "a Cloud SQL custom tier db-custom-<vCPU>-<MiB> such as db-custom-2-8192"),
    "dbDiskGb": (10, 65536),
    "dbMaxDiskGb": (10, 65536),
    "apiCpu": (1, 8),
    "apiMemoryMb": (512, 32768),
    "apiMinInstances": (1, 100),
    "apiMaxInstances": (1, 100),
    "webCpu": (1, 8),
    "webMemoryMb": (512, 32768),
    "webMinInstances": (1, 100),
    "webMaxInstances": (1, 100),
}


def read(reader: _Reader, region: str | None, sizes_reader: Any) -> S3nsSettings | None:
    """Reads ``s3nsProjectId``, ``certificate``, ``keyProtectionLevel`` and ``sizes``; checks that no
    provider credential sits in plaintext in the stack file."""
    project = reader.text(
        "s3nsProjectId", pattern=_PROJECT_ID, describe="an S3NS project id (6 to 30 of [a-z0-9-])"
    )
    certificate = reader.text(
        "certificate",
        pattern=_CERTIFICATE,
        describe="a Certificate Manager certificate projects/<project>/locations/<region>/certificates/<name>",
    )
    if certificate and (match := _CERTIFICATE.match(certificate)):
        if region and match["location"] != region:
            reader.fail(reader.key("certificate"), f"must be in {region}, where the load balancer is")
        if project and match["project"] != project:
            reader.fail(reader.key("certificate"), f"must belong to project {project}")
    level = reader.text(
        "keyProtectionLevel", default="SOFTWARE", allowed=KEY_PROTECTION_LEVELS, describe="SOFTWARE or HSM"
    )
    sizes = S3nsSizes(**sizes_reader(reader, "sizes", S3nsSizes(), _SIZE_LIMITS))
    key = reader.key("sizes")
    if sizes.db_max_disk_gb < sizes.db_disk_gb:
        reader.fail(f"{key}.dbMaxDiskGb", f"must be at least dbDiskGb ({sizes.db_disk_gb})")
    if (tier := _TIER.match(sizes.db_tier)) and not 3840 <= int(tier[2]) <= 6656 * int(tier[1]):
        reader.fail(
            f"{key}.dbTier", "must give 3840 MiB to 6.5 GiB of memory per vCPU (Cloud SQL custom tiers)"
        )
    for service in ("api", "web"):
        if getattr(sizes, f"{service}_cpu") not in (1, 2, 4, 6, 8):
            reader.fail(f"{key}.{service}Cpu", "must be one of 1, 2, 4, 6, 8 (Cloud Run CPU limits)")
        if getattr(sizes, f"{service}_max_instances") < getattr(sizes, f"{service}_min_instances"):
            reader.fail(f"{key}.{service}MaxInstances", f"must be at least {service}MinInstances")
    # The provider's own config: a service-account key in plaintext would sit in the stack file and the
    # state. Refused, like the booking secrets; workload identity or ADC needs no key at all.
    provider = pulumi.Config("gcp")
    for name in CREDENTIAL_KEYS:
        full = f"gcp:{name}"
        if provider.get(name) is not None and not pulumi.runtime.is_config_secret(full):
            reader.fail(
                full,
                f"is stored in plaintext; remove it and use Application Default Credentials, or "
                f"`pulumi config set --secret {full} <value>`",
            )
    if not (project and certificate and level) or reader.problems:
        return None
    return S3nsSettings(project_id=project, certificate=certificate, key_protection_level=level, sizes=sizes)


#: Keys that belong to one target only; on another target they are a mistake (often a copied stack
#: file): refused, never ignored.
_TARGET_KEYS: dict[str, tuple[str, ...]] = {
    "aws": ("xks", "certificateArn", "xksAccessKeyId", "xksSecretAccessKey"),
    "s3ns": ("s3nsProjectId", "certificate", "keyProtectionLevel"),
}


def refuse_other_targets_keys(reader: _Reader, target: str) -> None:
    for owner, names in _TARGET_KEYS.items():
        for name in names:
            if owner != target and reader.raw(name) is not None:
                reader.fail(reader.key(name), f"applies only to target {owner}, not {target}")
