"""Arguments of the S3NS booking platform (Cloud de Confiance by S3NS, offer PREMI3NS), validated when built.

Every default is the compliant one: a stack only writes what differs from a secure baseline. A bad
value raises ``ValueError`` naming the field and what is allowed, before any resource is registered.
Sources for the facts below: docs/secnumcloud.md.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from components.args_checks import Problems, refuse_invalid
from facts import s3ns as universe
from facts.domains import DATA_DOMAINS
from facts.providers import allowed_regions

#: Cloud de Confiance runs one stand-alone region (data/facts/providers.yaml, target s3ns).
ALLOWED_REGIONS: tuple[str, ...] = allowed_regions()["s3ns"]
#: API domain of the S3NS universe; pulumi-gcp reaches it through the provider's ``universe_domain``.
UNIVERSE_DOMAIN = universe.universe_domain()
#: Cloud SQL PostgreSQL versions accepted here.
POSTGRES_VERSIONS: tuple[str, ...] = ("POSTGRES_15", "POSTGRES_16", "POSTGRES_17")
#: Cloud KMS protection levels the universe offers (data/facts/s3ns.yaml: SOFTWARE, EXTERNAL_VPC; no HSM).
KEY_PROTECTION_LEVELS: tuple[str, ...] = universe.key_protection_levels()
#: Regional SSL policy profiles the universe offers; the default is the one the policies require.
TLS_PROFILES: tuple[str, ...] = tuple(universe.ssl_policy()["offered_profiles"])
TLS_REQUIRED_PROFILE: str = universe.ssl_policy()["required_profile"]
TLS_MIN_VERSIONS: tuple[str, ...] = (universe.ssl_policy()["min_tls_version"],)

_NAME = re.compile(r"^[a-z][a-z0-9-]{1,22}[a-z0-9]$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_IMAGE = re.compile(r"^[a-z0-9]+([._/:@-][a-zA-Z0-9_.-]+)+$")
#: Cloud SQL custom machine tiers: db-custom-<vCPU>-<memory MiB>.
_TIER = re.compile(r"^db-custom-(\d{1,2})-(\d{4,6})$")
#: S3NS project ids: ``s3ns:`` and 6-30 characters, lower case, starting with a letter (facts).
PROJECT_ID = re.compile(f"^{universe.project_pattern()}$")
#: A service agent's address in the universe (its domain is a sourced fact).
SERVICE_AGENT = re.compile(rf"^[a-z0-9-]+@[a-z0-9.-]+\.{re.escape(universe.service_agent_domain())}$")
#: The ministry's external key manager: a host name, a Service Directory service in the region.
_HOSTNAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_SD_SERVICE = re.compile(
    rf"^projects/(?P<project>{universe.project_pattern()}|[0-9]+)/locations/(?P<location>[a-z0-9-]+)"
    r"/namespaces/[a-z0-9-]{1,63}/services/[a-z0-9-]{1,63}$"
)
#: The path of one key at the external key manager (Cloud EKM's ekm_connection_key_path).
_EKM_KEY_PATH = re.compile(r"^[A-Za-z0-9/_.-]{1,256}$")
_CIDR = re.compile(r"^10\.\d{1,3}\.\d{1,3}\.\d{1,3}/(1[6-9]|2[0-8])$")
#: A Certificate Manager certificate in the region, created out of band (its private key never
#: passes through Pulumi).
_CERTIFICATE = re.compile(
    rf"^projects/(?P<project>{universe.project_pattern()})/locations/(?P<location>[a-z0-9-]+)"
    r"/certificates/[a-z0-9-]{1,63}$"
)


@dataclass(frozen=True)
class S3nsContainerSpec:
    """One Cloud Run service (api or web): image and size, within Cloud Run's limits."""

    #: Image reference, ideally in Artifact Registry of the same project and region.
    image: str
    #: vCPUs per instance (1, 2, 4, 6 or 8).
    cpu: int = 1
    #: Memory per instance in MiB (512 to 32768).
    memory_mb: int = 2048
    #: Instances kept warm; at least 1 so a booking never waits for a cold start.
    min_instances: int = 2
    max_instances: int = 10
    port: int = 8080


@dataclass(frozen=True)
class S3nsServiceAgents:
    """Service agents the universe gives no API to obtain (data/facts/s3ns.yaml service_agents,
    service_identity_api): the operator reads each in the console once its API is enabled. Each is
    granted its own domain's key only; the Cloud Storage agent is read through the storage API."""

    cloud_sql: str
    secret_manager: str
    cloud_run: str
    logging: str


@dataclass(frozen=True)
class S3nsEkmSpec:
    """The ministry's external key manager, reached by Cloud EKM over the VPC (EXTERNAL_VPC keys).

    Nothing here is secret: a host name, a public server certificate, a Service Directory service and
    the path of each domain's key at the key manager. The key material never leaves the key manager.
    """

    #: Host name the key manager's TLS certificate is issued for.
    hostname: str
    #: The key manager's server certificate, DER encoded then base64 (public).
    server_certificate_der_b64: str
    #: ``projects/<p>/locations/<region>/namespaces/<ns>/services/<svc>``, pointing at the key manager.
    service_directory_service: str
    #: Path of each data domain's key at the key manager (Cloud EKM's ``ekm_connection_key_path``).
    key_paths: Mapping[str, str]


@dataclass(frozen=True)
class S3nsBookingPlatformArgs:
    """Everything ``S3nsBookingPlatform`` needs. Defaults are the compliant baseline."""

    #: Short name used in resource names, [a-z0-9-], 3 to 24 characters.
    name_prefix: str
    #: GCP-style project id of the S3NS project holding everything.
    project_id: str
    #: Public name of the booking site, e.g. ``rdv.example.fr``.
    domain: str
    #: Certificate Manager certificate (``projects/<p>/locations/<region>/certificates/<name>``).
    certificate: str
    api: S3nsContainerSpec
    web: S3nsContainerSpec
    service_agents: S3nsServiceAgents
    environment: str = "production"
    region: str = ALLOWED_REGIONS[0]
    #: Range of the app subnet (Cloud Run direct VPC egress), 10/8, /16 to /28.
    app_cidr: str = "10.20.0.0/24"
    #: Range of the proxy-only subnet the regional load balancer's proxies use.
    proxy_cidr: str = "10.20.8.0/23"
    #: Range reserved for private services access (Cloud SQL private IPs).
    data_cidr: str = "10.21.0.0/20"

    # -- database -------------------------------------------------------------------------------
    db_version: str = "POSTGRES_16"
    db_tier: str = "db-custom-2-8192"
    db_disk_gb: int = 100
    db_max_disk_gb: int = 500
    #: REGIONAL: a standby in another zone; a health-data service has to survive a zone failure.
    db_high_availability: bool = True
    backup_retention_days: int = 35
    db_name: str = "booking"
    db_user: str = "booking_app"

    # -- keys -----------------------------------------------------------------------------------
    key_rotation_days: int = 90
    #: SOFTWARE: S3NS holds the key material; EXTERNAL_VPC: the ministry's key manager holds it (``ekm``).
    key_protection_level: str = "SOFTWARE"
    ekm: S3nsEkmSpec | None = None
    #: Protected keys cannot be deleted by ``pulumi destroy`` (crypto-shredding is a deliberate act).
    keys_protected: bool = True

    # -- edge -----------------------------------------------------------------------------------
    tls_profile: str = TLS_REQUIRED_PROFILE
    #: Requests per minute one client address may send before Cloud Armor answers 429.
    rate_limit_per_minute: int = 600
    tls_min_version: str = "TLS_1_2"

    # -- observability --------------------------------------------------------------------------
    log_retention_days: int = 365

    deletion_protection: bool = True
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        refuse_invalid("S3nsBookingPlatformArgs", self.problems())

    def problems(self) -> list[str]:
        """Every invalid field, each as ``<field>: <what is allowed>``."""
        p = Problems()
        check = p.check

        check(
            bool(_NAME.match(self.name_prefix)),
            "name_prefix",
            "3 to 24 characters of [a-z0-9-]",
            self.name_prefix,
        )
        check(
            bool(PROJECT_ID.match(self.project_id)),
            "project_id",
            f"an S3NS project id: {universe.project_prefix()} then 6-30 of [a-z0-9-] ({universe.cite('project_id')})",
            self.project_id,
        )
        check(
            bool(_DOMAIN.match(self.domain)), "domain", "a fully qualified lower-case DNS name", self.domain
        )
        check(
            self.region in ALLOWED_REGIONS,
            "region",
            f"one of {ALLOWED_REGIONS} (the S3NS qualified region)",
            self.region,
        )
        cert = _CERTIFICATE.match(self.certificate)
        check(
            cert is not None and cert["location"] == self.region and cert["project"] == self.project_id,
            "certificate",
            f"projects/{self.project_id}/locations/{self.region}/certificates/<name>",
            self.certificate,
        )
        for label, cidr in (
            ("app_cidr", self.app_cidr),
            ("proxy_cidr", self.proxy_cidr),
            ("data_cidr", self.data_cidr),
        ):
            check(bool(_CIDR.match(cidr)), label, "an IPv4 CIDR in 10.0.0.0/8, /16 to /28", cidr)
        check(
            self.db_version in POSTGRES_VERSIONS, "db_version", f"one of {POSTGRES_VERSIONS}", self.db_version
        )
        tier = _TIER.match(self.db_tier)
        check(
            tier is not None and 1 <= int(tier[1]) <= 96 and 3840 <= int(tier[2]) <= 624640,
            "db_tier",
            "db-custom-<1..96 vCPU>-<3840..624640 MiB>",
            self.db_tier,
        )
        check(10 <= self.db_disk_gb <= 65536, "db_disk_gb", "between 10 and 65536", self.db_disk_gb)
        check(
            self.db_disk_gb <= self.db_max_disk_gb <= 65536,
            "db_max_disk_gb",
            f"between db_disk_gb ({self.db_disk_gb}) and 65536",
            self.db_max_disk_gb,
        )
        check(
            7 <= self.backup_retention_days <= 365,
            "backup_retention_days",
            "between 7 and 365",
            self.backup_retention_days,
        )
        for label, ident in (("db_name", self.db_name), ("db_user", self.db_user)):
            check(bool(re.match(r"^[a-z_][a-z0-9_]{0,62}$", ident)), label, "a PostgreSQL identifier", ident)
        check(
            1 <= self.key_rotation_days <= 365,
            "key_rotation_days",
            "between 1 and 365",
            self.key_rotation_days,
        )
        check(
            self.key_protection_level in KEY_PROTECTION_LEVELS,
            "key_protection_level",
            f"one of {KEY_PROTECTION_LEVELS} (the levels the universe offers, {universe.cite('kms_protection_levels')})",
            self.key_protection_level,
        )
        check(
            (self.ekm is not None) == (self.key_protection_level == universe.EXTERNAL_VPC),
            "ekm",
            "the external key manager when key_protection_level is EXTERNAL_VPC, and only then",
            "set" if self.ekm else "unset",
        )
        if self.ekm is not None:
            self._ekm_problems(p)
        for agent in ("cloud_sql", "secret_manager", "cloud_run", "logging"):
            address = getattr(self.service_agents, agent)
            check(
                bool(SERVICE_AGENT.match(address)),
                f"service_agents.{agent}",
                f"a service agent address under {universe.service_agent_domain()}",
                address,
            )
        check(
            10 <= self.rate_limit_per_minute <= 100000,
            "rate_limit_per_minute",
            "between 10 and 100000",
            self.rate_limit_per_minute,
        )
        check(
            self.tls_profile == TLS_REQUIRED_PROFILE,
            "tls_profile",
            f"{TLS_REQUIRED_PROFILE}, the one profile of {TLS_PROFILES} without CBC-SHA suites ({universe.cite('ssl_policy')})",
            self.tls_profile,
        )
        check(
            self.tls_min_version in TLS_MIN_VERSIONS,
            "tls_min_version",
            f"one of {TLS_MIN_VERSIONS}",
            self.tls_min_version,
        )
        check(
            30 <= self.log_retention_days <= 3650,
            "log_retention_days",
            "between 30 and 3650 (Cloud Logging bucket limit)",
            self.log_retention_days,
        )
        for label, spec in (("api", self.api), ("web", self.web)):
            check(bool(_IMAGE.match(spec.image)), f"{label}.image", "a container image reference", spec.image)
            check(spec.cpu in (1, 2, 4, 6, 8), f"{label}.cpu", "one of 1, 2, 4, 6, 8", spec.cpu)
            check(
                512 <= spec.memory_mb <= 32768, f"{label}.memory_mb", "between 512 and 32768", spec.memory_mb
            )
            check(
                1 <= spec.min_instances <= 100,
                f"{label}.min_instances",
                "between 1 and 100",
                spec.min_instances,
            )
            check(
                spec.min_instances <= spec.max_instances <= 100,
                f"{label}.max_instances",
                f"between min_instances ({spec.min_instances}) and 100",
                spec.max_instances,
            )
            check(1 <= spec.port <= 65535, f"{label}.port", "a TCP port", spec.port)
        return p

    def _ekm_problems(self, p: Problems) -> None:
        ekm = self.ekm
        assert ekm is not None
        p.check(bool(_HOSTNAME.match(ekm.hostname)), "ekm.hostname", "a DNS host name", ekm.hostname)
        p.check(
            is_der_certificate(ekm.server_certificate_der_b64),
            "ekm.server_certificate_der_b64",
            "the key manager's X.509 certificate, DER then base64",
            "(not a DER certificate)",
        )
        service = _SD_SERVICE.match(ekm.service_directory_service)
        p.check(
            service is not None and service["location"] == self.region,
            "ekm.service_directory_service",
            f"projects/<project>/locations/{self.region}/namespaces/<ns>/services/<svc>",
            ekm.service_directory_service,
        )
        p.check(
            set(ekm.key_paths) == set(DATA_DOMAINS),
            "ekm.key_paths",
            f"one key path for each domain {DATA_DOMAINS}",
            sorted(ekm.key_paths),
        )
        for domain, path in ekm.key_paths.items():
            p.check(
                bool(_EKM_KEY_PATH.match(path)), f"ekm.key_paths.{domain}", "a key path [A-Za-z0-9/_.-]", path
            )


def is_der_certificate(value: str) -> bool:
    """Base64 of a DER SEQUENCE (an X.509 certificate starts with one): a cheap structural check."""
    try:
        der = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(der) > 64 and der[0] == 0x30
