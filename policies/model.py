# ruff: noqa: S105 - "[secret]" is a marker, not a password
"""The provider-neutral resource model every rule reads.

A :class:`Resource` carries what the Pulumi engine knows about one resource: its type token, name,
URN, properties under the engine's (camelCase) names, the resolved provider package and region,
its parent and its dependencies. A :class:`Stack` is the list of resources plus the indexes a rule
needs to look across them (by type, by URN, key references).

Two values are special and never carry data:

* :data:`SECRET` stands for a Pulumi secret (the engine's secret envelope); the model never keeps
  the plaintext, so a report can never leak it.
* :data:`UNKNOWN` is the engine's sentinel for a value not known during a preview.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

#: Pulumi's signature key and secret signature (sdk/go/common/resource/properties.go).
SIG_KEY: Final = "4dabf18193072939515e22adb298388d"
SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"
#: The engine's sentinel for a value unknown during a preview (sdk/go/common/resource/plugin/rpc.go).
UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class _Secret:
    """The single marker that replaces every secret value in the model."""

    _instance: _Secret | None = None

    def __new__(cls) -> _Secret:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "[secret]"

    def __reduce__(self) -> str:
        return "SECRET"


SECRET: Final = _Secret()

STACK_TYPE: Final = "pulumi:pulumi:Stack"


def is_known(value: Any) -> bool:
    """False for the preview's unknown sentinel and for None."""
    return value is not None and value != UNKNOWN


def normalize(value: Any) -> Any:
    """Turns engine values into model values: secret envelopes become :data:`SECRET`.

    Accepts the preview/export wire form (``{SIG_KEY: SECRET_SIG, ...}``) whether or not the
    envelope carries a ``value``, ``plaintext`` or ``ciphertext``: the model never keeps it.
    """
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return SECRET
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def package_of(type_token: str) -> str:
    """``aws:s3/bucket:Bucket`` -> ``aws``; ``pulumi:providers:aws`` -> ``aws``."""
    if type_token.startswith("pulumi:providers:"):
        return type_token.rsplit(":", 1)[1]
    return type_token.split(":", 1)[0]


_ZONE = re.compile(r"^(?P<region>[a-z]{2}-[a-z]{3})-\d+$")
#: Google Cloud technology zones (``u-france-east1-a``, ``europe-west9-b``): region plus a letter.
_GCP_ZONE = re.compile(r"^(?P<region>[a-z]+(?:-[a-z]+)*\d+)-[a-z]$")


def region_of_zone(zone: str) -> str:
    """Scaleway zones (``fr-par-1``) belong to a region (``fr-par``); so do GCP-style zones."""
    match = _ZONE.match(zone) or _GCP_ZONE.match(zone)
    return match.group("region") if match else zone


@dataclass(frozen=True, slots=True)
class Resource:
    """One resource as the engine sees it, provider-neutral."""

    type: str
    name: str
    urn: str
    properties: Mapping[str, Any]
    #: Provider package (``aws``, ``scaleway``, ...); empty for component resources.
    provider: str = ""
    #: URN of the explicit provider resource, empty for a default provider.
    provider_urn: str = ""
    #: Resolved region; None when the resource has none (components, global resources).
    region: str | None = None
    parent: str = ""
    custom: bool = True
    dependencies: tuple[str, ...] = ()
    #: The cloud id when known (stack export), used to resolve references.
    id: str = ""

    def get(self, *path: str | int, default: Any = None) -> Any:
        """Reads a nested property; lists of one object (Terraform blocks) are looked through."""
        value: Any = self.properties
        for step in path:
            if isinstance(step, int):
                if not isinstance(value, list) or len(value) <= step:
                    return default
                value = value[step]
                continue
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            if not isinstance(value, Mapping) or step not in value:
                return default
            value = value[step]
        return default if value is None else value

    @property
    def package(self) -> str:
        return package_of(self.type)

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")


@dataclass
class Stack:
    """A stack's resources and its config, with the indexes rules need."""

    name: str
    resources: list[Resource]
    config: Mapping[str, Any] = field(default_factory=dict)
    #: Config keys whose values are secrets (shown as "[secret]" in a preview).
    secret_config_keys: frozenset[str] = frozenset()
    _by_type: dict[str, list[Resource]] = field(default_factory=dict, init=False, repr=False)
    _by_urn: dict[str, Resource] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for resource in self.resources:
            self._by_type.setdefault(resource.type, []).append(resource)
            self._by_urn[resource.urn] = resource

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    def of_type(self, *types: str) -> list[Resource]:
        if len(types) == 1:
            return self._by_type.get(types[0], [])
        return [r for t in types for r in self._by_type.get(t, [])]

    def types(self) -> Iterable[str]:
        return self._by_type.keys()

    def by_urn(self, urn: str) -> Resource | None:
        return self._by_urn.get(urn)

    def dependencies_of(self, resource: Resource, type_token: str | None = None) -> list[Resource]:
        found = [self._by_urn[u] for u in resource.dependencies if u in self._by_urn]
        return [r for r in found if type_token is None or r.type == type_token]

    def references(self, value: Any, target_type: str, identifiers: tuple[str, ...]) -> Resource | None:
        """The resource of ``target_type`` whose id or one of ``identifiers`` equals ``value``."""
        if not isinstance(value, str) or not is_known(value):
            return None
        for candidate in self.of_type(target_type):
            if value in (candidate.id, candidate.name) and value:
                return candidate
            for ident in identifiers:
                if candidate.get(ident) == value:
                    return candidate
        return None

    def referrers(
        self, target: Resource, from_type: str, attribute: str, identifiers: tuple[str, ...]
    ) -> list[Resource]:
        """Resources of ``from_type`` whose ``attribute`` names ``target`` (by value or, failing that, dependency)."""
        names = {
            v
            for v in (target.id, *(target.get(i) for i in identifiers))
            if isinstance(v, str) and is_known(v) and v
        }
        found = []
        for candidate in self.of_type(from_type):
            value = candidate.get(attribute)
            if (isinstance(value, str) and value in names) or (
                (not isinstance(value, str) or not is_known(value) or not names)
                and target.urn in candidate.dependencies
            ):
                found.append(candidate)
        return found
