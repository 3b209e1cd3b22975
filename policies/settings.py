"""The policy configuration: the allow-lists every rule reads.

The same keys are the CrossGuard pack's config schema (``pulumi preview --policy-pack policies
--policy-pack-config FILE``) and ``scripts/audit.py --config FILE``; defaults are the project's
deployment options, so an audit with no configuration checks the published promises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from facts import providers

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


class PolicyConfigError(ValueError):
    """A policy configuration value has the wrong shape."""


@dataclass(frozen=True)
class PolicyConfig:
    """Allow-lists and switches; every field is a CrossGuard config property of the same name."""

    allowed_regions: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_ALLOWED_REGIONS)
    )
    xks_endpoint_hosts: tuple[str, ...] = DEFAULT_XKS_ENDPOINT_HOSTS
    allowed_providers: tuple[str, ...] = DEFAULT_ALLOWED_PROVIDERS
    secnumcloud_only: bool = False
    secnumcloud_providers: tuple[str, ...] = DEFAULT_SECNUMCLOUD_PROVIDERS
    tls_policies: tuple[str, ...] = DEFAULT_TLS_POLICIES

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
        known = {_camel(f.name): f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in known:
                raise PolicyConfigError(
                    f"unknown policy config key {key!r} (known: {', '.join(sorted(known))})"
                )
            name = known[key]
            if name == "allowed_regions":
                if not isinstance(value, Mapping) or not all(
                    isinstance(v, list) and all(isinstance(r, str) for r in v) for v in value.values()
                ):
                    raise PolicyConfigError("allowedRegions must map a provider to a list of region names")
                values[name] = {str(k): tuple(v) for k, v in value.items()}
            elif name == "secnumcloud_only":
                if not isinstance(value, bool):
                    raise PolicyConfigError("secnumcloudOnly must be true or false")
                values[name] = value
            else:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise PolicyConfigError(f"{key} must be a list of strings")
                values[name] = tuple(value)
        return cls(**values)

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Mapping):
                value = {k: list(v) for k, v in value.items()}
            elif isinstance(value, tuple):
                value = list(value)
            out[_camel(f.name)] = value
        return out


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


#: JSON schema of the config, used as the CrossGuard ``PolicyConfigSchema`` of every policy.
CONFIG_SCHEMA: dict[str, dict[str, Any]] = {
    "allowedRegions": {
        "type": "object",
        "description": "Allowed regions per provider package (HDS: EEA only; project default: Paris).",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "default": {k: list(v) for k, v in DEFAULT_ALLOWED_REGIONS.items()},
    },
    "xksEndpointHosts": {
        "type": "array",
        "items": {"type": "string"},
        "description": "XKS proxy hosts operated in France: exact names, or suffixes starting with a dot.",
        "default": list(DEFAULT_XKS_ENDPOINT_HOSTS),
    },
    "allowedProviders": {
        "type": "array",
        "items": {"type": "string"},
        "description": "Provider packages allowed to create resources (HDS-certified hosts).",
        "default": list(DEFAULT_ALLOWED_PROVIDERS),
    },
    "secnumcloudOnly": {
        "type": "boolean",
        "description": "Allow only SecNumCloud-qualified providers (SecNumCloud 3.2 §19).",
        "default": False,
    },
    "secnumcloudProviders": {
        "type": "array",
        "items": {"type": "string"},
        "description": "Provider packages holding a SecNumCloud qualification.",
        "default": list(DEFAULT_SECNUMCLOUD_PROVIDERS),
    },
    "tlsPolicies": {
        "type": "array",
        "items": {"type": "string"},
        "description": "ELB security policies accepted at the edge (TLS 1.2 or later only).",
        "default": list(DEFAULT_TLS_POLICIES),
    },
}
