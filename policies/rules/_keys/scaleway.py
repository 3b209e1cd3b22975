"""Scaleway Key Manager: which key of the stack a data store's key reference denotes."""

from __future__ import annotations

from typing import Any

from facts.tokens import SCALEWAY_KEY
from policies.model import Resource, Stack, is_known


def resolve_scaleway_key(stack: Stack, resource: Resource, value: Any) -> tuple[Resource, ...]:
    """Key Manager keys of the stack a ``keyId``/``kmsMasterKeyId`` denotes (value, else dependencies)."""
    if isinstance(value, str) and is_known(value) and value:
        plain = value.split("/", 1)[-1]
        for key in stack.of_type(SCALEWAY_KEY):
            if plain in (key.id, key.get("id")) or value in (key.id, key.get("id")):
                return (key,)
    if value is None or value == "":
        return ()
    return tuple(stack.dependencies_of(resource, SCALEWAY_KEY))
