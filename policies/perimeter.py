"""The SecNumCloud-qualified perimeter and the provider allow-lists, read from one sourced data file.

``data/facts/providers.yaml`` holds, per provider package, its HDS and SecNumCloud status (with
sources) and the ``perimeter``: one row per service inside the qualified perimeter, with the
resource types it covers, the evidence and its dated sources. The comparison report reads the same
file: one source for the policies and for what a ministry reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

FACTS_FILE = Path(__file__).resolve().parent.parent / "data" / "facts" / "providers.yaml"

#: Evidence levels a perimeter row may carry (docs/secnumcloud.md says what each means).
EVIDENCE = ("named-in-qualification-press", "documented-in-offer")


class PerimeterError(ValueError):
    """The providers data file is malformed; the message names the entry."""


@dataclass(frozen=True)
class PerimeterRow:
    """One service inside a provider's qualified perimeter."""

    service: str
    evidence: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ProviderFacts:
    package: str
    engine: bool
    hds_status: str
    secnumcloud_status: str
    #: Resource type -> the perimeter row that covers it. Empty: nothing is inside.
    perimeter: Mapping[str, PerimeterRow]


def _load(path: Path) -> dict[str, ProviderFacts]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    providers = raw.get("providers")
    if not isinstance(providers, dict):
        raise PerimeterError(f"{path}: 'providers' must be a mapping")
    out: dict[str, ProviderFacts] = {}
    for key, entry in providers.items():
        where = f"{path}: providers.{key}"
        if not isinstance(entry, dict) or not isinstance(entry.get("package"), str):
            raise PerimeterError(f"{where}: must be a mapping with a 'package'")
        package = entry["package"]
        if entry.get("engine"):
            out[package] = ProviderFacts(package, True, "n/a", "n/a", {})
            continue
        perimeter: dict[str, PerimeterRow] = {}
        rows = entry.get("perimeter")
        if not isinstance(rows, list):
            raise PerimeterError(f"{where}.perimeter: must be a list (empty when nothing is qualified)")
        for index, row in enumerate(rows):
            here = f"{where}.perimeter[{index}]"
            if not isinstance(row, dict):
                raise PerimeterError(f"{here}: must be a mapping")
            evidence, sources, types = row.get("evidence"), row.get("sources"), row.get("types")
            if evidence not in EVIDENCE:
                raise PerimeterError(f"{here}.evidence: must be one of {', '.join(EVIDENCE)}")
            if not isinstance(sources, list) or not sources:
                raise PerimeterError(f"{here}.sources: at least one dated source is required")
            if not isinstance(types, list) or not all(
                isinstance(t, str) and t.startswith(f"{package}:") for t in types
            ):
                raise PerimeterError(f"{here}.types: must list {package}:* type tokens")
            for type_token in types:
                perimeter[type_token] = PerimeterRow(
                    str(row.get("service")), evidence, tuple(map(str, sources))
                )
        out[package] = ProviderFacts(
            package,
            False,
            str(_status(entry, "hds", where)),
            str(_status(entry, "secnumcloud", where)),
            perimeter,
        )
    return out


def _status(entry: Mapping[str, Any], name: str, where: str) -> str:
    block = entry.get(name)
    if not isinstance(block, dict) or not isinstance(block.get("status"), str):
        raise PerimeterError(f"{where}.{name}.status: is required")
    return str(block["status"])


@cache
def providers(path: Path = FACTS_FILE) -> dict[str, ProviderFacts]:
    """Every provider package of the data file."""
    return _load(path)


def hds_allow_list(path: Path = FACTS_FILE) -> tuple[str, ...]:
    """Packages allowed to host health data: HDS-certified providers plus the engine's own."""
    return tuple(p.package for p in providers(path).values() if p.engine or p.hds_status == "certified")


def secnumcloud_allow_list(path: Path = FACTS_FILE) -> tuple[str, ...]:
    """Packages of SecNumCloud-qualified providers plus the engine's own."""
    return tuple(
        p.package for p in providers(path).values() if p.engine or p.secnumcloud_status == "qualified"
    )


def engine_packages(path: Path = FACTS_FILE) -> frozenset[str]:
    return frozenset(p.package for p in providers(path).values() if p.engine)
