"""Adapter from CrossGuard's ``ResourceValidationArgs`` / ``StackValidationArgs``.

The pack (``policies/__main__.py``) installs :func:`keep_engine_markers` so that properties reach
the rules as the engine sent them: secrets as the envelope without their value (the rules must
know a value *is* a secret, and never need the plaintext), unknowns as the sentinel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from policies.inputs.common import resolve_region
from policies.model import Resource, Stack, normalize, package_of


def _plain(value: Any) -> Any:
    """Copies CrossGuard's read-only proxies into plain dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(value[k]) for k in value}
    if isinstance(value, (list, tuple)) or (isinstance(value, Sequence) and not isinstance(value, str)):
        return [_plain(v) for v in value]
    return value


def _unwrap(props: Any) -> dict[str, Any]:
    # The unknown-checking proxy raises on reading an unknown; read its target instead.
    target = getattr(props, "_DictProxy__target", None) or getattr(props, "_target", None)
    return normalize(_plain(target if target is not None else props))  # type: ignore[no-any-return]


def resource_from_policy_args(args: Any, config: Mapping[str, Any]) -> Resource:
    """One resource from ResourceValidationArgs or a StackValidationArgs PolicyResource."""
    provider = getattr(args, "provider", None)
    provider_props = _unwrap(provider.props) if provider is not None else {}
    props = _unwrap(args.props)
    parent_obj = getattr(args, "parent", None)
    parent = parent_obj.urn if parent_obj is not None else (getattr(args.opts, "parent", None) or "")
    type_token = str(args.resource_type)
    # CrossGuard sends only custom resources' providers; components have none.
    custom = provider is not None or type_token.startswith("pulumi:providers:")
    return Resource(
        type=type_token,
        name=str(args.name),
        urn=str(args.urn),
        properties=props,
        provider=package_of(type_token) if custom else "",
        provider_urn=str(provider.urn) if provider is not None else "",
        region=resolve_region(type_token, props, provider_props, config, custom=custom),
        parent=str(parent or ""),
        custom=custom,
        dependencies=tuple(str(d.urn) for d in getattr(args, "dependencies", None) or ()),
        id=str(props.get("id") or ""),
    )


def stack_from_resource_args(
    args: Any, stack: str, config: Mapping[str, Any], secret_keys: frozenset[str]
) -> Stack:
    return Stack(stack, [resource_from_policy_args(args, config)], config, secret_keys, kind="crossguard")


def stack_from_stack_args(
    args: Any, stack: str, config: Mapping[str, Any], secret_keys: frozenset[str]
) -> Stack:
    return Stack(
        stack,
        [resource_from_policy_args(r, config) for r in args.resources],
        config,
        secret_keys,
        kind="crossguard",
    )


def keep_engine_markers(props: Mapping[str, Any], proxy_secrets: bool = False) -> dict[str, Any]:
    """Replacement for pulumi_policy's deserializer that keeps secret and unknown markers.

    Secrets keep only their envelope (the value is dropped here, so no policy ever holds it).
    """
    del proxy_secrets
    return normalize(dict(props))  # type: ignore[no-any-return]
