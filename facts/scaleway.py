"""What Scaleway allows, read from ``data/facts/scaleway.yaml``: the one place for its constraints.

The stack config, the Scaleway components and the policies read the same rows: argument conflicts,
IAM rule scope, the permission sets each use needs, reserved container environment names, Cockpit
retention bounds, zonal products, key protection levels. Every row carries its source (URL, retrieval
date, what it says); a row without one is refused when the file loads, so no capability is assumed.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facts.resources import data_dir, read_model

SCALEWAY_FILE: Final = data_dir() / "facts" / "scaleway.yaml"

Kind = Literal[
    "argument-conflict",
    "iam-scope",
    "permission-need",
    "private-network-ingress",
    "reserved-environment",
    "environment-size",
    "custom-domain",
    "certificate-dns",
    "retention-bounds",
    "protection-level",
    "zonal",
    "dns-failover",
    "hsm-path",
]

#: Fields each kind must carry besides its source (what the code reads from the row).
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "argument-conflict": ("type", "arguments"),
    "iam-scope": ("type", "arguments"),
    "permission-need": ("use", "permission_sets"),
    "private-network-ingress": ("type", "ingress_supported"),
    "reserved-environment": ("type", "prefixes"),
    "environment-size": ("type", "max_value_chars"),
    "custom-domain": ("type", "requires"),
    "certificate-dns": ("type", "requires"),
    "retention-bounds": ("type", "bounds_days"),
    "protection-level": ("type", "levels"),
    "zonal": ("types",),
    "dns-failover": ("type", "argument"),
    "hsm-path": ("types",),
}


class ScalewayFactsError(ValueError):
    """The Scaleway facts file is missing or malformed: the message names the file, the row and the key."""


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str = Field(pattern=r"^https://\S+$")
    retrieved: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    #: What the source says, in its words where possible.
    says: str = Field(min_length=20)


class Constraint(BaseModel):
    """One sourced constraint of Scaleway."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    kind: Kind
    source: Source
    type: str | None = None
    types: tuple[str, ...] = ()
    arguments: tuple[str, ...] = ()
    argument: str | None = None
    use: str | None = None
    description: str | None = None
    permission_sets: tuple[str, ...] = ()
    ingress_supported: bool | None = None
    reservable_addresses: bool | None = None
    prefixes: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    max_value_chars: int | None = None
    max_secret_value_bytes: int | None = None
    requires: str | None = None
    bounds_days: dict[str, tuple[int, int]] = Field(default_factory=dict)
    levels: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _has_what_its_kind_needs(self) -> Constraint:
        missing = [name for name in _REQUIRED[self.kind] if getattr(self, name) in (None, (), {})]
        if missing:
            raise ValueError(f"a {self.kind} row needs {', '.join(missing)}")
        return self


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    constraints: tuple[Constraint, ...] = Field(min_length=1)


@cache
def load(path: Path = SCALEWAY_FILE) -> tuple[Constraint, ...]:
    """Every row of ``path``, checked once per process; ids are unique."""
    rows = read_model(path, _File, ScalewayFactsError).constraints
    ids = [row.id for row in rows]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ScalewayFactsError(f"{path}: constraint id(s) {repeated} appear more than once")
    return rows


def _of_kind(kind: str, path: Path = SCALEWAY_FILE) -> tuple[Constraint, ...]:
    return tuple(row for row in load(path) if row.kind == kind)


def _one(kind: str, path: Path = SCALEWAY_FILE) -> Constraint:
    rows = _of_kind(kind, path)
    if len(rows) != 1:
        raise ScalewayFactsError(f"{path}: expected one {kind} row, found {len(rows)}")
    return rows[0]


def argument_conflicts(path: Path = SCALEWAY_FILE) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Type token -> groups of arguments (camelCase) of which at most one may be set."""
    found: dict[str, tuple[tuple[str, ...], ...]] = {}
    for row in _of_kind("argument-conflict", path):
        assert row.type is not None  # checked when the row loaded
        found[row.type] = (*found.get(row.type, ()), row.arguments)
    return found


def iam_scope_arguments(path: Path = SCALEWAY_FILE) -> tuple[str, ...]:
    """The IAM rule arguments of which one must be set per rule (projectIds, organizationId)."""
    return _one("iam-scope", path).arguments


def permission_needs(path: Path = SCALEWAY_FILE) -> dict[str, tuple[str, ...]]:
    """Use (``documents-read-write`` ...) -> the permission sets it needs, exactly."""
    return {str(row.use): row.permission_sets for row in _of_kind("permission-need", path)}


def permissions_for(uses: tuple[str, ...], path: Path = SCALEWAY_FILE) -> tuple[str, ...]:
    """The union of the permission sets of ``uses``, sorted; an unknown use raises (fail closed)."""
    needs = permission_needs(path)
    unknown = [u for u in uses if u not in needs]
    if unknown:
        raise ScalewayFactsError(
            f"{path}: no permission-need row for use(s) {unknown} (known: {sorted(needs)})"
        )
    return tuple(sorted({p for u in uses for p in needs[u]}))


def reserved_environment(path: Path = SCALEWAY_FILE) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(prefixes, exact names) a Serverless Container's environment may not use."""
    row = _one("reserved-environment", path)
    return row.prefixes, row.names


def is_reserved_environment_name(name: str, path: Path = SCALEWAY_FILE) -> bool:
    prefixes, names = reserved_environment(path)
    return name in names or name.upper().startswith(prefixes)


def environment_value_limit(path: Path = SCALEWAY_FILE) -> int:
    """Maximum characters of one plain environment variable of a Serverless Container."""
    value = _one("environment-size", path).max_value_chars
    assert value is not None
    return value


def containers_accept_private_ingress(path: Path = SCALEWAY_FILE) -> bool:
    return bool(_one("private-network-ingress", path).ingress_supported)


def retention_bounds(data_type: str, path: Path = SCALEWAY_FILE) -> tuple[int, int]:
    """(minimum, maximum) retention days of a Cockpit custom data source of ``data_type``."""
    bounds = _one("retention-bounds", path).bounds_days
    if data_type not in bounds:
        raise ScalewayFactsError(f"{path}: no Cockpit retention bounds for {data_type!r}")
    low, high = bounds[data_type]
    return low, high


def key_protection_levels(path: Path = SCALEWAY_FILE) -> tuple[str, ...]:
    return _one("protection-level", path).levels


def zonal_types(path: Path = SCALEWAY_FILE) -> tuple[str, ...]:
    """Type tokens of Scaleway products that live in one zone (lost with it)."""
    return _one("zonal", path).types


def hsm_path_types(path: Path = SCALEWAY_FILE) -> tuple[str, ...]:
    """Type tokens that make the key store's path to an on-premises HSM (Site-to-Site VPN)."""
    return _one("hsm-path", path).types
