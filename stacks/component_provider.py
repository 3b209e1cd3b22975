"""The platforms as a Pulumi component package, for programs in TypeScript, Go, C#, Java or YAML.

``PulumiPlugin.yaml`` at the repository root names this file; a consumer runs ``pulumi package add``
on the repository (or a tag of it) and gets an SDK in its own language. The SDK's Python component
host (``pulumi.provider.experimental``) infers the schema from the args classes below; two things the
inference cannot express are added to its schema here, from the same single sources the Python program
uses: every input's description (the config models' field docs, which the README table shows, read by
:func:`stacks.config_docs.describe`) and ``secret: true`` on the credentials (``stacks.config.SECRET_KEYS``).

Each component takes the keys of its stack configuration (``booking:*`` without the namespace, the
same names and limits as the README's table), validates them with the same pydantic model, then builds
exactly what ``stacks/program.py`` builds for that target: its explicit provider, pinned to the
validated region, and the platform under it. Values are plain (``plain: true`` in the schema) because
the components name and check resources with them before any exists; the credentials are the
exception: secret inputs, checked when their value is known and never shown.
"""

# No `from __future__ import annotations`: the component host reads these annotations as live types.
import json
import sys
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, TypeVar

import pulumi
from pulumi.provider import main as serve_provider
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case
from pydantic import BaseModel, PrivateAttr, SecretStr, ValidationError

from components import __version__
from components.aws import AwsBookingPlatform as AwsPlatform
from components.keystore import KeystoreHost as KeystoreHostComponent
from components.keystore import KeystoreStackConfig
from components.keystore.config import HsmPath as KeystoreHsmPath
from components.keystore.config import KeystoreConfigError
from components.keystore.config import PinnedPackage as KeystorePinnedPackage
from components.s3ns import S3nsBookingPlatform as S3nsPlatform
from components.scaleway import ScalewayBookingPlatform as ScalewayPlatform
from facts import xks as xks_facts
from stacks import aws_stack, config, keystore_stack, s3ns_stack, scaleway_stack
from stacks.config_docs import describe
from stacks.s3ns_config import S3nsEkmSettings as S3nsEkmSettingsModel
from stacks.s3ns_config import S3nsServiceAgentSettings as S3nsServiceAgentSettingsModel
from stacks.s3ns_config import S3nsSizes as S3nsSizesModel
from stacks.s3ns_config import S3nsStackSettings, check_provider_credentials

#: The package's name: the type tokens read ``sovereign-booking:index:<Component>``.
PACKAGE = "sovereign-booking"
#: The npm name of the SDK `pulumi package add` generates for a TypeScript program.
NODE_PACKAGE = "@sovereign-booking/components"


# --- Inputs, typed as the component host's schema inference reads them ------------------------------
# Field names are the config models' (snake_case here, camelCase in the schema and in every SDK).


class Images(TypedDict):
    """The container images of the service."""

    api: str
    web: str


class AwsSizes(TypedDict, total=False):
    """RDS and Fargate sizes (every key optional: the defaults suit a national campaign)."""

    db_instance_class: str
    db_storage_gb: int
    db_max_storage_gb: int
    api_cpu: int
    api_memory_mb: int
    api_count: int
    web_cpu: int
    web_memory_mb: int
    web_count: int


class XksSettings(TypedDict):
    """Where AWS KMS reaches the external key store proxy operated in France."""

    uri_endpoint: str
    uri_path: str
    connectivity: NotRequired[str]
    vpc_endpoint_service_name: NotRequired[str]
    key_ids: dict[str, str]
    connect_timeout_seconds: NotRequired[int]


class ScalewaySizes(TypedDict, total=False):
    """Database and container sizes."""

    db_node_type: str
    db_volume_gb: int
    api_cpu_limit_mvcpu: int
    api_memory_limit_mb: int
    api_min_scale: int
    api_max_scale: int
    web_cpu_limit_mvcpu: int
    web_memory_limit_mb: int
    web_min_scale: int
    web_max_scale: int


class S3nsSizes(TypedDict, total=False):
    """Cloud SQL and Cloud Run sizes."""

    db_tier: str
    db_disk_gb: int
    db_max_disk_gb: int
    api_cpu: int
    api_memory_mb: int
    api_min_instances: int
    api_max_instances: int
    web_cpu: int
    web_memory_mb: int
    web_min_instances: int
    web_max_instances: int


class _PlatformArgs(TypedDict):
    """Keys every platform reads (StackSettings)."""

    domain: str
    images: Images
    region: NotRequired[str]
    environment: NotRequired[str]
    backup_retention_days: NotRequired[int]
    log_retention_days: NotRequired[int]


class AwsBookingPlatformArgs(_PlatformArgs):
    """Option A's keys (AwsStackSettings)."""

    prefix: NotRequired[str]
    certificate_arn: str
    xks: XksSettings
    xks_access_key_id: pulumi.Input[str]
    xks_secret_access_key: pulumi.Input[str]
    sizes: NotRequired[AwsSizes]


class ScalewayBookingPlatformArgs(_PlatformArgs):
    """Option B's keys (ScalewayStackSettings)."""

    scaleway_project_id: str
    deployer_principal: str
    api_key_expires_at: str
    dns_zone: NotRequired[str]
    external_dns_ready: NotRequired[bool]
    sizes: NotRequired[ScalewaySizes]


class S3nsServiceAgentSettings(TypedDict):
    """Service agents given as config: the universe offers no API to create them."""

    cloud_sql: str
    secret_manager: str
    cloud_run: str
    logging: str


class S3nsEkmSettings(TypedDict):
    """The ministry's external key manager in France, reached by Cloud EKM over the VPC."""

    hostname: str
    server_certificate: str
    service_directory_service: str
    key_paths: dict[str, str]


class S3nsBookingPlatformArgs(_PlatformArgs):
    """Option C's keys (S3nsStackSettings)."""

    project_id: str
    certificate: str
    key_protection_level: NotRequired[str]
    service_agents: S3nsServiceAgentSettings
    ekm: NotRequired[S3nsEkmSettings]
    sizes: NotRequired[S3nsSizes]


class PinnedPackage(TypedDict):
    """A vendor package fetched over HTTPS and installed only if its SHA-256 matches."""

    url: str
    sha256: str


class HsmPath(TypedDict):
    """The path to the ministry's HSM: a Site-to-Site VPN, one VPN gateway per zone."""

    kind: NotRequired[str]
    customer_gateway_ip: str
    customer_asn: int
    gateway_type: NotRequired[str]


class KeystoreHostArgs(TypedDict):
    """The key store host's keys (KeystoreStackConfig, the stack file's booking:keystore object)."""

    project_id: str
    endpoint_hostname: str
    path_prefix: NotRequired[str]
    zones: NotRequired[list[str]]
    instance_type: NotRequired[str]
    image: NotRequired[str]
    hsm_module: str
    hsm_token_label: str
    hsm_kind: NotRequired[str]
    hsm_client_packages: NotRequired[list[str]]
    hsm_client: NotRequired[list[PinnedPackage]]
    hsm_cidrs: NotRequired[list[str]]
    hsm_path: NotRequired[HsmPath]
    dns_zone: NotRequired[str]
    allowed_key_ids: list[str]
    access_key_ids: list[str]
    tls_certificate_pem: str
    mtls_client_ca_pem: NotRequired[str]
    mtls_client_subject: NotRequired[str]
    proxy_repository: str
    proxy_ref: str
    proxy_commit_signers: list[str]
    private_network_cidr: NotRequired[str]
    custodian_cidrs: NotRequired[list[str]]


#: Schema type name -> the config model whose field docs describe it.
TYPE_MODELS: dict[str, type[BaseModel]] = {
    "Images": config.Images,
    "AwsSizes": config.AwsSizes,
    "XksSettings": config.XksSettings,
    "ScalewaySizes": config.ScalewaySizes,
    "S3nsSizes": S3nsSizesModel,
    "S3nsServiceAgentSettings": S3nsServiceAgentSettingsModel,
    "S3nsEkmSettings": S3nsEkmSettingsModel,
    "PinnedPackage": KeystorePinnedPackage,
    "HsmPath": KeystoreHsmPath,
}


# --- Validation: the stack config's model, with the component's inputs -------------------------------


_M = TypeVar("_M", bound=config.StackSettings)


class InputsError(ValueError):
    """The component's inputs are invalid: one line, every problem named by its input path."""


class _AwsComponentSettings(config.AwsStackSettings):
    """AwsStackSettings whose credential arrives as secret inputs, not as stack config (checked apart)."""

    xks_access_key_id: SecretStr | None = None  # type: ignore[assignment]
    xks_secret_access_key: SecretStr | None = None  # type: ignore[assignment]
    _credential: tuple[pulumi.Output[str], pulumi.Output[str]] | None = PrivateAttr(default=None)

    def xks_credential(self) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        assert self._credential is not None, "set by _aws_settings before use"
        return self._credential


def _contains_output(value: Any) -> bool:
    if isinstance(value, pulumi.Output):
        return True
    if isinstance(value, Mapping):
        return any(_contains_output(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_contains_output(v) for v in value)
    return False


def _camel_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {camel_case(str(k)): _camel_keys(v) for k, v in value.items()}
    return value


def _validate(
    model: type[_M],
    component: str,
    name: str,
    inputs: Mapping[str, Any],
    secret: frozenset[str] = frozenset(),
) -> _M:
    """The model from the plain inputs; every problem at once, each named by its camelCase input path."""
    problems = [
        f"{camel_case(key)}: must be a plain value, known when the component is built (the components "
        "name and check their resources with it), not an output of another resource"
        for key, value in inputs.items()
        if key not in secret and _contains_output(value)
    ]
    # Validated under the schema's (camelCase) names, so that every message names the input as the
    # consumer wrote it (sizes.dbDiskGb), in any language.
    plain = _camel_keys({k: v for k, v in inputs.items() if k not in secret and not _contains_output(v)})
    settings = None
    try:
        settings = model.model_validate(plain)
    except ValidationError as error:
        # The stack loader's messages ("booking:xks.uriPath: ..."), without the config namespace.
        problems += [m.removeprefix(f"{config.NAMESPACE}:") for m in config._messages(model, error)]
    if problems or settings is None:
        raise InputsError(f"{component} {name!r}: invalid inputs ({len(problems)}): {'; '.join(problems)}")
    settings._stack = pulumi.get_stack()
    return settings


def _secret_input(value: Any, key: str, component: str, name: str) -> pulumi.Output[str]:
    """A credential: a secret input (plaintext refused, as in the stack file), checked against the same
    pattern as the stack config (facts.xks) once its value is known, and never echoed."""
    field = camel_case(key)
    prefix = f"{component} {name!r}: invalid inputs (1): {field}"
    if not isinstance(value, pulumi.Output):
        raise InputsError(
            f"{prefix}: must be a secret (pulumi.secret(...) or config.requireSecret(...)); a plaintext "
            "value would reach the state"
        )
    pattern = _AWS_SECRET_PATTERNS[key]
    allowed = describe(config.AwsStackSettings.model_fields[key]).split(";")[0]

    def checked(raw: Any) -> str:
        if not isinstance(raw, str) or not pattern.match(raw):
            raise InputsError(f"{prefix}: does not match what is allowed ({allowed}); the value is not shown")
        return raw

    return pulumi.Output.secret(value).apply(checked)


def _aws_settings(name: str, args: Mapping[str, Any]) -> _AwsComponentSettings:
    component = "AwsBookingPlatform"
    missing = [
        f"{camel_case(k)}: is required (a secret)" for k in _AWS_SECRET_PATTERNS if args.get(k) is None
    ]
    if missing:
        raise InputsError(f"{component} {name!r}: invalid inputs ({len(missing)}): {'; '.join(missing)}")
    settings = _validate(_AwsComponentSettings, component, name, args, frozenset(_AWS_SECRET_PATTERNS))
    settings._credential = (
        _secret_input(args["xks_access_key_id"], "xks_access_key_id", component, name),
        _secret_input(args["xks_secret_access_key"], "xks_secret_access_key", component, name),
    )
    return settings


#: The credentials: secret inputs (stacks.config.SECRET_KEYS names them), each with its pattern (facts.xks).
_AWS_SECRET_PATTERNS = {
    "xks_access_key_id": xks_facts.ACCESS_KEY_ID,
    "xks_secret_access_key": xks_facts.SECRET_ACCESS_KEY,
}
_AWS_SECRET_FIELDS = tuple(_AWS_SECRET_PATTERNS)


# --- The components -----------------------------------------------------------------------------------


class AwsBookingPlatform(pulumi.ComponentResource):
    """Option A: the booking platform in AWS eu-west-3, every data store under a KMS key held in an
    external key store whose material stays in an HSM in France (the Python program's aws target)."""

    load_balancer_dns: pulumi.Output[str]
    """DNS name of the HTTPS load balancer (point the service's name at it)."""
    documents_bucket: pulumi.Output[str]
    """Name of the medical documents bucket."""
    database_endpoint: pulumi.Output[str]
    """Address of the PostgreSQL instance (reachable from the VPC only)."""
    key_store_id: pulumi.Output[str]
    """Id of the AWS KMS external key store (connect it to the proxy before use)."""

    def __init__(
        self, name: str, args: AwsBookingPlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{PACKAGE}:index:AwsBookingPlatform", name, None, opts)
        cfg = _aws_settings(name, args)
        provider = aws_stack.provider(cfg, f"{name}-paris", pulumi.ResourceOptions(parent=self))
        platform = AwsPlatform(
            name, aws_stack.to_args(cfg), opts=pulumi.ResourceOptions(parent=self, providers=[provider])
        )
        self.load_balancer_dns = platform.load_balancer_dns
        self.documents_bucket = platform.documents_bucket
        self.database_endpoint = platform.database_endpoint
        self.key_store_id = platform.key_store_id
        self.register_outputs(
            {
                "loadBalancerDns": self.load_balancer_dns,
                "documentsBucket": self.documents_bucket,
                "databaseEndpoint": self.database_endpoint,
                "keyStoreId": self.key_store_id,
            }
        )


class ScalewayBookingPlatform(pulumi.ComponentResource):
    """Option B: the booking platform on Scaleway fr-par, keys in Scaleway Key Manager (the Python
    program's scaleway target)."""

    url: pulumi.Output[str]
    """The service's HTTPS address."""
    cname_targets: pulumi.Output[dict[str, str]]
    """Where the web and api hostnames' CNAME records point (the containers' own HTTPS endpoints)."""
    database_instance_id: pulumi.Output[str]
    """Id of the managed PostgreSQL instance."""

    def __init__(
        self, name: str, args: ScalewayBookingPlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{PACKAGE}:index:ScalewayBookingPlatform", name, None, opts)
        cfg = _validate(config.ScalewayStackSettings, "ScalewayBookingPlatform", name, args)
        provider = scaleway_stack.provider(cfg, f"{name}-fr-par", pulumi.ResourceOptions(parent=self))
        platform = ScalewayPlatform(
            name, scaleway_stack.to_args(cfg), opts=pulumi.ResourceOptions(parent=self, providers=[provider])
        )
        self.url = platform.url
        self.cname_targets = pulumi.Output.all(**platform.service.cname_targets)
        self.database_instance_id = platform.database.instance.id
        self.register_outputs(
            {
                "url": self.url,
                "cnameTargets": self.cname_targets,
                "databaseInstanceId": self.database_instance_id,
            }
        )


class S3nsBookingPlatform(pulumi.ComponentResource):
    """Option C: the booking platform on Cloud de Confiance by S3NS (SecNumCloud-qualified offer),
    region u-france-east1, keys in Cloud KMS (the Python program's s3ns target)."""

    url: pulumi.Output[str]
    """The service's HTTPS address."""
    load_balancer_ip: pulumi.Output[str]
    """The load balancer's public address."""
    database_connection: pulumi.Output[str]
    """Cloud SQL connection name."""
    documents_bucket: pulumi.Output[str]
    """Name of the medical documents bucket."""

    def __init__(
        self, name: str, args: S3nsBookingPlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(f"{PACKAGE}:index:S3nsBookingPlatform", name, None, opts)
        cfg = _validate(S3nsStackSettings, "S3nsBookingPlatform", name, args)
        # A service-account key in plaintext in the consumer's gcp config is refused, as for the program.
        check_provider_credentials(cfg.stack)
        provider = s3ns_stack.provider(cfg, f"{name}-u-france-east1", pulumi.ResourceOptions(parent=self))
        platform = S3nsPlatform(
            name, s3ns_stack.to_args(cfg), opts=pulumi.ResourceOptions(parent=self, providers=[provider])
        )
        self.url = platform.url
        self.load_balancer_ip = platform.service.ip_address
        self.database_connection = platform.database_connection
        self.documents_bucket = platform.documents_bucket
        self.register_outputs(
            {
                "url": self.url,
                "loadBalancerIp": self.load_balancer_ip,
                "databaseConnection": self.database_connection,
                "documentsBucket": self.documents_bucket,
            }
        )


class KeystoreHost(pulumi.ComponentResource):
    """The French key store: the XKS proxy on Scaleway instances in two or three fr-par zones, one cell per
    zone (Private Network, Public Gateway, TLS-passthrough load balancer, VPN gateway to the HSM), in front
    of an HSM operated in France (the Python program's keystore
    target). No secret passes through it: the custodian puts them in Secret Manager afterwards."""

    endpoint: pulumi.Output[str]
    """What the AWS platform's xks.uriEndpoint must be (https://<endpointHostname>)."""
    uri_path: pulumi.Output[str]
    """What the AWS platform's xks.uriPath must be."""
    load_balancer_ip: pulumi.Output[str]
    """The first zone's load balancer address (with dnsZone unset, point endpointHostname at every zone's)."""

    def __init__(self, name: str, args: KeystoreHostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{PACKAGE}:index:KeystoreHost", name, None, opts)
        problems = [
            f"{camel_case(key)}: must be a plain value, known when the component is built (the components "
            "name and check their resources with it), not an output of another resource"
            for key, value in args.items()
            if _contains_output(value)
        ]
        if problems:
            raise InputsError(
                f"KeystoreHost {name!r}: invalid inputs ({len(problems)}): {'; '.join(problems)}"
            )
        try:
            keystore = KeystoreStackConfig.from_dict(_camel_keys(dict(args)), "keystore")
        except KeystoreConfigError as error:
            found = [p.removeprefix("keystore.") for p in error.problems]
            raise InputsError(
                f"KeystoreHost {name!r}: invalid inputs ({len(found)}): {'; '.join(found)}"
            ) from None
        provider = keystore_stack.provider(keystore, f"{name}-fr-par", pulumi.ResourceOptions(parent=self))
        host = KeystoreHostComponent(
            name,
            keystore_stack.to_args(keystore),
            opts=pulumi.ResourceOptions(parent=self, providers=[provider]),
        )
        self.endpoint = host.endpoint
        self.uri_path = host.uri_path
        self.load_balancer_ip = host.load_balancer_ip
        self.register_outputs(
            {"endpoint": self.endpoint, "uriPath": self.uri_path, "loadBalancerIp": self.load_balancer_ip}
        )


#: Every component the package exposes, with the config model whose field docs describe its inputs and
#: the inputs that are secret.
COMPONENTS: dict[type[pulumi.ComponentResource], tuple[type[BaseModel], tuple[str, ...]]] = {
    AwsBookingPlatform: (config.AwsStackSettings, _AWS_SECRET_FIELDS),
    ScalewayBookingPlatform: (config.ScalewayStackSettings, ()),
    S3nsBookingPlatform: (S3nsStackSettings, ()),
    KeystoreHost: (KeystoreStackConfig, ()),
}


class BookingComponentProvider(ComponentProvider):
    """The SDK's component provider (what ``component_provider_host`` serves) over :data:`COMPONENTS`,
    its inferred schema completed with the descriptions and secret flags the inference cannot read."""

    def __init__(self) -> None:
        super().__init__(list(COMPONENTS), PACKAGE, None, __version__)
        self.schema = json.dumps(complete_schema(json.loads(self.schema or "{}")))


def _describe_properties(properties: dict[str, Any], model: type[BaseModel]) -> None:
    fields = {camel_case(name): field for name, field in model.model_fields.items()}
    for key, prop in properties.items():
        field = fields.get(key)
        text = describe(field) if field is not None else ""
        if not text:
            # Fail closed: a key without a documented meaning is a gap, not an empty line in an SDK.
            raise LookupError(
                f"{model.__name__}.{key}: no description in the config model (stacks/config.py)"
            )
        prop["description"] = text


def complete_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds every input's description and the credentials' ``secret: true`` to an inferred schema, and
    names the generated TypeScript package (the import line the README shows)."""
    schema.setdefault("language", {}).setdefault("nodejs", {})["packageName"] = NODE_PACKAGE
    for component, (model, secret) in COMPONENTS.items():
        resource = schema["resources"][f"{PACKAGE}:index:{component.__name__}"]
        _describe_properties(resource["inputProperties"], model)
        for field in secret:
            resource["inputProperties"][camel_case(field)]["secret"] = True
    for token, definition in schema.get("types", {}).items():
        described_by = TYPE_MODELS.get(token.rsplit(":", 1)[-1])
        if described_by is None:
            raise LookupError(f"{token}: no config model describes this type (TYPE_MODELS)")
        _describe_properties(definition.get("properties", {}), described_by)
    return schema


def main() -> None:
    """Serves the provider to the engine (``PulumiPlugin.yaml``): the arguments are the engine's."""
    serve_provider(BookingComponentProvider(), sys.argv[1:])


if __name__ == "__main__":
    main()
