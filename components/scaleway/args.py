"""Arguments of the Scaleway booking platform, validated when built.

Every default is the compliant one: a stack only writes what differs from a secure baseline. A bad
value raises ``ValueError`` naming the field and what is allowed, before any resource is registered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from components.args_checks import Problems, refuse_invalid
from facts.providers import allowed_regions, home_region
from facts.scaleway import key_protection_levels, retention_bounds

#: Scaleway regions in scope (data/facts/providers.yaml: its HDS certificate covers Paris, fr-par).
ALLOWED_REGIONS: tuple[str, ...] = allowed_regions()["scaleway"]
#: Scaleway managed PostgreSQL engines accepted here (supported major versions).
POSTGRES_ENGINES: tuple[str, ...] = ("PostgreSQL-15", "PostgreSQL-16", "PostgreSQL-17")
VOLUME_TYPES: tuple[str, ...] = ("sbs_5k", "sbs_15k")
#: Cockpit retention bounds (data/facts/scaleway.yaml, cockpit-retention).
LOG_RETENTION = retention_bounds("logs")
METRICS_RETENTION = retention_bounds("metrics")

_NAME = re.compile(r"^[a-z][a-z0-9-]{1,40}[a-z0-9]$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_IMAGE = re.compile(r"^[a-z0-9]+([._/:@-][a-zA-Z0-9_.-]+)+$")
_NODE_TYPE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
PROJECT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CIDR = re.compile(r"^(10|172|192)\.\d{1,3}\.\d{1,3}\.\d{1,3}/(1[6-9]|2[0-8])$")
RFC3339_UTC = re.compile(r"^20\d\d-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$")
_PRINCIPAL = re.compile(r"^(user_id|application_id):[0-9a-f-]{36}$")


@dataclass(frozen=True)
class ScalewayContainerSpec:
    """One Serverless Container (api or web): image and size. Limits follow the Containers API."""

    #: Image reference, ideally in Scaleway Container Registry fr-par (rg.fr-par.scw.cloud/...).
    image: str
    #: vCPU limit in thousandths of a vCPU (70 to 6000).
    cpu_limit_mvcpu: int = 1000
    #: Memory limit in MB (128 to 32768).
    memory_limit_mb: int = 2048
    #: Instances kept warm; at least 1 so a booking never waits for a cold start.
    min_scale: int = 2
    max_scale: int = 10
    #: Port the image listens on.
    port: int = 8080
    #: Path the platform probes for health.
    health_path: str = "/healthz"


@dataclass(frozen=True)
class ScalewayBookingPlatformArgs:
    """Everything ``ScalewayBookingPlatform`` needs. Defaults are the compliant baseline."""

    #: Short name used in every resource name (``<name_prefix>-documents`` ...), [a-z0-9-].
    name_prefix: str
    #: Public name of the booking site (TLS certificate common name), e.g. ``rdv.example.fr``.
    domain: str
    api: ScalewayContainerSpec
    web: ScalewayContainerSpec
    environment: str = "production"
    #: Region of every regional resource; the default is the first allowed region (data/facts/providers.yaml).
    region: str = field(default_factory=lambda: home_region("scaleway"))
    #: Scaleway project holding every resource and scoping every IAM rule (Scaleway requires one
    #: project or organization per rule: data/facts/scaleway.yaml, iam-rule-scope). Required.
    project_id: str = ""
    #: Who runs `pulumi up` (``user_id:<uuid>`` or ``application_id:<uuid>``): kept in the bucket
    #: policy, or the deployer locks itself out of the bucket it manages (unless Organization Owner).
    deployer_principal: str = ""
    #: Scaleway Domains zone holding ``domain`` (e.g. ``sante-exemple.fr``): the stack then writes the
    #: CNAME records and binds the custom domains in the same run. None: DNS is elsewhere (see below).
    dns_zone: str | None = None
    #: DNS elsewhere: False on the first run (no custom domain bound: Scaleway would refuse it until
    #: the CNAME exists); True once the deployer has created the CNAME records the stack exported.
    external_dns_ready: bool = False
    #: IPv4 range of the Private Network (RFC 1918, /16 to /28).
    private_cidr: str = "172.16.32.0/22"

    # -- database -------------------------------------------------------------------------------
    db_engine: str = "PostgreSQL-16"
    db_node_type: str = "db-pro2-xxs"
    db_volume_gb: int = 100
    db_volume_type: str = "sbs_5k"
    #: Two nodes in different hypervisors; a health-data service has to survive one failure.
    db_high_availability: bool = True
    #: Managed encryption at rest (LUKS). Scaleway offers no customer key for it; it must stay on.
    db_encryption_at_rest: bool = True
    #: Days a daily backup is kept (7 to 35, the config's bounds).
    backup_retention_days: int = 35
    backup_frequency_hours: int = 24
    #: Keep logical backups in fr-par: without it Scaleway may store them in another region.
    backup_same_region: bool = True
    db_name: str = "booking"
    #: Administrator (break-glass, never given to the application).
    db_admin_user: str = "booking_admin"
    #: The application's own role: read/write on ``db_name`` only, no administration.
    db_app_user: str = "booking_app"

    #: When the API's IAM API key expires (RFC 3339, e.g. ``2027-06-30T00:00:00Z``): a key that never
    #: expires outlives whoever forgot it. Rotate before: docs/deploy-scaleway.md.
    api_key_expires_at: str = ""

    # -- keys -----------------------------------------------------------------------------------
    #: Days between automatic rotations of every Key Manager key (1 to 365).
    key_rotation_days: int = 90
    #: Protected keys cannot be deleted by ``pulumi destroy`` (crypto-shredding is a deliberate act).
    keys_protected: bool = True
    #: Key Manager protection level: ``hsm`` runs the key's operations in Scaleway's HSM
    #: (data/facts/scaleway.yaml, key-manager-hsm-protection).
    key_protection_level: str = "hsm"

    # -- documents ------------------------------------------------------------------------------
    documents_versioning: bool = True
    #: Principals (``application_id:<uuid>`` or ``user_id:<uuid>``) besides the API's own IAM
    #: application that may use the documents bucket, e.g. an operator for break-glass access.
    documents_admin_principals: tuple[str, ...] = ()

    # -- observability --------------------------------------------------------------------------
    #: Cockpit keeps custom logs and metrics 1 to 1825 days (data/facts/scaleway.yaml).
    log_retention_days: int = 365
    metrics_retention_days: int = 365

    # -- secrets --------------------------------------------------------------------------------
    #: Secret Manager secrets cannot be deleted while protected.
    secrets_protected: bool = True

    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def api_domain(self) -> str:
        """The API's public name: its own container endpoint, beside the web's."""
        return f"api.{self.domain}"

    def __post_init__(self) -> None:
        refuse_invalid("ScalewayBookingPlatformArgs", self.problems())

    def problems(self) -> list[str]:
        """Every invalid field, each as ``<field>: <what is allowed>``."""
        p = Problems()
        check = p.check

        check(
            bool(_NAME.match(self.name_prefix)),
            "name_prefix",
            "3 to 42 characters of [a-z0-9-]",
            self.name_prefix,
        )
        check(
            bool(_DOMAIN.match(self.domain)), "domain", "a fully qualified lower-case DNS name", self.domain
        )
        check(self.region in ALLOWED_REGIONS, "region", f"one of {ALLOWED_REGIONS} (HDS scope)", self.region)
        check(
            bool(PROJECT_ID.match(self.project_id)),
            "project_id",
            "a Scaleway project id (UUID): every IAM rule is scoped to it",
            self.project_id,
        )
        check(
            bool(_PRINCIPAL.match(self.deployer_principal)),
            "deployer_principal",
            "user_id:<uuid> or application_id:<uuid> (who runs pulumi up)",
            self.deployer_principal,
        )
        check(
            self.dns_zone is None
            or (bool(_DOMAIN.match(self.dns_zone)) and self.domain.endswith(f".{self.dns_zone}")),
            "dns_zone",
            f"None or the DNS zone holding {self.domain}",
            self.dns_zone,
        )
        check(
            bool(RFC3339_UTC.match(self.api_key_expires_at)),
            "api_key_expires_at",
            "an RFC 3339 UTC time such as 2027-06-30T00:00:00Z (the API key must expire)",
            self.api_key_expires_at,
        )
        check(
            self.key_protection_level in key_protection_levels(),
            "key_protection_level",
            f"one of {key_protection_levels()}",
            self.key_protection_level,
        )
        check(
            bool(_CIDR.match(self.private_cidr)),
            "private_cidr",
            "an RFC 1918 IPv4 CIDR /16 to /28",
            self.private_cidr,
        )
        check(self.db_engine in POSTGRES_ENGINES, "db_engine", f"one of {POSTGRES_ENGINES}", self.db_engine)
        check(
            bool(_NODE_TYPE.match(self.db_node_type)),
            "db_node_type",
            "a node type such as db-pro2-xxs",
            self.db_node_type,
        )
        check(5 <= self.db_volume_gb <= 10000, "db_volume_gb", "between 5 and 10000", self.db_volume_gb)
        check(
            self.db_volume_type in VOLUME_TYPES,
            "db_volume_type",
            f"one of {VOLUME_TYPES}",
            self.db_volume_type,
        )
        check(
            self.db_encryption_at_rest,
            "db_encryption_at_rest",
            "True (health data is encrypted at rest)",
            False,
        )
        check(self.backup_same_region, "backup_same_region", "True (backups stay in fr-par)", False)
        check(
            7 <= self.backup_retention_days <= 35,
            "backup_retention_days",
            "between 7 and 35",
            self.backup_retention_days,
        )
        check(
            1 <= self.backup_frequency_hours <= 24,
            "backup_frequency_hours",
            "between 1 and 24",
            self.backup_frequency_hours,
        )
        check(
            bool(re.match(r"^[a-z_][a-z0-9_]{0,62}$", self.db_name)),
            "db_name",
            "a PostgreSQL identifier",
            self.db_name,
        )
        for label, user in (("db_admin_user", self.db_admin_user), ("db_app_user", self.db_app_user)):
            check(bool(re.match(r"^[a-z_][a-z0-9_]{0,62}$", user)), label, "a PostgreSQL identifier", user)
        check(
            self.db_app_user != self.db_admin_user,
            "db_app_user",
            "a role other than the administrator",
            self.db_app_user,
        )
        check(
            1 <= self.key_rotation_days <= 365,
            "key_rotation_days",
            "between 1 and 365",
            self.key_rotation_days,
        )
        for principal in self.documents_admin_principals:
            check(
                bool(_PRINCIPAL.match(principal)),
                "documents_admin_principals",
                "entries of the form application_id:<uuid> or user_id:<uuid>",
                principal,
            )
        for label, days, (low, high) in (
            ("log_retention_days", self.log_retention_days, LOG_RETENTION),
            ("metrics_retention_days", self.metrics_retention_days, METRICS_RETENTION),
        ):
            check(low <= days <= high, label, f"between {low} and {high} (Cockpit)", days)
        for label, spec in (("api", self.api), ("web", self.web)):
            check(bool(_IMAGE.match(spec.image)), f"{label}.image", "a container image reference", spec.image)
            check(
                70 <= spec.cpu_limit_mvcpu <= 6000,
                f"{label}.cpu_limit_mvcpu",
                "between 70 and 6000",
                spec.cpu_limit_mvcpu,
            )
            check(
                128 <= spec.memory_limit_mb <= 32768,
                f"{label}.memory_limit_mb",
                "between 128 and 32768",
                spec.memory_limit_mb,
            )
            check(1 <= spec.min_scale <= 50, f"{label}.min_scale", "between 1 and 50", spec.min_scale)
            check(
                spec.min_scale <= spec.max_scale <= 50,
                f"{label}.max_scale",
                f"between min_scale ({spec.min_scale}) and 50",
                spec.max_scale,
            )
            check(1 <= spec.port <= 65535, f"{label}.port", "a TCP port", spec.port)
            check(
                spec.health_path.startswith("/"),
                f"{label}.health_path",
                "a path starting with /",
                spec.health_path,
            )
        return p
