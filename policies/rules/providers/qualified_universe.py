"""BK-PROV-003: where SecNumCloud is required, every resource is created through a provider configured
for a qualified universe (package gcp: ``universeDomain`` of data/facts/s3ns.yaml).

Package ``gcp`` is Google Cloud's technology: the same resources reach Google Cloud's public universe
unless the provider names S3NS's. The universe is read from the resource's explicit provider, or, for a
default provider, from the stack's ``gcp:universeDomain`` config. A provider the audit cannot see is a
finding: what cannot be established does not pass.
"""

from __future__ import annotations

from collections.abc import Iterator

from facts import s3ns as universe
from policies.model import Resource, Stack
from policies.rules import Rule, Violation
from policies.rules.providers.secnumcloud_only import applies_where_required, cloud_resources, required
from policies.settings import PolicyConfig


def qualified_universes() -> dict[str, str]:
    """Provider package -> the API domain of its SecNumCloud-qualified universe (sourced)."""
    return {"gcp": universe.universe_domain()}


def _is_default(provider_urn: str) -> bool:
    # Default providers are named default or default_<version> by the engine.
    return "::default" in provider_urn


def _universe_of(stack: Stack, resource: Resource) -> tuple[str | None, str]:
    """(the universe domain the resource's provider is configured for, where it was read)."""
    provider = stack.by_urn(resource.provider_urn) if resource.provider_urn else None
    key = f"{resource.package}:universeDomain"
    if provider is not None:
        value = provider.get("universeDomain")
        return (str(value) if value else None), f"provider {provider.name}"
    if not resource.provider_urn or _is_default(resource.provider_urn):
        value = stack.config.get(key)
        return (str(value) if value else None), f"default provider (stack config {key})"
    return None, f"provider {resource.provider_urn} (not in what the audit read)"


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    if not required(stack, config):
        return
    domains = qualified_universes()
    for resource, _provider in cloud_resources(stack):
        expected = domains.get(resource.package)
        if expected is None:
            yield Violation(f"package {resource.package!r} has no SecNumCloud-qualified universe", resource)
            continue
        found, where = _universe_of(stack, resource)
        if found != expected:
            yield Violation(
                f"{where} is configured for universe {found or 'unset (the public universe)'}, not {expected} "
                f"({universe.cite('universe_domain')})",
                resource,
            )


RULE = Rule(
    id="BK-PROV-003",
    title="Where SecNumCloud is required, every resource goes through a provider of the qualified universe",
    severity="critical",
    mandatory=True,
    regulations=("SNC-3.2-19", "SREN-31"),
    remediation=(
        "Create every resource through an explicit provider whose universe_domain is the qualified universe "
        f"(gcp: {universe.universe_domain()}, data/facts/s3ns.yaml), or set gcp:universeDomain in the stack config for the "
        "default provider."
    ),
    rationale=(
        "The gcp package reaches Google Cloud's public universe unless told otherwise: the same resource types "
        "inside the qualified perimeter are outside it there."
    ),
    check=check,
    scope="stack",
    applies=applies_where_required,
)
