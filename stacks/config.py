"""Typed, validated stack configuration (pydantic models).

The stack file (``stacks/Pulumi.<stack>.yaml``) is read once, here, into a frozen model. Every
problem is collected and reported together, each naming the config key and what is allowed, and
the program stops before it registers a single resource: a half-deployed health-data platform
is worse than none. Unknown keys are refused at every level, with the known keys listed.

Keys live in the ``booking`` namespace. Secrets (the XKS proxy credential) must be set with
``pulumi config set --secret``; a plaintext value is refused, because it would sit in clear in the
stack file and in the state. The README's configuration table is generated from these models
(``scripts/config_table.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.aws.names import PREFIX as _AWS_PREFIX
from components.scaleway.args import LOG_RETENTION as SCW_LOG_RETENTION
from components.scaleway.args import PROJECT_ID as SCW_PROJECT_ID
from components.scaleway.args import RFC3339_UTC
from facts import xks as xks_facts
from facts.domains import DATA_DOMAINS
from facts.providers import allowed_regions
from stacks.config_checks import (
    integer,
    one_of,
    parse_mapping,
    problem,
    raise_all,
    secret,
    text,
    xks_endpoint,
    xks_uri_path,
)

NAMESPACE = "booking"

Target = Literal["aws", "scaleway", "s3ns"]
TARGETS: tuple[Target, ...] = ("aws", "scaleway", "s3ns")
#: Targets read by another loader (components/keystore/config.py), dispatched by stacks/program.py.
OTHER_TARGETS: tuple[str, ...] = ("keystore",)

#: Regions where health data may live, per target (data/facts/providers.yaml).
ALLOWED_REGIONS: dict[str, tuple[str, ...]] = allowed_regions()

#: Config keys that must hold Pulumi secrets. The offline preview fills them with fake placeholders.
SECRET_KEYS: dict[str, tuple[str, ...]] = {
    "aws": ("xksAccessKeyId", "xksSecretAccessKey"),
    "scaleway": (),
    "s3ns": (),
}

_IMAGE = re.compile(r"^[a-z0-9]+([._/:@-][a-zA-Z0-9_.-]+)+$")
_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{1,20}$")
_ACM_ARN = re.compile(r"^arn:aws:acm:(?P<region>[a-z0-9-]+):\d{12}:certificate/[0-9a-f-]{36}$")
_AWS_DB_CLASS = re.compile(r"^db\.[a-z0-9]+\.[a-z0-9]+$")
_SCW_NODE_TYPE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
_SCW_PRINCIPAL = re.compile(
    r"^(user_id|application_id):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)

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


class _Settings(BaseModel):
    """camelCase keys as in the stack file; unknown keys refused; frozen once read."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
    )


_ImageReference = Annotated[
    str,
    BeforeValidator(
        text(_IMAGE, "a container image reference such as registry.example.fr/booking/api:1.4.2")
    ),
]


class Images(_Settings):
    api: _ImageReference
    web: _ImageReference


class AwsSizes(_Settings):
    db_instance_class: Annotated[
        str, BeforeValidator(text(_AWS_DB_CLASS, "an RDS instance class such as db.m6g.large"))
    ] = "db.m6g.large"
    db_storage_gb: Annotated[int, BeforeValidator(integer(20, 65536))] = 100
    db_max_storage_gb: Annotated[int, BeforeValidator(integer(20, 65536))] = 500
    api_cpu: Annotated[int, BeforeValidator(integer(256, 4096))] = 512
    api_memory_mb: Annotated[int, BeforeValidator(integer(512, 30720))] = 1024
    api_count: Annotated[int, BeforeValidator(integer(2, 50))] = 3
    web_cpu: Annotated[int, BeforeValidator(integer(256, 4096))] = 256
    web_memory_mb: Annotated[int, BeforeValidator(integer(512, 30720))] = 512
    web_count: Annotated[int, BeforeValidator(integer(2, 50))] = 2

    @model_validator(mode="after")
    def _consistent(self) -> AwsSizes:
        problems = []
        if self.db_max_storage_gb < self.db_storage_gb:
            problems.append(("dbMaxStorageGb", f"must be at least dbStorageGb ({self.db_storage_gb})"))
        for service in ("api", "web"):
            cpu, memory = getattr(self, f"{service}_cpu"), getattr(self, f"{service}_memory_mb")
            if cpu not in _FARGATE_MEMORY:
                problems.append((f"{service}Cpu", f"must be a Fargate CPU size: {sorted(_FARGATE_MEMORY)}"))
            elif memory not in _FARGATE_MEMORY[cpu]:
                allowed = _FARGATE_MEMORY[cpu]
                problems.append(
                    (
                        f"{service}MemoryMb",
                        f"must be between {allowed.start} and {allowed.stop - 1} in steps of {allowed.step} "
                        f"for {service}Cpu {cpu} (got {memory})",
                    )
                )
        raise_all(problems)
        return self


class ScalewaySizes(_Settings):
    db_node_type: Annotated[
        str, BeforeValidator(text(_SCW_NODE_TYPE, "a Scaleway database node type such as db-pro2-xxs"))
    ] = "db-pro2-xxs"
    db_volume_gb: Annotated[int, BeforeValidator(integer(5, 10000))] = 100
    api_cpu_limit_mvcpu: Annotated[int, BeforeValidator(integer(70, 6000))] = 1000
    api_memory_limit_mb: Annotated[int, BeforeValidator(integer(128, 32768))] = 2048
    api_min_scale: Annotated[int, BeforeValidator(integer(1, 50))] = 2
    api_max_scale: Annotated[int, BeforeValidator(integer(1, 50))] = 10
    web_cpu_limit_mvcpu: Annotated[int, BeforeValidator(integer(70, 6000))] = 500
    web_memory_limit_mb: Annotated[int, BeforeValidator(integer(128, 32768))] = 1024
    web_min_scale: Annotated[int, BeforeValidator(integer(1, 50))] = 2
    web_max_scale: Annotated[int, BeforeValidator(integer(1, 50))] = 6

    @model_validator(mode="after")
    def _consistent(self) -> ScalewaySizes:
        raise_all(
            [
                (f"{service}MaxScale", f"must be at least {service}MinScale")
                for service in ("api", "web")
                if getattr(self, f"{service}_max_scale") < getattr(self, f"{service}_min_scale")
            ]
        )
        return self


_KEY_ID = Annotated[str, BeforeValidator(text(xks_facts.KEY_ID, "1 to 128 characters of [a-zA-Z0-9_.-]"))]
#: One external key id per data domain (facts.domains), so the domains cannot drift apart.
XksKeyIds: type[_Settings] = create_model(  # type: ignore[call-overload]
    "XksKeyIds",
    __base__=_Settings,
    __doc__="The key's id in the external key manager, for each data domain.",
    **{
        domain: (_KEY_ID, Field(description=f"the {domain} key's id in the external key manager"))
        for domain in DATA_DOMAINS
    },
)


def _distinct(key_ids: BaseModel) -> BaseModel:
    if len(set(key_ids.model_dump().values())) != len(DATA_DOMAINS):
        raise problem("must name a different external key for each domain (crypto-shredding)")
    return key_ids


class XksSettings(_Settings):
    """Where AWS KMS reaches the external key store proxy operated in France."""

    uri_endpoint: Annotated[str, BeforeValidator(xks_endpoint)] = Field(
        description="https:// and a fully qualified name, port 443 (AWS KMS XksProxyUriEndpoint)"
    )
    uri_path: Annotated[str, BeforeValidator(xks_uri_path)] = Field(
        description="e.g. /booking/kms/xks/v1: [a-zA-Z0-9/_-], ends /kms/xks/v<version>, 10 to 128 characters"
    )
    connectivity: Annotated[str, BeforeValidator(one_of(*xks_facts.CONNECTIVITY))] = "PUBLIC_ENDPOINT"
    vpc_endpoint_service_name: str | None = Field(
        default=None, description="required with connectivity VPC_ENDPOINT_SERVICE, refused otherwise"
    )
    key_ids: Annotated[XksKeyIds, AfterValidator(_distinct)] = Field(  # type: ignore[valid-type]
        description=f"one distinct external key id per data domain: {', '.join(DATA_DOMAINS)}"
    )
    connect_timeout_seconds: Annotated[int, BeforeValidator(integer(60, 3600))] = 1200

    @model_validator(mode="after")
    def _connectivity(self) -> XksSettings:
        if self.connectivity == "VPC_ENDPOINT_SERVICE" and not self.vpc_endpoint_service_name:
            raise_all([("vpcEndpointServiceName", "is required when connectivity is VPC_ENDPOINT_SERVICE")])
        if self.connectivity == "PUBLIC_ENDPOINT" and self.vpc_endpoint_service_name:
            raise_all([("vpcEndpointServiceName", "applies only to connectivity VPC_ENDPOINT_SERVICE")])
        return self

    @property
    def key_id_map(self) -> dict[str, str]:
        """External key id by data domain."""
        ids: BaseModel = self.key_ids
        return dict(ids.model_dump())


class StackSettings(_Settings):
    """Keys every target reads."""

    target: str = Field(
        description=f"{', '.join(TARGETS)} (or {', '.join(OTHER_TARGETS)}: the key store host)"
    )
    region: str = Field(
        default="", description="the target's region (data/facts/providers.yaml); default: its first one"
    )
    environment: Annotated[
        str, BeforeValidator(text(_ENVIRONMENT, "2 to 21 characters of [a-z0-9-], starting with a letter"))
    ] = "production"
    domain: Annotated[
        str,
        BeforeValidator(text(xks_facts.ENDPOINT_HOST, "a fully qualified DNS name such as rdv.example.fr")),
    ] = Field(description="the public name of the service")
    images: Annotated[Images, BeforeValidator(parse_mapping)] = Field(
        description="the container images: api, web"
    )
    backup_retention_days: Annotated[int, BeforeValidator(integer(7, 35))] = 35
    log_retention_days: Annotated[int, BeforeValidator(integer(30, 3653))] = 365
    require_sec_num_cloud: bool = Field(
        default=False,
        description="true when the stack's data requires a SecNumCloud-qualified offer (loi SREN art. 31): "
        "the policies then fail any resource outside its provider's qualified perimeter (BK-PROV-002)",
    )

    #: The Pulumi stack's name, set by :func:`validate`: not a config key.
    _stack: str = PrivateAttr(default="")

    @field_validator("region", mode="before")
    @classmethod
    def _region(cls, value: Any, info: ValidationInfo) -> str:
        allowed = ALLOWED_REGIONS[str(cls.model_fields["target"].default)]
        if value is None or value == "":
            return allowed[0]
        return one_of(*allowed)(value)

    @property
    def stack(self) -> str:
        return self._stack

    @property
    def api_image(self) -> str:
        return self.images.api

    @property
    def web_image(self) -> str:
        return self.images.web


class AwsStackSettings(StackSettings):
    """Option A: AWS, every data key in the French external key store."""

    target: Literal["aws"] = "aws"
    certificate_arn: Annotated[
        str,
        BeforeValidator(
            text(_ACM_ARN, "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)")
        ),
    ] = Field(description="ACM certificate for the HTTPS listener, in the stack's region")
    sizes: Annotated[AwsSizes, BeforeValidator(parse_mapping)] = Field(
        default_factory=AwsSizes, description="RDS and Fargate sizes"
    )
    xks: Annotated[XksSettings, BeforeValidator(parse_mapping)] = Field(
        description="the external key store proxy"
    )
    prefix: Annotated[
        str | None,
        BeforeValidator(text(_AWS_PREFIX, "3 to 30 of [a-z0-9-], a letter first, no '--', no trailing '-'")),
    ] = Field(
        default=None,
        description="prefix of every physical name (key store, aliases, RDS identifier, cluster, trail, "
        "WAF log group), so two stacks can share an account and region; default: the stack name",
    )
    xks_access_key_id: Annotated[
        SecretStr,
        BeforeValidator(secret(NAMESPACE, xks_facts.ACCESS_KEY_ID, "20 to 30 characters of [A-Z2-7]")),
    ] = Field(
        description="the proxy credential's key id, 20 to 30 characters of [A-Z2-7]; secret only: "
        "`pulumi config set --secret booking:xksAccessKeyId <value>` (a plaintext value is refused)"
    )
    xks_secret_access_key: Annotated[
        SecretStr,
        BeforeValidator(secret(NAMESPACE, xks_facts.SECRET_ACCESS_KEY, "43 to 64 base64 characters")),
    ] = Field(
        description="the proxy credential's secret, 43 to 64 base64 characters; secret only: "
        "`pulumi config set --secret booking:xksSecretAccessKey <value>` (a plaintext value is refused)"
    )

    @model_validator(mode="after")
    def _certificate_region(self) -> AwsStackSettings:
        match = _ACM_ARN.match(self.certificate_arn)
        if match and match["region"] != self.region:
            raise_all([("certificateArn", f"must be in {self.region}, where the load balancer is")])
        return self

    @property
    def aws_sizes(self) -> AwsSizes:
        return self.sizes

    @property
    def name_prefix(self) -> str:
        """booking:prefix, or the stack name when it is not set."""
        return self.prefix or self.stack

    def xks_credential(self) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The proxy credential as Pulumi secrets (never plaintext in the state)."""
        return (
            pulumi.Output.secret(self.xks_access_key_id.get_secret_value()),
            pulumi.Output.secret(self.xks_secret_access_key.get_secret_value()),
        )


class ScalewayStackSettings(StackSettings):
    """Option B: Scaleway, keys in Scaleway Key Manager."""

    target: Literal["scaleway"] = "scaleway"
    scaleway_project_id: Annotated[
        str, BeforeValidator(text(SCW_PROJECT_ID, "a Scaleway project id (a UUID)"))
    ] = Field(
        description="the project holding every resource; every IAM rule is scoped to it (Scaleway requires "
        "a project or organization per rule)"
    )
    deployer_principal: Annotated[
        str, BeforeValidator(text(_SCW_PRINCIPAL, "user_id:<uuid> or application_id:<uuid>"))
    ] = Field(
        description="who runs `pulumi up` (user_id:<uuid> or application_id:<uuid>): kept in the documents "
        "bucket policy so the deployer does not lock itself out"
    )
    dns_zone: (
        Annotated[str, BeforeValidator(text(xks_facts.ENDPOINT_HOST, "a DNS zone such as example.fr"))] | None
    ) = Field(
        default=None,
        description="the Scaleway Domains zone holding `domain`: the stack writes the CNAME records and binds "
        "the custom domains in one run; unset: DNS is elsewhere (see externalDnsReady)",
    )
    external_dns_ready: bool = Field(
        default=False,
        description="DNS elsewhere: true once the CNAME records exported by the first run exist; the custom "
        "domains are bound then",
    )
    log_retention_days: Annotated[int, BeforeValidator(integer(*SCW_LOG_RETENTION))] = 365
    api_key_expires_at: Annotated[
        str, BeforeValidator(text(RFC3339_UTC, "an RFC 3339 UTC time such as 2027-06-30T00:00:00Z"))
    ] = Field(
        description="when the API's IAM API key expires (RFC 3339 UTC); rotate it before "
        "(docs/deploy-scaleway.md): a key that never expires outlives whoever forgot it"
    )

    @model_validator(mode="after")
    def _dns_zone_holds_domain(self) -> ScalewayStackSettings:
        if self.dns_zone is not None and not self.domain.endswith(f".{self.dns_zone}"):
            raise_all([("dnsZone", f"must be the zone holding {self.domain} (got {self.dns_zone!r})")])
        if self.dns_zone is not None and self.external_dns_ready:
            raise_all([("externalDnsReady", "applies only when dnsZone is unset (DNS elsewhere)")])
        return self

    sizes: Annotated[ScalewaySizes, BeforeValidator(parse_mapping)] = Field(
        default_factory=ScalewaySizes, description="database and container sizes"
    )

    @property
    def scaleway_sizes(self) -> ScalewaySizes:
        return self.sizes


# Option C's model lives beside its stack builder; it builds on the classes above.
from stacks.s3ns_config import S3nsStackSettings  # noqa: E402

MODELS: dict[str, type[StackSettings]] = {
    "aws": AwsStackSettings,
    "scaleway": ScalewayStackSettings,
    "s3ns": S3nsStackSettings,
}
BookingConfig = AwsStackSettings | ScalewayStackSettings | S3nsStackSettings


def _field_at(model: type[BaseModel], path: tuple[str | int, ...]) -> tuple[type[BaseModel] | None, Any]:
    """The model owning the last key of ``path`` (camelCase) and that key's field, if any."""
    owner: type[BaseModel] | None = model
    field = None
    for step in path:
        if owner is None:
            return None, None
        field = next((f for name, f in owner.model_fields.items() if to_camel(name) == step), None)
        if field is None:
            return owner, None
        inner = field.annotation
        owner = inner if isinstance(inner, type) and issubclass(inner, BaseModel) else _annotated_model(field)
    return owner, field


def _annotated_model(field: Any) -> type[BaseModel] | None:
    for candidate in (field.annotation, *getattr(field, "metadata", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _known(model: type[BaseModel]) -> str:
    return ", ".join(sorted(to_camel(name) for name in model.model_fields))


def _messages(model: type[StackSettings], error: ValidationError) -> Iterator[str]:
    other_targets = {t: m for t, m in MODELS.items() if m is not model}
    for item in error.errors(include_input=False):
        loc = tuple(item["loc"])
        key = f"{NAMESPACE}:{'.'.join(str(part) for part in loc)}"
        context = item.get("ctx") or {}
        if item["type"] == "booking":
            problems = context.get("problems") or [(context.get("at", ""), context["message"])]
            for at, message in problems:
                path = ".".join(str(part) for part in (*loc, at) if part != "")
                yield f"{NAMESPACE}:{path}: {message}"
        elif item["type"] == "extra_forbidden":
            owner, _ = _field_at(model, loc[:-1]) if len(loc) > 1 else (model, None)
            elsewhere = [
                t for t, m in other_targets.items() if len(loc) == 1 and loc[0] in _known(m).split(", ")
            ]
            if elsewhere:
                yield f"{key}: applies only to target {', '.join(elsewhere)}"
            else:
                yield f"{key}: is not a known setting (known: {_known(owner) if owner else '?'})"
        elif item["type"] == "missing":
            _, field = _field_at(model, loc)
            describe = field.description if field is not None and field.description else ""
            yield f"{key}: is required ({describe})" if describe else f"{key}: is required"
        else:
            yield f"{key}: {item['msg']}"


def raw_config() -> tuple[dict[str, Any], frozenset[str]]:
    """Every ``booking:*`` value the engine passes (objects still JSON text) and the secret keys."""
    prefix = f"{NAMESPACE}:"
    # The engine hands the program its config either set in the runtime or in PULUMI_CONFIG.
    every = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    values = {key.removeprefix(prefix): value for key, value in every.items() if key.startswith(prefix)}
    secret = frozenset(
        key for key in (f"{prefix}{name}" for name in values) if pulumi.runtime.is_config_secret(key)
    )
    return values, secret


def validate(
    stack: str, values: Mapping[str, Any], secret_keys: frozenset[str] = frozenset()
) -> BookingConfig:
    """Validates ``booking:*`` values (keys without the namespace); raises ConfigError listing every problem."""
    target = values.get("target")
    allowed = (*TARGETS, *OTHER_TARGETS)
    if target is None or target == "":
        raise ConfigError(stack, [f"{NAMESPACE}:target: is required ({', '.join(allowed)})"])
    if target not in allowed:
        raise ConfigError(
            stack, [f"{NAMESPACE}:target: must be one of {', '.join(allowed)} (got {target!r})"]
        )
    if target not in MODELS:
        raise ConfigError(
            stack, [f"{NAMESPACE}:target: {target} stacks are read by components/{target}, not this loader"]
        )
    model = MODELS[target]
    given = {key: value for key, value in values.items() if value != ""}
    try:
        settings = model.model_validate(given, context={"secret_keys": secret_keys})
    except ValidationError as error:
        # `from None`: the pydantic error holds the inputs, secrets among them.
        raise ConfigError(stack, list(_messages(model, error))) from None
    settings._stack = stack
    if isinstance(settings, AwsStackSettings) and not _AWS_PREFIX.match(settings.name_prefix):
        raise ConfigError(
            stack,
            [
                f"{NAMESPACE}:prefix: is required: the stack name {stack!r} is not a valid name prefix "
                "(3 to 30 of [a-z0-9-], a letter first, no '--', no trailing '-')"
            ],
        )
    return settings  # type: ignore[return-value]


def load(stack: str | None = None) -> BookingConfig:
    """Reads and validates the ``booking:*`` configuration; raises ConfigError listing every problem."""
    values, secret_keys = raw_config()
    return validate(stack or pulumi.get_stack(), values, secret_keys)
