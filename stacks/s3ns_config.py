"""The ``s3ns`` target's stack settings (Cloud de Confiance by S3NS), in the typed config's models.

Imported at the end of ``stacks/config.py``, which registers the model for its target; validated with
the others: every problem is listed, each naming its key, before any resource is registered.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import pulumi
from pydantic import BeforeValidator, Field, model_validator

from components.s3ns.args import KEY_PROTECTION_LEVELS, S3nsContainerSpec
from stacks.config import ConfigError, StackSettings, _Settings
from stacks.config_checks import integer, one_of, parse_mapping, raise_all, text

_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_CERTIFICATE = re.compile(
    r"^projects/(?P<project>[a-z][a-z0-9-]{4,28}[a-z0-9])/locations/(?P<location>[a-z0-9-]+)/certificates/[a-z0-9-]{1,63}$"
)
_TIER = re.compile(r"^db-custom-([1-9]\d?)-(\d{4,6})$")
#: Provider config keys that hold credentials: never in plaintext in a stack file.
CREDENTIAL_KEYS: tuple[str, ...] = ("credentials", "accessToken")


class S3nsSizes(_Settings):
    db_tier: Annotated[
        str,
        BeforeValidator(
            text(_TIER, "a Cloud SQL custom tier db-custom-<vCPU>-<MiB> such as db-custom-2-8192")
        ),
    ] = "db-custom-2-8192"
    db_disk_gb: Annotated[int, BeforeValidator(integer(10, 65536))] = 100
    db_max_disk_gb: Annotated[int, BeforeValidator(integer(10, 65536))] = 500
    api_cpu: Annotated[int, BeforeValidator(integer(1, 8))] = 1
    api_memory_mb: Annotated[int, BeforeValidator(integer(512, 32768))] = 2048
    api_min_instances: Annotated[int, BeforeValidator(integer(1, 100))] = 2
    api_max_instances: Annotated[int, BeforeValidator(integer(1, 100))] = 10
    web_cpu: Annotated[int, BeforeValidator(integer(1, 8))] = 1
    web_memory_mb: Annotated[int, BeforeValidator(integer(512, 32768))] = 1024
    web_min_instances: Annotated[int, BeforeValidator(integer(1, 100))] = 2
    web_max_instances: Annotated[int, BeforeValidator(integer(1, 100))] = 6

    @model_validator(mode="after")
    def _consistent(self) -> S3nsSizes:
        problems = []
        if self.db_max_disk_gb < self.db_disk_gb:
            problems.append(("dbMaxDiskGb", f"must be at least dbDiskGb ({self.db_disk_gb})"))
        tier = _TIER.match(self.db_tier)
        if tier and not 3840 <= int(tier[2]) <= 6656 * int(tier[1]):
            problems.append(
                ("dbTier", "must give 3840 MiB to 6.5 GiB of memory per vCPU (Cloud SQL custom tiers)")
            )
        for service in ("api", "web"):
            if getattr(self, f"{service}_cpu") not in (1, 2, 4, 6, 8):
                problems.append((f"{service}Cpu", "must be one of 1, 2, 4, 6, 8 (Cloud Run CPU limits)"))
            if getattr(self, f"{service}_max_instances") < getattr(self, f"{service}_min_instances"):
                problems.append((f"{service}MaxInstances", f"must be at least {service}MinInstances"))
        raise_all(problems)
        return self

    def container(self, service: str, image: str) -> S3nsContainerSpec:
        return S3nsContainerSpec(
            image=image,
            cpu=getattr(self, f"{service}_cpu"),
            memory_mb=getattr(self, f"{service}_memory_mb"),
            min_instances=getattr(self, f"{service}_min_instances"),
            max_instances=getattr(self, f"{service}_max_instances"),
        )


class S3nsStackSettings(StackSettings):
    """Option C: Cloud de Confiance by S3NS (SecNumCloud-qualified), keys in Cloud KMS in u-france-east1."""

    target: Literal["s3ns"] = "s3ns"
    project_id: Annotated[
        str, BeforeValidator(text(_PROJECT_ID, "an S3NS project id (6 to 30 of [a-z0-9-])"))
    ] = Field(description="the S3NS project holding every resource")
    certificate: Annotated[
        str,
        BeforeValidator(
            text(
                _CERTIFICATE,
                "a Certificate Manager certificate projects/<project>/locations/<region>/certificates/<name>",
            )
        ),
    ] = Field(
        description="Certificate Manager certificate of the project, in the region, created out of band"
    )
    key_protection_level: Annotated[str, BeforeValidator(one_of(*KEY_PROTECTION_LEVELS))] = "SOFTWARE"
    sizes: Annotated[S3nsSizes, BeforeValidator(parse_mapping)] = Field(
        default_factory=S3nsSizes, description="Cloud SQL and Cloud Run sizes"
    )

    @model_validator(mode="after")
    def _certificate_location(self) -> S3nsStackSettings:
        match = _CERTIFICATE.match(self.certificate)
        problems = []
        if match and match["location"] != self.region:
            problems.append(("certificate", f"must be in {self.region}, where the load balancer is"))
        if match and match["project"] != self.project_id:
            problems.append(("certificate", f"must belong to project {self.project_id}"))
        raise_all(problems)
        return self


def check_provider_credentials(stack: str) -> None:
    """A service-account key in plaintext in the stack file would sit there and in the state: refused,
    like the booking secrets (workload identity or ADC needs no key). Runs before any registration."""
    provider = pulumi.Config("gcp")
    problems = [
        f"gcp:{name}: is stored in plaintext; remove it and use Application Default Credentials, or "
        f"`pulumi config set --secret gcp:{name} <value>`"
        for name in CREDENTIAL_KEYS
        if provider.get(name) is not None and not pulumi.runtime.is_config_secret(f"gcp:{name}")
    ]
    if problems:
        raise ConfigError(stack, problems)
