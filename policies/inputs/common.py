"""What every adapter shares: region resolution and resource construction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from policies.model import STACK_TYPE, Resource, is_known, normalize, package_of, region_of_zone

#: Packages whose resources live in no cloud region (the engine's own, and local generators).
REGIONLESS_PACKAGES = frozenset({"pulumi", "pulumi-python", "pulumi-nodejs", "random", "tls", "command"})


def resolve_region(  # noqa: PLR0911 - one return per source, in order of precedence
    type_token: str,
    properties: Mapping[str, Any],
    provider_properties: Mapping[str, Any] | None,
    config: Mapping[str, Any],
    *,
    custom: bool = True,
) -> str | None:
    """The region a resource lives in, in order of precedence.

    1. its own ``region`` input (pulumi-aws v7 and Scaleway accept one per resource), or Scaleway's
       ``zone`` (``fr-par-1`` is in ``fr-par``), or on Google Cloud technology (S3NS) its ``location``
       (key rings, buckets, Cloud Run, log buckets; bucket locations are upper case);
    2. its explicit provider's ``region`` (or ``zone``);
    3. the stack's ``<package>:region`` (or ``scaleway:zone``) config, which the default provider reads.

    None for components and for packages that create nothing in a cloud. A value unknown during a
    preview resolves to the next source, as the engine would only know it later.
    """
    package = package_of(type_token)
    if not custom and not type_token.startswith("pulumi:providers:"):
        return None
    if package in REGIONLESS_PACKAGES or type_token == STACK_TYPE:
        return None
    location = properties.get("location")
    if package == "gcp" and isinstance(location, str) and is_known(location) and location:
        return region_of_zone(location.lower())
    for source in (properties, provider_properties or {}):
        region = source.get("region")
        if isinstance(region, str) and is_known(region) and region:
            return region_of_zone(region)
        zone = source.get("zone")
        if isinstance(zone, str) and is_known(zone) and zone:
            return region_of_zone(zone)
    for key in (f"{package}:region", f"{package}:zone"):
        value = config.get(key)
        if isinstance(value, str) and value and value != "[secret]":
            return region_of_zone(value)
    return None


def provider_urn_of(reference: str) -> str:
    """``URN::id`` (how the engine names a provider instance) -> URN."""
    if not reference:
        return ""
    urn, sep, _ = reference.rpartition("::")
    return urn if sep else reference


def build_resources(
    states: Iterable[Mapping[str, Any]],
    config: Mapping[str, Any],
) -> list[Resource]:
    """Resources from engine states (preview ``newState`` or export resources), providers resolved.

    A state carries ``urn``, ``type``, ``custom``, ``inputs``, optionally ``outputs``, ``id``,
    ``parent``, ``provider`` (``URN::id``) and ``dependencies``.
    """
    states = [s for s in states if s.get("type") != STACK_TYPE]
    properties_by_urn: dict[str, dict[str, Any]] = {}
    for state in states:
        outputs = state.get("outputs") or {}
        inputs = state.get("inputs") or {}
        # Inputs are what the program declared; outputs add what the cloud computed (ids, ARNs).
        merged = {**normalize(outputs), **normalize(inputs)} if outputs else normalize(inputs)
        properties_by_urn[str(state["urn"])] = merged
    resources = []
    for state in states:
        urn = str(state["urn"])
        type_token = str(state["type"])
        properties = properties_by_urn[urn]
        provider_urn = provider_urn_of(str(state.get("provider") or ""))
        custom = bool(state.get("custom", True))
        resources.append(
            Resource(
                type=type_token,
                name=urn.rsplit("::", 1)[-1],
                urn=urn,
                properties=properties,
                provider="" if not custom else package_of(type_token),
                provider_urn=provider_urn,
                region=resolve_region(
                    type_token, properties, properties_by_urn.get(provider_urn), config, custom=custom
                ),
                parent=str(state.get("parent") or ""),
                custom=custom,
                dependencies=tuple(str(d) for d in state.get("dependencies") or ()),
                id=str(state.get("id") or ""),
            )
        )
    return resources
