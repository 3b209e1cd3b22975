"""Cloud KMS on Google Cloud technology (S3NS): which key of the stack a CMEK setting denotes."""

from __future__ import annotations

from typing import Any

from facts import tokens
from policies.model import Resource, Stack, is_known

GCP_KEY = tokens.GCP_KMS_KEY
GCP_KEY_RING = tokens.GCP_KMS_KEY_RING


def _ids(resource: Resource) -> set[str]:
    return {v for v in (resource.id, resource.get("id")) if isinstance(v, str) and v}


def resolve_gcp_key(stack: Stack, resource: Resource, value: Any) -> tuple[Resource, ...]:
    """Cloud KMS keys of the stack a ``kmsKeyName``-like value denotes: by id (a key's id is its
    resource name ``projects/.../cryptoKeys/<key>``, a key version's name starts with it), else, while
    the value is unknown in a preview, by dependency."""
    if isinstance(value, str) and is_known(value) and value:
        for key in stack.of_type(GCP_KEY):
            for ident in _ids(key):
                if value == ident or value.startswith(f"{ident}/cryptoKeyVersions/"):
                    return (key,)
        return ()
    if value is None or value == "":
        return ()
    return tuple(stack.dependencies_of(resource, GCP_KEY))


def key_ring_of(stack: Stack, key: Resource) -> Resource | None:
    """The stack's key ring holding ``key`` (by its ``keyRing`` id, else by dependency)."""
    value = key.get("keyRing")
    if isinstance(value, str) and is_known(value) and value:
        for ring in stack.of_type(GCP_KEY_RING):
            if value in _ids(ring):
                return ring
        return None
    rings = stack.dependencies_of(key, GCP_KEY_RING)
    return rings[0] if len(rings) == 1 else None
