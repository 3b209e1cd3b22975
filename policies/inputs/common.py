"""What every adapter shares: region resolution and resource construction.

Declared state is authoritative. A state's ``inputs`` are what the program declares, and rules judge
them; ``outputs`` may add only attributes the cloud computes (:data:`COMPUTED_ATTRIBUTES`: ids,
ARNs, generated names), never a setting the program no longer declares. Otherwise a stale output
(a key store id, a log group's key) would pass a rule for a setting the program dropped.

In a stack export, where outputs hold a setting that disagrees with the inputs, the disagreement is
kept on the resource (:attr:`Resource.recorded`) and BK-STATE-001 reports it when a rule reads that
setting: drift between the program and the recorded state is a finding, never a silent pick.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from policies.model import SECRET, STACK_TYPE, Resource, is_known, normalize, package_of, region_of_zone


class AdapterError(ValueError):
    """The input file is not in the expected format; the message names the path of the field."""


#: Attributes the cloud computes and the program does not declare: outputs may add these, no others.
COMPUTED_ATTRIBUTES = frozenset(
    {"id", "arn", "name", "bucket", "keyId", "dnsName", "endpoint", "address", "zoneId", "hostedZoneId"}
    # Google Cloud technology (S3NS): self links, service-agent identities, Cloud SQL's connection data.
    | {"selfLink", "email", "member", "connectionName", "privateIpAddress"}
)

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


def check_state(state: object, where: str) -> Mapping[str, Any]:
    """Refuses a state an adapter cannot read, naming the path of the wrong field."""
    if not isinstance(state, Mapping):
        raise AdapterError(f"{where} must be an object, not {type(state).__name__}")
    for key in ("urn", "type"):
        if not isinstance(state.get(key), str) or not state.get(key):
            raise AdapterError(f"{where}.{key} must be a non-empty string")
    for key in ("inputs", "outputs"):
        if state.get(key) is not None and not isinstance(state.get(key), Mapping):
            raise AdapterError(f"{where}.{key} must be an object, not {type(state.get(key)).__name__}")
    for key in ("parent", "provider", "id"):
        if state.get(key) is not None and not isinstance(state.get(key), str):
            raise AdapterError(f"{where}.{key} must be a string, not {type(state.get(key)).__name__}")
    dependencies = state.get("dependencies")
    if dependencies is not None and (
        not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies)
    ):
        raise AdapterError(f"{where}.dependencies must be a list of URN strings")
    return state


def _meaningful(value: Any) -> Any:
    """A value without its empty leaves (None, "", False, 0, empty containers): what a default adds."""
    if isinstance(value, Mapping):
        pruned = {k: _meaningful(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_meaningful(v) for v in value]
    if value in ("", False, 0) and not isinstance(value, float):
        return None
    return value


def _covers(declared: Any, recorded: Any) -> bool:
    """Whether the recorded value agrees with the declared one (it may add defaults the cloud filled in)."""
    if declared is SECRET or recorded is SECRET:
        return True  # a secret's value is never in the model, so it cannot be compared
    if isinstance(declared, Mapping):
        return isinstance(recorded, Mapping) and all(_covers(v, recorded.get(k)) for k, v in declared.items())
    if isinstance(declared, list):
        return (
            isinstance(recorded, list)
            and len(declared) == len(recorded)
            and all(_covers(d, r) for d, r in zip(declared, recorded, strict=True))
        )
    if declared is None or not is_known(declared):
        return True
    # The engine gives numbers and booleans as strings in some inputs ("true", "5432").
    return str(declared).lower() == str(recorded).lower()


def disagreements(inputs: Mapping[str, Any], outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Settings whose recorded value (outputs) disagrees with the declared one (inputs)."""
    found: dict[str, Any] = {}
    for key, recorded in outputs.items():
        if key in COMPUTED_ATTRIBUTES or key.startswith("__"):
            continue
        meaningful = _meaningful(recorded)
        if key not in inputs:
            if meaningful not in (None, {}, []) and is_known(meaningful):
                found[key] = recorded
        elif not _covers(_meaningful(inputs[key]), meaningful):
            found[key] = recorded
    return found


def build_resources(
    states: Iterable[Mapping[str, Any]],
    config: Mapping[str, Any],
    *,
    keep_disagreements: bool = False,
) -> list[Resource]:
    """Resources from engine states (preview ``newState`` or export resources), providers resolved.

    A state carries ``urn``, ``type``, ``custom``, ``inputs``, optionally ``outputs``, ``id``,
    ``parent``, ``provider`` (``URN::id``) and ``dependencies``. Properties are the inputs plus the
    computed attributes of the outputs; with ``keep_disagreements`` (a stack export), outputs that
    disagree with the inputs are kept on the resource for BK-STATE-001.
    """
    states = [s for s in states if s.get("type") != STACK_TYPE]
    properties_by_urn: dict[str, dict[str, Any]] = {}
    recorded_by_urn: dict[str, dict[str, Any]] = {}
    for state in states:
        outputs = normalize(dict(state.get("outputs") or {}))
        inputs = normalize(dict(state.get("inputs") or {}))
        computed = {k: v for k, v in outputs.items() if k in COMPUTED_ATTRIBUTES and k not in inputs}
        properties_by_urn[str(state["urn"])] = {**inputs, **computed}
        if keep_disagreements and outputs:
            recorded_by_urn[str(state["urn"])] = disagreements(inputs, outputs)
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
                recorded=recorded_by_urn.get(urn) or {},
                # Region resolution reads these for every resource: the region rule judges them.
                read={"region", "zone"},
            )
        )
    return resources
