"""Provider packages, their regions and allow-lists, read from ``data/facts/providers.yaml``.

That file is the single source: the comparison report cites its sourced statuses, the stack config
takes each target's regions from it, and the policies' default allow-lists are derived from it
(HDS-certified providers, SecNumCloud-qualified providers, plus the engine's own packages, which
create nothing in a cloud). Only the keys read here are checked here; ``reporting.facts`` checks the
sourced statements the report prints.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from facts.resources import data_dir, read_model

#: Shipped as package data (``data/facts/providers.yaml``), found through importlib.resources.
PROVIDERS_FILE: Final = data_dir() / "facts" / "providers.yaml"
#: Statuses that admit a provider to an allow-list ("in-progress", "not-qualified" do not).
ADMITTING: Final[frozenset[str]] = frozenset({"certified", "qualified"})
#: Evidence ranks, strongest first: the qualification's published scope (ANSSI's list of qualified
#: offers, the provider's statement of its qualified services), then the provider's documentation that
#: the service is in the offer (BK-PROV-005 reports the latter as advisory).
QUALIFICATION_SCOPE: Final = "qualification-scope"
PROVIDER_DOCUMENTATION: Final = "provider-documentation"


class FactsFileError(ValueError):
    """The providers file is missing or malformed: the message names the file and the key."""


class _Status(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    status: str


class PerimeterRow(BaseModel):
    """One service inside a provider's SecNumCloud-qualified perimeter, with its evidence and sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    service: str = Field(min_length=1)
    #: The service as the French report names it (read by reporting.facts, which requires it).
    service_fr: str | None = None
    #: ``qualification-scope`` or ``provider-documentation`` (ranked above; docs/secnumcloud.md).
    evidence: Literal["qualification-scope", "provider-documentation"]
    sources: tuple[str, ...] = Field(min_length=1)
    types: tuple[str, ...] = Field(min_length=1)


class Provider(BaseModel):
    """What the project reads of one provider entry (the report reads the sourced statements)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    package: str = Field(min_length=1)
    #: Engine packages (pulumi, random, tls, ...) create nothing in a cloud.
    engine: bool = False
    #: Regions where this project may place health data with this provider.
    regions: tuple[str, ...] = ()
    hds: _Status | None = None
    secnumcloud: _Status | None = None
    #: The stack target built on this provider when its name differs from the package (s3ns: gcp).
    target: str | None = None
    #: Services inside the SecNumCloud-qualified perimeter; empty: none (read by BK-PROV-002).
    perimeter: tuple[PerimeterRow, ...] = ()


class _ProvidersFile(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    providers: dict[str, Provider]


@cache
def load(path: Path = PROVIDERS_FILE) -> dict[str, Provider]:
    """The providers of ``path`` by key, read and checked once per process."""
    return read_model(path, _ProvidersFile, FactsFileError).providers


def allowed_regions(path: Path = PROVIDERS_FILE) -> dict[str, tuple[str, ...]]:
    """Regions per provider package and per stack target (the package's name unless ``target`` says)."""
    regions = {p.package: p.regions for p in load(path).values() if p.regions}
    regions.update({p.target: p.regions for p in load(path).values() if p.regions and p.target})
    return regions


def home_region(target: str, path: Path = PROVIDERS_FILE) -> str:
    """The first allowed region of a provider package or stack target: the default where one is needed."""
    try:
        return allowed_regions(path)[target][0]
    except (KeyError, IndexError) as error:
        raise FactsFileError(f"{path}: no allowed region for {target!r}") from error


def by_package(path: Path = PROVIDERS_FILE) -> dict[str, Provider]:
    """Providers keyed by their Pulumi package (``gcp`` for S3NS)."""
    return {p.package: p for p in load(path).values()}


def perimeter(package: str, path: Path = PROVIDERS_FILE) -> dict[str, PerimeterRow]:
    """Resource type -> the perimeter row covering it, for one package; empty when nothing is qualified."""
    provider = by_package(path).get(package)
    return {t: row for row in (provider.perimeter if provider else ()) for t in row.types}


def allow_list(*, secnumcloud: bool = False, path: Path = PROVIDERS_FILE) -> tuple[str, ...]:
    """HDS-certified (or SecNumCloud-qualified) provider packages, plus the engine's own packages."""
    allowed = []
    for provider in load(path).values():
        status = provider.secnumcloud if secnumcloud else provider.hds
        if provider.engine or (status is not None and status.status in ADMITTING):
            allowed.append(provider.package)
    return tuple(allowed)
