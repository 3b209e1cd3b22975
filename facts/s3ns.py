"""What the S3NS universe allows, read from ``data/facts/s3ns.yaml`` (one sourced row per constraint).

The stack config, the S3NS component and the policies read these rows and nothing else: the universe
domain, the project-id format, the Cloud KMS protection levels, the Secret Manager mode, the SSL
policy profiles, how service agents are obtained, the APIs the stack enables. A row that names no
source, or a source that ``data/facts/sources.yaml`` lacks or leaves undated, stops the load: a
capability with no source is refused, never assumed. A row whose source was searched for and not
found carries ``not_found`` and a refusal as its value.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from facts.providers import FactsFileError
from facts.resources import data_dir, read_model

S3NS_FILE: Final = data_dir() / "facts" / "s3ns.yaml"
SOURCES_FILE: Final = S3NS_FILE.parent / "sources.yaml"
_DATED: Final = re.compile(r"^\d{4}-\d{2}-\d{2}")
#: Cloud KMS's name for the external-over-VPC protection level (an API enum value, not a capability:
#: whether the universe offers it is the ``kms_protection_levels`` row).
EXTERNAL_VPC: Final = "EXTERNAL_VPC"
#: The value a row takes when the capability could not be established from a source.
REFUSED: Final = "refused"


class Capability(BaseModel):
    """One constraint of the universe, with the sources it rests on and what they say."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: Any
    sources: tuple[str, ...] = ()
    says: str = ""
    #: Set when the source was searched for and not found: the value must then be a refusal.
    not_found: str = ""

    @model_validator(mode="after")
    def _sourced(self) -> Capability:
        if self.not_found:
            if self.value != REFUSED:
                raise ValueError(f"a row with not_found must have value {REFUSED!r} (fail closed)")
            return self
        if not self.sources:
            raise ValueError("names no source: a capability with no source is refused")
        if not self.says:
            raise ValueError("says nothing of what its sources state")
        return self


class LocalSource(BaseModel):
    """A source only this file cites (the comparison report's sources are in sources.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = Field(min_length=1)
    url: str = Field(pattern=r"^https://")
    publisher: str = Field(min_length=1)
    retrieved: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}")


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    universe: str = Field(min_length=1)
    sources: dict[str, LocalSource] = Field(default_factory=dict)
    capabilities: dict[str, Capability]


def _dated_sources(path: Path) -> dict[str, str]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise FactsFileError(f"{path}: cannot be read as YAML ({error})") from error
    sources = raw.get("sources") if isinstance(raw, dict) else None
    if not isinstance(sources, dict):
        raise FactsFileError(f"{path}: sources: must be a mapping of source ids")
    return {key: str(value.get("retrieved", "")) for key, value in sources.items() if isinstance(value, dict)}


def _cited(name: str, value: Any) -> list[tuple[str, str]]:
    """(where, source id) for the per-item sources a value carries (the APIs' list)."""
    if not isinstance(value, list):
        return []
    return [
        (f"{name}.value[{index}]", source)
        for index, item in enumerate(value)
        if isinstance(item, dict)
        for source in item.get("sources") or ()
    ]


@cache
def load(path: Path = S3NS_FILE, sources_path: Path = SOURCES_FILE) -> dict[str, Capability]:
    """Every capability of ``path`` by name, each checked against the dated sources once per process."""
    parsed = read_model(path, _File, FactsFileError)
    dated = _dated_sources(sources_path)
    both = sorted(set(parsed.sources) & set(dated))
    if both:
        raise FactsFileError(
            f"{path}: sources: {', '.join(both)} also in {sources_path} (one place per source)"
        )
    dated |= {key: source.retrieved for key, source in parsed.sources.items()}
    for name, row in parsed.capabilities.items():
        cited = [(f"{name}.sources", s) for s in row.sources] + _cited(name, row.value)
        for where, source in cited:
            if source not in dated:
                raise FactsFileError(
                    f"{path}: capabilities.{where}: source {source!r} is not in {sources_path}"
                )
            if not _DATED.match(dated[source]):
                raise FactsFileError(
                    f"{path}: capabilities.{where}: source {source!r} has no YYYY-MM-DD retrieval date"
                )
        if isinstance(row.value, list):
            for index, item in enumerate(row.value):
                if isinstance(item, dict) and not item.get("sources"):
                    raise FactsFileError(f"{path}: capabilities.{name}.value[{index}]: names no source")
    return parsed.capabilities


def capability(name: str, path: Path = S3NS_FILE) -> Capability:
    try:
        return load(path)[name]
    except KeyError as error:
        raise FactsFileError(f"{path}: capabilities.{name}: missing") from error


def cite(name: str) -> str:
    """``<row> (<source ids>)``: how a message names the row it enforces."""
    row = capability(name)
    return f"data/facts/s3ns.yaml {name} ({', '.join(row.sources) or 'no source found'})"


def universe_domain() -> str:
    return str(capability("universe_domain").value)


def project_prefix() -> str:
    return str(capability("project_id").value["prefix"])


def project_pattern() -> str:
    """The whole prefixed project id, as a regular expression body (no anchors)."""
    value = capability("project_id").value
    return re.escape(str(value["prefix"])) + str(value["pattern"]).lstrip("^").rstrip("$")


def key_protection_levels() -> tuple[str, ...]:
    return tuple(capability("kms_protection_levels").value)


def secret_manager_mode() -> str:
    return str(capability("secret_manager_mode").value)


def ssl_policy() -> dict[str, Any]:
    return dict(capability("ssl_policy").value)


def service_agent_domain() -> str:
    return str(capability("service_agents").value["domain"])


def agents_from_config() -> tuple[str, ...]:
    """Service agents the operator gives as config (the universe offers no API to obtain them)."""
    value = capability("service_agents").value
    return tuple(k for k, how in value.items() if how == "config")


def apis() -> tuple[str, ...]:
    """The APIs the stack enables, each shown in the universe by its own source."""
    return tuple(str(item["api"]) for item in capability("apis").value)


def refused(name: str) -> bool:
    return bool(capability(name).value == REFUSED)
