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
from typing import Any, Final, Literal

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

#: What a stack was read from. Rules declare which kinds they can judge (``Rule.inputs``): a live-only
#: rule (a key store's connection state) has nothing to read in a preview, and a rule on recorded state
#: needs an export. None means the adapter did not say: every rule then applies (fail closed).
InputKind = Literal["preview", "export", "crossguard", "plan", "live"]
INPUT_KINDS: Final[tuple[InputKind, ...]] = ("preview", "export", "crossguard", "plan", "live")
#: The kinds that read the program's desired state (as opposed to a live account).
DESIRED_STATE: Final[tuple[InputKind, ...]] = ("preview", "export", "crossguard", "plan")


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
    #: Settings whose recorded value (an export's outputs) disagrees with the declared one.
    recorded: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: Top-level properties the rules have read so far (BK-STATE-001 judges only those).
    read: set[str] = field(default_factory=set, compare=False, repr=False)

    def get(self, *path: str | int, default: Any = None) -> Any:
        """Reads a nested property; lists of one object (Terraform blocks) are looked through."""
        value: Any = self.properties
        if path and isinstance(path[0], str):
            self.read.add(path[0])
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

    def values(self, *path: str) -> list[Any]:
        """Every value at ``path``, looking through every element of the lists on the way.

        :meth:`get` looks only through one-element lists (Terraform blocks); a list of several
        (an ACL's grants, a listener's rules) needs every element judged, which this gives.
        """
        found: list[Any] = [self.properties]
        if path:
            self.read.add(path[0])
        for step in path:
            following: list[Any] = []
            for value in found:
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, Mapping) and item.get(step) is not None:
                        following.append(item[step])
            found = following
        return [v for value in found for v in (value if isinstance(value, list) else [value])]

    @property
    def package(self) -> str:
        return package_of(self.type)

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")


@dataclass(frozen=True)
class Gap:
    """One part of a live account that could not be read, and why (a live read's stack carries them)."""

    provider: str
    region: str
    what: str
    #: The permission (IAM action, Scaleway permission set) that was missing, when that is the cause.
    permission: str
    reason: str

    def describe(self) -> str:
        need = f" (missing permission {self.permission})" if self.permission else ""
        return f"{self.provider} {self.region}: {self.what} not checked: {self.reason}{need}"

    def to_dict(self) -> dict[str, str]:
        return {
            "provider": self.provider,
            "region": self.region,
            "what": self.what,
            "permission": self.permission,
            "reason": self.reason,
        }


@dataclass
class Stack:
    """A stack's resources and its config, with the indexes rules need."""

    name: str
    resources: list[Resource]
    config: Mapping[str, Any] = field(default_factory=dict)
    #: Config keys whose values are secrets (shown as "[secret]" in a preview).
    secret_config_keys: frozenset[str] = frozenset()
    #: What a live read could not read (empty for previews and exports, which read everything given).
    gaps: tuple[Gap, ...] = ()
    #: What the stack was read from (set by every adapter); None: unknown, every rule applies.
    kind: InputKind | None = None
    _by_type: dict[str, list[Resource]] = field(default_factory=dict, init=False, repr=False)
    _by_urn: dict[str, Resource] = field(default_factory=dict, init=False, repr=False)
    _reference_index: dict[tuple[str, tuple[str, ...]], dict[str, Resource]] = field(
        default_factory=dict, init=False, repr=False
    )
    _referrer_index: dict[tuple[str, str], _ReferrerIndex] = field(
        default_factory=dict, init=False, repr=False
    )
    #: While a rule runs (:meth:`watching`): the types it looked up, and whether it walked every resource.
    _seen_types: set[str] | None = field(default=None, init=False, repr=False)
    _walked: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        for resource in self.resources:
            self._by_type.setdefault(resource.type, []).append(resource)
            self._by_urn[resource.urn] = resource

    def __iter__(self) -> Iterator[Resource]:
        self._walked = True
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    def watching(self) -> _Watch:
        """Counts the resources a rule looks at while it runs (``with stack.watching() as seen``).

        A rule that finds nothing to check passes over no resource; reports say so ("pass, 0
        resources") apart from a pass over resources. Recorded per type looked up (O(1) per lookup), so
        the count is the resources of the types the rule asked for, or all of them when it walks the stack.
        """
        return _Watch(self)

    def of_type(self, *types: str) -> list[Resource]:
        if self._seen_types is not None:
            self._seen_types.update(types)
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
        if not isinstance(value, str) or not is_known(value) or not value:
            return None
        key = (target_type, identifiers)
        if self._seen_types is not None:
            self._seen_types.add(target_type)
        index = self._reference_index.get(key)
        if index is None:
            # Built once per (type, identifiers): a scan per lookup is quadratic on large stacks.
            index = {}
            for candidate in self.of_type(target_type):
                names = (candidate.id, candidate.name, *(candidate.get(i) for i in identifiers))
                for name in names:
                    if isinstance(name, str) and name:
                        index.setdefault(name, candidate)
            self._reference_index[key] = index
        return index.get(value)

    def referrers(
        self, target: Resource, from_type: str, attribute: str, identifiers: tuple[str, ...]
    ) -> list[Resource]:
        """Resources of ``from_type`` whose ``attribute`` names ``target`` (by value or, failing that, dependency)."""
        names = {
            v
            for v in (target.id, *(target.get(i) for i in identifiers))
            if isinstance(v, str) and is_known(v) and v
        }
        if self._seen_types is not None:
            self._seen_types.add(from_type)
        index = self._referrer_index.get((from_type, attribute))
        if index is None:
            index = _ReferrerIndex(self.of_type(from_type), attribute)
            self._referrer_index[(from_type, attribute)] = index
        positions = {p for name in names for p in index.by_value.get(name, ())}
        by_dependency = index.unnamed_by_dependency if names else index.all_by_dependency
        positions.update(by_dependency.get(target.urn, ()))
        return [index.candidates[p] for p in sorted(positions)]


class _ReferrerIndex:
    """Who names what, for one (type, attribute): by the attribute's value, and by dependency."""

    def __init__(self, candidates: list[Resource], attribute: str) -> None:
        self.candidates = candidates
        self.by_value: dict[str, list[int]] = {}
        #: Candidates whose attribute gives no usable name: only their dependencies tell.
        self.unnamed_by_dependency: dict[str, list[int]] = {}
        self.all_by_dependency: dict[str, list[int]] = {}
        for position, candidate in enumerate(candidates):
            value = candidate.get(attribute)
            named = isinstance(value, str) and is_known(value)
            if named:
                self.by_value.setdefault(value, []).append(position)
            for urn in candidate.dependencies:
                self.all_by_dependency.setdefault(urn, []).append(position)
                if not named:
                    self.unnamed_by_dependency.setdefault(urn, []).append(position)


class _Watch:
    """The resources one rule looked at (see :meth:`Stack.watching`)."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self.count = 0

    def __enter__(self) -> _Watch:
        self._stack._seen_types = set()
        self._stack._walked = False
        return self

    def __exit__(self, *exc: object) -> None:
        stack = self._stack
        seen = stack._seen_types or set()
        if stack._walked:
            self.count = sum(1 for r in stack.resources if r.custom and not r.is_provider)
        else:
            self.count = sum(
                1 for t in seen for r in stack._by_type.get(t, ()) if r.custom and not r.is_provider
            )
        stack._seen_types = None
        stack._walked = False
