"""The ``s3ns`` target's stack settings (Cloud de Confiance by S3NS), in the typed config's models.

Imported at the end of ``stacks/config.py``, which registers the model for its target; validated with
the others: every problem is listed, each naming its key, before any resource is registered.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import pulumi
from pydantic import BeforeValidator, Field, model_validator

from components.s3ns.args import (
    _CERTIFICATE,
    _HOSTNAME,
    _SD_SERVICE,
    KEY_PROTECTION_LEVELS,
    PROJECT_ID,
    SERVICE_AGENT,
    S3nsContainerSpec,
    S3nsEkmSpec,
    S3nsServiceAgents,
    is_der_certificate,
)
from facts import s3ns as universe
from facts.domains import DATA_DOMAINS
from stacks.config import ConfigError, StackSettings, _Settings
from stacks.config_checks import integer, parse_mapping, problem, raise_all, text

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


def _protection_level(value: Any) -> str:
    """One of the levels the universe offers; HSM is named with the source that leaves it out."""
    if not isinstance(value, str):
        raise problem(f"must be a string, got {type(value).__name__}")
    if value not in KEY_PROTECTION_LEVELS:
        raise problem(
            f"must be one of {', '.join(KEY_PROTECTION_LEVELS)} (got {value!r}): Cloud de Confiance offers no "
            f"other Cloud KMS protection level ({universe.cite('kms_protection_levels')})"
        )
    return value


_protection_level.__doc__ = " or ".join(KEY_PROTECTION_LEVELS)
_AGENT = f"a service agent address under {universe.service_agent_domain()}, read in the S3NS console"


class S3nsServiceAgentSettings(_Settings):
    """Service agents given as config: the universe offers no API to create them (data/facts/s3ns.yaml)."""

    cloud_sql: Annotated[str, BeforeValidator(text(SERVICE_AGENT, _AGENT))] = Field(
        description="Cloud SQL service agent (granted the database key)"
    )
    secret_manager: Annotated[str, BeforeValidator(text(SERVICE_AGENT, _AGENT))] = Field(
        description="Secret Manager service agent (granted the secrets key)"
    )
    cloud_run: Annotated[str, BeforeValidator(text(SERVICE_AGENT, _AGENT))] = Field(
        description="Cloud Run service agent (granted the secrets key, Cloud Run CMEK)"
    )
    logging: Annotated[str, BeforeValidator(text(SERVICE_AGENT, _AGENT))] = Field(
        description="Cloud Logging service agent (granted the logs key)"
    )

    def to_args(self) -> S3nsServiceAgents:
        return S3nsServiceAgents(
            cloud_sql=self.cloud_sql,
            secret_manager=self.secret_manager,
            cloud_run=self.cloud_run,
            logging=self.logging,
        )


def _certificate(value: Any) -> str:
    if not isinstance(value, str) or not is_der_certificate(value):
        raise problem("must be the key manager's X.509 server certificate, DER then base64 (public)")
    return value


class S3nsEkmSettings(_Settings):
    """The ministry's external key manager in France, reached by Cloud EKM over the VPC."""

    hostname: Annotated[str, BeforeValidator(text(_HOSTNAME, "the key manager's DNS host name"))] = Field(
        description="host name the key manager's certificate is issued for"
    )
    server_certificate: Annotated[str, BeforeValidator(_certificate)] = Field(
        description="the key manager's server certificate, DER then base64 (public, not a secret)"
    )
    service_directory_service: Annotated[
        str,
        BeforeValidator(text(_SD_SERVICE, "projects/<p>/locations/<region>/namespaces/<ns>/services/<svc>")),
    ] = Field(description="Service Directory service pointing at the key manager, in the region")
    key_paths: Annotated[dict[str, str], BeforeValidator(parse_mapping)] = Field(
        description=f"key path at the key manager for each domain ({', '.join(DATA_DOMAINS)})"
    )

    @model_validator(mode="after")
    def _every_domain(self) -> S3nsEkmSettings:
        missing = sorted(set(DATA_DOMAINS) - set(self.key_paths))
        extra = sorted(set(self.key_paths) - set(DATA_DOMAINS))
        problems = []
        if missing:
            problems.append(("keyPaths", f"must name a key path for {', '.join(missing)}"))
        if extra:
            problems.append(
                ("keyPaths", f"names unknown domains {', '.join(extra)} (allowed: {', '.join(DATA_DOMAINS)})")
            )
        raise_all(problems)
        return self

    def to_args(self) -> S3nsEkmSpec:
        return S3nsEkmSpec(
            hostname=self.hostname,
            server_certificate_der_b64=self.server_certificate,
            service_directory_service=self.service_directory_service,
            key_paths=dict(self.key_paths),
        )


class S3nsStackSettings(StackSettings):
    """Option C: Cloud de Confiance by S3NS (SecNumCloud-qualified), keys in Cloud KMS in u-france-east1."""

    target: Literal["s3ns"] = "s3ns"
    project_id: Annotated[
        str,
        BeforeValidator(
            text(
                PROJECT_ID,
                f"an S3NS project id, {universe.project_prefix()} then 6 to 30 of [a-z0-9-] "
                f"({universe.cite('project_id')})",
            )
        ),
    ] = Field(description="the S3NS project holding every resource, with its s3ns: prefix")
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
    key_protection_level: Annotated[str, BeforeValidator(_protection_level)] = Field(
        default="SOFTWARE",
        description="SOFTWARE (S3NS holds the key material) or EXTERNAL_VPC (the ministry's key manager does)",
    )
    service_agents: Annotated[S3nsServiceAgentSettings, BeforeValidator(parse_mapping)] = Field(
        description="service agents the universe gives no API to obtain (read in the S3NS console)"
    )
    ekm: Annotated[S3nsEkmSettings | None, BeforeValidator(parse_mapping)] = Field(
        default=None, description="the external key manager, required with keyProtectionLevel EXTERNAL_VPC"
    )
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
        if self.key_protection_level == universe.EXTERNAL_VPC and self.ekm is None:
            problems.append(
                ("ekm", "must describe the external key manager when keyProtectionLevel is EXTERNAL_VPC")
            )
        if self.key_protection_level != universe.EXTERNAL_VPC and self.ekm is not None:
            problems.append(
                ("ekm", "is used only with keyProtectionLevel EXTERNAL_VPC; remove it or change the level")
            )
        if self.ekm is not None:
            location = self.ekm.service_directory_service.split("/")[3]
            if location != self.region:
                problems.append(
                    ("ekm", f"serviceDirectoryService must be in {self.region}, where the keys are")
                )
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
