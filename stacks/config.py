"""Typed, validated stack configuration.

The stack file (``stacks/Pulumi.<stack>.yaml``) is read once, here, into a frozen object. Every
problem is collected and reported together, each naming the config key and what is allowed, and
the program stops before it registers a single resource: a half-deployed health-data platform
is worse than none.

Keys live in the ``booking`` namespace. Secrets (the XKS proxy credential) must be set with
``pulumi config set --secret``; a plaintext value is refused, because it would sit in clear in the
stack file and in the state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import pulumi

from facts import xks
from facts.domains import DATA_DOMAINS
from facts.providers import allowed_regions
from stacks import s3ns_config
from stacks.s3ns_config import S3nsSettings

NAMESPACE = "booking"

Target = Literal["aws", "scaleway", "s3ns"]
TARGETS: tuple[Target, ...] = ("aws", "scaleway", "s3ns")

#: Regions where health data may live, per target (data/facts/providers.yaml).
ALLOWED_REGIONS: dict[str, tuple[str, ...]] = allowed_regions()

#: Config keys that must hold Pulumi secrets. The offline preview fills them with fake placeholders.
SECRET_KEYS: dict[str, tuple[str, ...]] = {
    "aws": ("xksAccessKeyId", "xksSecretAccessKey"),
    "scaleway": (),
    "s3ns": (),
}

_IMAGE = re.compile(r"^[a-z0-9]+([._/:@-][a-zA-Z0-9_.-]+)+$")
_DOMAIN = xks.ENDPOINT_HOST
_ACM_ARN = re.compile(r"^arn:aws:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")
_AWS_DB_CLASS = re.compile(r"^db\.[a-z0-9]+\.[a-z0-9]+$")
_SCW_NODE_TYPE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
_SCW_PROJECT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Fargate CPU units and the memory (MiB) each accepts (AWS ECS task size table).
_FARGATE_MEMORY: dict[int, range] = {
    256: range(512, 2048 + 1, 512),
    512: range(1024, 4096 + 1, 1024),
    1024: range(2048, 8192 + 1, 1024),
    2048: range(4096, 16384 + 1, 1024),
    4096: range(8192, 30720 + 1, 1024),
}


class ConfigError(ValueError):
    """The stack configuration is invalid. ``problems`` lists each one, key first."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"stack {stack!r}: invalid configuration ({len(problems)} problem(s)):\n{lines}")


@dataclass(frozen=True)
class XksSettings:
    """Where AWS KMS reaches the external key store proxy operated in France."""

    uri_endpoint: str
    uri_path: str
    connectivity: str
    vpc_endpoint_service_name: str | None
    #: External key id (in the HSM) for each data domain.
    key_ids: Mapping[str, str]
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]
    connect_timeout_seconds: int


@dataclass(frozen=True)
class AwsSizes:
    db_instance_class: str = "db.m6g.large"
    db_storage_gb: int = 100
    db_max_storage_gb: int = 500
    api_cpu: int = 512
    api_memory_mb: int = 1024
    api_count: int = 3
    web_cpu: int = 256
    web_memory_mb: int = 512
    web_count: int = 2


@dataclass(frozen=True)
class ScalewaySizes:
    db_node_type: str = "db-pro2-xxs"
    db_volume_gb: int = 100
    api_cpu_limit_mvcpu: int = 1000
    api_memory_limit_mb: int = 2048
    api_min_scale: int = 2
    api_max_scale: int = 10
    web_cpu_limit_mvcpu: int = 500
    web_memory_limit_mb: int = 1024
    web_min_scale: int = 2
    web_max_scale: int = 6


@dataclass(frozen=True)
class BookingConfig:
    """Everything the program needs, validated."""

    stack: str
    target: Target
    region: str
    environment: str
    domain: str
    api_image: str
    web_image: str
    backup_retention_days: int
    log_retention_days: int
    #: AWS: ACM certificate ARN for the HTTPS listener (in the stack's region).
    certificate_arn: str | None = None
    aws_sizes: AwsSizes = field(default_factory=AwsSizes)
    xks: XksSettings | None = None
    #: Scaleway: the project that holds every resource (None: the provider's default project).
    scaleway_project_id: str | None = None
    scaleway_sizes: ScalewaySizes = field(default_factory=ScalewaySizes)
    #: S3NS: project, certificate, key protection and sizes (stacks/s3ns_config.py).
    s3ns: S3nsSettings | None = None


class _Reader:
    """Reads keys of one namespace and records every problem instead of stopping at the first."""

    def __init__(self, config: pulumi.Config) -> None:
        self.config = config
        self.problems: list[str] = []

    def key(self, name: str) -> str:
        return f"{NAMESPACE}:{name}"

    def raw(self, name: str) -> str | None:
        return self.config.get(name)

    def is_secret(self, name: str) -> bool:
        return pulumi.runtime.is_config_secret(self.key(name))

    def fail(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def text(
        self,
        name: str,
        *,
        default: str | None = None,
        required: bool = True,
        pattern: re.Pattern[str] | None = None,
        allowed: tuple[str, ...] | None = None,
        describe: str = "",
    ) -> str | None:
        value = self.raw(name)
        if value is None or value == "":
            if default is None and required:
                self.fail(self.key(name), f"is required ({describe or 'a non-empty string'})")
            return default
        return self.check_text(self.key(name), value, pattern=pattern, allowed=allowed, describe=describe)

    def check_text(
        self,
        key: str,
        value: Any,
        *,
        pattern: re.Pattern[str] | None = None,
        allowed: tuple[str, ...] | None = None,
        describe: str = "",
    ) -> str | None:
        if not isinstance(value, str):
            self.fail(key, f"must be a string, got {type(value).__name__}")
            return None
        if allowed is not None and value not in allowed:
            self.fail(key, f"must be one of {', '.join(allowed)} (got {value!r})")
            return None
        if pattern is not None and not pattern.match(value):
            self.fail(key, f"must be {describe} (got {value!r})")
            return None
        return value

    def integer(self, key: str, value: Any, low: int, high: int) -> int | None:
        # Config values arrive as strings from the stack file, as numbers inside objects.
        if isinstance(value, bool):
            self.fail(key, f"must be an integer between {low} and {high}, got a boolean")
            return None
        try:
            number = int(value)
            if isinstance(value, float) and value != number:
                raise ValueError
        except (TypeError, ValueError):
            self.fail(key, f"must be an integer between {low} and {high} (got {value!r})")
            return None
        if not low <= number <= high:
            self.fail(key, f"must be between {low} and {high} (got {number})")
            return None
        return number

    def obj(self, name: str, required: bool = False) -> dict[str, Any]:
        value = self.raw(name)
        if value is None:
            if required:
                self.fail(self.key(name), "is required (a YAML mapping)")
            return {}
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            self.fail(self.key(name), "must be a YAML mapping")
            return {}
        if not isinstance(parsed, dict):
            self.fail(self.key(name), f"must be a YAML mapping, got {type(parsed).__name__}")
            return {}
        return parsed

    def unknown_fields(self, key: str, given: Mapping[str, Any], known: set[str]) -> None:
        for extra in sorted(set(given) - known):
            self.fail(f"{key}.{extra}", f"is not a known setting (known: {', '.join(sorted(known))})")


def _sizes(
    reader: _Reader,
    name: str,
    defaults: Any,
    limits: Mapping[str, tuple[int, int] | tuple[re.Pattern[str], str]],
) -> dict[str, Any]:
    """Reads an object of sizes: camelCase keys mapped to the dataclass's snake_case fields."""
    given = reader.obj(name)
    key = reader.key(name)
    reader.unknown_fields(key, given, set(limits))
    values: dict[str, Any] = {}
    for camel, limit in limits.items():
        snake = re.sub(r"([A-Z])", r"_\1", camel).lower()
        if camel not in given:
            values[snake] = getattr(defaults, snake)
            continue
        if isinstance(limit[0], int) and isinstance(limit[1], int):
            checked: Any = reader.integer(f"{key}.{camel}", given[camel], limit[0], limit[1])
        else:
            pattern, describe = limit
            checked = reader.check_text(f"{key}.{camel}", given[camel], pattern=pattern, describe=describe)
        values[snake] = checked if checked is not None else getattr(defaults, snake)
    return values


_AWS_SIZE_LIMITS: dict[str, tuple[int, int] | tuple[re.Pattern[str], str]] = {
    "dbInstanceClass": (_AWS_DB_CLASS, "an RDS instance class such as db.m6g.large"),
    "dbStorageGb": (20, 65536),
    "dbMaxStorageGb": (20, 65536),
    "apiCpu": (256, 4096),
    "apiMemoryMb": (512, 30720),
    "apiCount": (2, 50),
    "webCpu": (256, 4096),
    "webMemoryMb": (512, 30720),
    "webCount": (2, 50),
}

_SCW_SIZE_LIMITS: dict[str, tuple[int, int] | tuple[re.Pattern[str], str]] = {
    "dbNodeType": (_SCW_NODE_TYPE, "a Scaleway database node type such as db-pro2-xxs"),
    "dbVolumeGb": (5, 10000),
    "apiCpuLimitMvcpu": (70, 6000),
    "apiMemoryLimitMb": (128, 32768),
    "apiMinScale": (1, 50),
    "apiMaxScale": (1, 50),
    "webCpuLimitMvcpu": (70, 6000),
    "webMemoryLimitMb": (128, 32768),
    "webMinScale": (1, 50),
    "webMaxScale": (1, 50),
}


def _aws_sizes(reader: _Reader) -> AwsSizes:
    values = _sizes(reader, "sizes", AwsSizes(), _AWS_SIZE_LIMITS)
    sizes = AwsSizes(**values)
    key = reader.key("sizes")
    if sizes.db_max_storage_gb < sizes.db_storage_gb:
        reader.fail(f"{key}.dbMaxStorageGb", f"must be at least dbStorageGb ({sizes.db_storage_gb})")
    for service in ("api", "web"):
        cpu, memory = getattr(sizes, f"{service}_cpu"), getattr(sizes, f"{service}_memory_mb")
        if cpu not in _FARGATE_MEMORY:
            reader.fail(f"{key}.{service}Cpu", f"must be a Fargate CPU size: {sorted(_FARGATE_MEMORY)}")
        elif memory not in _FARGATE_MEMORY[cpu]:
            allowed = _FARGATE_MEMORY[cpu]
            reader.fail(
                f"{key}.{service}MemoryMb",
                f"must be between {allowed.start} and {allowed.stop - 1} in steps of {allowed.step} "
                f"for {service}Cpu {cpu} (got {memory})",
            )
    return sizes


def _scaleway_sizes(reader: _Reader) -> ScalewaySizes:
    sizes = ScalewaySizes(**_sizes(reader, "sizes", ScalewaySizes(), _SCW_SIZE_LIMITS))
    key = reader.key("sizes")
    for service in ("api", "web"):
        if getattr(sizes, f"{service}_max_scale") < getattr(sizes, f"{service}_min_scale"):
            reader.fail(f"{key}.{service}MaxScale", f"must be at least {service}MinScale")
    return sizes


def _secret(reader: _Reader, name: str, pattern: re.Pattern[str], describe: str) -> pulumi.Output[str] | None:
    key = reader.key(name)
    value = reader.raw(name)
    if value is None or value == "":
        reader.fail(key, f"is required: set it with `pulumi config set --secret {key} <value>` ({describe})")
        return None
    if not reader.is_secret(name):
        # Refuse rather than wrap: the plaintext is already in the stack file and would reach the state.
        reader.fail(
            key,
            f"is stored in plaintext; remove it and set it with `pulumi config set --secret {key} <value>`",
        )
        return None
    if not pattern.match(value):
        # Never echo a secret value back, not even in an error message.
        reader.fail(key, f"must be {describe} (the value given does not match; it is not shown)")
        return None
    return pulumi.Output.secret(value)


def _xks_endpoint(reader: _Reader, key: str, endpoint: Any) -> str | None:
    """https://<fully qualified name>, port 443, nothing else (AWS KMS XksProxyUriEndpoint)."""
    if endpoint is None:
        reader.fail(key, "is required (https://<fully qualified name>, port 443)")
        return None
    if not isinstance(endpoint, str):
        reader.fail(key, "must be a string such as https://xks.example.fr")
        return None
    parts = urlsplit(endpoint)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "https":
        reader.fail(key, f"must start with https:// (got {endpoint!r})")
    elif port not in (None, 443):
        reader.fail(key, f"must use port 443, AWS KMS connects to no other (got {port})")
    elif parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        reader.fail(key, "must be only https://<host>; the path goes in uriPath")
    elif not xks.ENDPOINT_HOST.match(parts.hostname or ""):
        reader.fail(key, f"must name a fully qualified DNS name, not {parts.hostname!r}")
    else:
        return endpoint
    return None


def _xks_uri_path(reader: _Reader, key: str, uri_path: Any) -> str | None:
    if uri_path is None:
        reader.fail(key, "is required (e.g. /booking/kms/xks/v1)")
    elif not isinstance(uri_path, str) or not 10 <= len(uri_path) <= 128:
        reader.fail(key, "must be 10 to 128 characters")
    elif not xks.URI_PATH.match(uri_path):
        reader.fail(key, f"must use only [a-zA-Z0-9/_-] and end with /kms/xks/v<version> (got {uri_path!r})")
    else:
        return uri_path
    return None


def _xks_key_ids(reader: _Reader, key: str, given: Any) -> dict[str, str] | None:
    if not isinstance(given, dict):
        reader.fail(key, f"is required: a mapping with one external key id per domain {DATA_DOMAINS}")
        return None
    reader.unknown_fields(key, given, set(DATA_DOMAINS))
    key_ids: dict[str, str] = {}
    for domain in DATA_DOMAINS:
        if domain not in given:
            reader.fail(f"{key}.{domain}", "is required (the key's id in the external key manager)")
            continue
        checked = reader.check_text(
            f"{key}.{domain}",
            given[domain],
            pattern=xks.KEY_ID,
            describe="1 to 128 characters of [a-zA-Z0-9_.-]",
        )
        if checked:
            key_ids[domain] = checked
    if len(set(key_ids.values())) != len(key_ids):
        reader.fail(key, "must name a different external key for each domain (crypto-shredding)")
        return None
    return key_ids if len(key_ids) == len(DATA_DOMAINS) else None


def _xks(reader: _Reader) -> XksSettings | None:
    given = reader.obj("xks", required=True)
    key = reader.key("xks")
    known = {
        "uriEndpoint",
        "uriPath",
        "connectivity",
        "vpcEndpointServiceName",
        "keyIds",
        "connectTimeoutSeconds",
    }
    reader.unknown_fields(key, given, known)
    endpoint = _xks_endpoint(reader, f"{key}.uriEndpoint", given.get("uriEndpoint"))
    uri_path = _xks_uri_path(reader, f"{key}.uriPath", given.get("uriPath"))
    connectivity = reader.check_text(
        f"{key}.connectivity", given.get("connectivity", "PUBLIC_ENDPOINT"), allowed=xks.CONNECTIVITY
    )
    vpc_service = given.get("vpcEndpointServiceName")
    if connectivity == "VPC_ENDPOINT_SERVICE" and not vpc_service:
        reader.fail(f"{key}.vpcEndpointServiceName", "is required when connectivity is VPC_ENDPOINT_SERVICE")
    if connectivity == "PUBLIC_ENDPOINT" and vpc_service:
        reader.fail(f"{key}.vpcEndpointServiceName", "applies only to connectivity VPC_ENDPOINT_SERVICE")
    key_ids = _xks_key_ids(reader, f"{key}.keyIds", given.get("keyIds"))
    timeout = reader.integer(
        f"{key}.connectTimeoutSeconds", given.get("connectTimeoutSeconds", 1200), 60, 3600
    )
    access_key_id = _secret(reader, "xksAccessKeyId", xks.ACCESS_KEY_ID, "20 to 30 characters of [A-Z2-7]")
    secret = _secret(reader, "xksSecretAccessKey", xks.SECRET_ACCESS_KEY, "43 to 64 base64 characters")
    if not (endpoint and uri_path and connectivity and key_ids and timeout and access_key_id and secret):
        return None
    return XksSettings(
        uri_endpoint=endpoint,
        uri_path=uri_path,
        connectivity=connectivity,
        vpc_endpoint_service_name=str(vpc_service) if vpc_service else None,
        key_ids=key_ids,
        access_key_id=access_key_id,
        secret_access_key=secret,
        connect_timeout_seconds=timeout,
    )


def load(stack: str | None = None, config: pulumi.Config | None = None) -> BookingConfig:
    """Reads and validates the ``booking:*`` configuration; raises ConfigError listing every problem."""
    stack = stack or pulumi.get_stack()
    reader = _Reader(config or pulumi.Config(NAMESPACE))

    # "keystore" stacks are dispatched by stacks/program.py before this loader runs.
    target = reader.text("target", allowed=(*TARGETS, "keystore"), describe=", ".join((*TARGETS, "keystore")))
    if target == "keystore":
        reader.fail(reader.key("target"), "keystore stacks are read by components/keystore, not this loader")
    if target is None or reader.problems:
        raise ConfigError(stack, reader.problems)
    allowed_regions = ALLOWED_REGIONS[target]
    region = reader.text("region", default=allowed_regions[0], allowed=allowed_regions)
    environment = reader.text(
        "environment",
        default="production",
        pattern=re.compile(r"^[a-z][a-z0-9-]{1,20}$"),
        describe="2 to 21 characters of [a-z0-9-], starting with a letter",
    )
    domain = reader.text(
        "domain", pattern=_DOMAIN, describe="a fully qualified DNS name such as rdv.example.fr"
    )
    images = reader.obj("images", required=True)
    reader.unknown_fields(reader.key("images"), images, {"api", "web"})
    image_values: dict[str, str | None] = {}
    for service in ("api", "web"):
        if not images.get(service):
            image_values[service] = None
            if images:  # an absent or empty mapping was already reported as a whole
                reader.fail(f"{reader.key('images')}.{service}", "is required (a container image reference)")
            continue
        image_values[service] = reader.check_text(
            f"{reader.key('images')}.{service}",
            images[service],
            pattern=_IMAGE,
            describe="a container image reference such as registry.example.fr/booking/api:1.4.2",
        )
    backup_days = reader.integer(
        reader.key("backupRetentionDays"), reader.raw("backupRetentionDays") or 35, 7, 35
    )
    log_days = reader.integer(reader.key("logRetentionDays"), reader.raw("logRetentionDays") or 365, 30, 3653)
    # Read by the policies (BK-PROV-002): the stack's data requires a SecNumCloud-qualified offer.
    reader.text("requireSecNumCloud", required=False, allowed=("true", "false"), describe="true or false")

    extra: dict[str, Any] = {}
    if target == "aws":
        cert = reader.text(
            "certificateArn",
            pattern=_ACM_ARN,
            describe="an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)",
        )
        if cert and region and (match := _ACM_ARN.match(cert)) and match["region"] != region:
            reader.fail(reader.key("certificateArn"), f"must be in {region}, where the load balancer is")
        extra = {"certificate_arn": cert, "aws_sizes": _aws_sizes(reader), "xks": _xks(reader)}
    elif target == "s3ns":
        extra = {"s3ns": s3ns_config.read(reader, region, _sizes)}
    else:
        project = reader.text(
            "scalewayProjectId",
            required=False,
            pattern=_SCW_PROJECT_ID,
            describe="a Scaleway project id (a UUID)",
        )
        extra = {"scaleway_project_id": project, "scaleway_sizes": _scaleway_sizes(reader)}

    s3ns_config.refuse_other_targets_keys(reader, target)
    if reader.problems:
        raise ConfigError(stack, reader.problems)
    # Every value below was checked above; the asserts narrow types for mypy, they cannot fire.
    assert region and environment and domain and backup_days and log_days
    assert image_values["api"] and image_values["web"]
    return BookingConfig(
        stack=stack,
        target=target,  # type: ignore[arg-type]
        region=region,
        environment=environment,
        domain=domain,
        api_image=image_values["api"],
        web_image=image_values["web"],
        backup_retention_days=backup_days,
        log_retention_days=log_days,
        **extra,
    )
