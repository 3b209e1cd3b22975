"""The policy configuration: the allow-lists every rule reads.

The same keys are the CrossGuard pack's config schema (``pulumi preview --policy-pack policies
--policy-pack-config FILE``) and ``scripts/audit.py --config FILE``; defaults are the project's
deployment options, so an audit with no configuration checks the published promises. Regions and
provider allow-lists default to what ``data/facts/providers.yaml`` says (see ``facts.providers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError
from pydantic.alias_generators import to_camel

from facts import providers
from tooling.cli import BadInputError, read_yaml

#: HDS referential 2024 (hosting exclusively in the EEA) narrowed to the project's options
#: (data/facts/providers.yaml: AWS Paris, Scaleway Paris).
DEFAULT_ALLOWED_REGIONS: Mapping[str, tuple[str, ...]] = providers.allowed_regions()
#: Hosts of the XKS proxies operated in France (the key store host). Suffixes start with a dot.
DEFAULT_XKS_ENDPOINT_HOSTS: tuple[str, ...] = (".fr",)
#: Providers with an HDS certificate (data/facts/providers.yaml, sourced), plus the engine's own
#: packages, which create nothing in a cloud.
DEFAULT_ALLOWED_PROVIDERS: tuple[str, ...] = providers.allow_list()
#: Providers holding a SecNumCloud qualification (data/facts/providers.yaml, sourced), plus the
#: engine's packages, for the SecNumCloud-only mode.
DEFAULT_SECNUMCLOUD_PROVIDERS: tuple[str, ...] = providers.allow_list(secnumcloud=True)
#: ELB security policies that negotiate TLS 1.2 or 1.3 only (AWS ELB documentation).
DEFAULT_TLS_POLICIES: tuple[str, ...] = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-FS-1-2-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
)

#: A list of names: strings only (a lone string is refused, not split into characters).
Names = tuple[Annotated[str, Strict()], ...]


class PolicyConfigError(ValueError):
    """A policy configuration value has the wrong shape."""


class PolicyConfig(BaseModel):
    """Allow-lists and switches; every field is a CrossGuard config property (camelCase)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
    )

    allowed_regions: Mapping[str, Names] = Field(
        default_factory=lambda: dict(DEFAULT_ALLOWED_REGIONS),
        description="Allowed regions per provider package (HDS: EEA only; project default: Paris).",
    )
    xks_endpoint_hosts: Names = Field(
        default=DEFAULT_XKS_ENDPOINT_HOSTS,
        description="XKS proxy hosts operated in France: exact names, or suffixes starting with a dot.",
    )
    allowed_providers: Names = Field(
        default=DEFAULT_ALLOWED_PROVIDERS,
        description="Provider packages allowed to create resources (HDS-certified hosts).",
    )
    secnumcloud_only: Annotated[bool, Strict()] = Field(
        default=False, description="Allow only SecNumCloud-qualified providers (SecNumCloud 3.2 §19)."
    )
    secnumcloud_providers: Names = Field(
        default=DEFAULT_SECNUMCLOUD_PROVIDERS,
        description="Provider packages holding a SecNumCloud qualification.",
    )
    tls_policies: Names = Field(
        default=DEFAULT_TLS_POLICIES,
        description="ELB security policies accepted at the edge (TLS 1.2 or later only).",
    )

    def regions_for(self, package: str) -> tuple[str, ...]:
        return self.allowed_regions.get(package, ())

    def endpoint_host_allowed(self, host: str) -> bool:
        """Exact host, or a suffix entry starting with a dot (``.fr``)."""
        host = host.lower().rstrip(".")
        for raw in self.xks_endpoint_hosts:
            entry = raw.lower()
            if host == entry or (entry.startswith(".") and host.endswith(entry)):
                return True
        return False

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> PolicyConfig:
        """Builds the config from CrossGuard/JSON/YAML keys in camelCase (``allowedRegions``)."""
        if not raw:
            return cls()
        if not isinstance(raw, Mapping):
            raise PolicyConfigError(
                f"the policy config must be a mapping of settings, got {type(raw).__name__}"
            )
        try:
            return cls.model_validate(dict(raw), by_alias=True, by_name=False)
        except ValidationError as error:
            raise PolicyConfigError("; ".join(_messages(error))) from None

    @classmethod
    def from_file(cls, path: Path) -> PolicyConfig:
        """``--config FILE`` (YAML or JSON): a syntax error names the file and line."""
        try:
            raw = read_yaml(path, "policy config")
        except BadInputError as error:
            raise PolicyConfigError(str(error)) from error
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise PolicyConfigError(
                f"policy config {path}: must be a mapping of camelCase keys, not a {type(raw).__name__}"
            )
        try:
            return cls.from_mapping(raw)
        except PolicyConfigError as error:
            raise PolicyConfigError(f"policy config {path}: {error}") from error

    def to_mapping(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def _messages(error: ValidationError) -> list[str]:
    known = ", ".join(sorted(to_camel(name) for name in PolicyConfig.model_fields))
    found = []
    for item in error.errors(include_input=False):
        key = str(item["loc"][0])
        if item["type"] == "extra_forbidden":
            found.append(f"unknown policy config key {key!r} (known: {known})")
        elif key == "allowedRegions":
            found.append("allowedRegions must map a provider to a list of region names")
        elif key == "secnumcloudOnly":
            found.append("secnumcloudOnly must be true or false")
        else:
            found.append(f"{key} must be a list of strings")
    return list(dict.fromkeys(found))


def _schema() -> dict[str, dict[str, Any]]:
    """JSON schema of each setting, with its default: the CrossGuard ``PolicyConfigSchema``."""
    defaults = PolicyConfig().to_mapping()
    properties: dict[str, dict[str, Any]] = PolicyConfig.model_json_schema(by_alias=True)["properties"]
    return {
        name: {key: value for key, value in prop.items() if key != "title"} | {"default": defaults[name]}
        for name, prop in properties.items()
    }


#: JSON schema of the config, used as the CrossGuard ``PolicyConfigSchema`` of every policy.
CONFIG_SCHEMA: dict[str, dict[str, Any]] = _schema()
