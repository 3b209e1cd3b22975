"""Small readers shared by several rules (kept here so each rule file stays about its outcome)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from policies.model import SECRET, Resource, Stack, is_known

ARN = re.compile(r"arn:aws[a-z-]*:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>[0-9]*|aws):")


def walk_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, string) in a property tree; JSON documents held in strings are walked too."""
    if isinstance(value, str):
        yield path, value
        stripped = value.lstrip()
        if stripped[:1] in ("{", "[") and len(value) < 200_000:
            try:
                inner = json.loads(value)
            except ValueError:
                return
            yield from walk_strings(inner, path + "(json)")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_strings(item, f"{path}[{index}]")


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_plain_string(value: Any) -> bool:
    """A non-empty string that is neither a secret nor unknown."""
    return isinstance(value, str) and value != "" and is_known(value) and value is not SECRET


def bucket_identifiers(bucket: Resource) -> tuple[str, ...]:
    """Properties a setting resource may use to name its bucket (AWS: bucket/ARN, Scaleway: name)."""
    return ("name", "id") if bucket.package == "scaleway" else ("bucket", "arn", "id")


def settings_of(stack: Stack, bucket: Resource, setting_types: tuple[str, ...]) -> list[Resource]:
    """The bucket's setting resources (policy, encryption, ...) naming it by name, ARN or dependency."""
    found: list[Resource] = []
    for setting_type in setting_types:
        found += stack.referrers(bucket, setting_type, "bucket", bucket_identifiers(bucket))
    return found


def statements(policy: Any) -> list[dict[str, Any]]:
    """Statements of an IAM-style policy given as JSON text or as an object."""
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return []
    if not isinstance(policy, dict):
        return []
    found = policy.get("Statement", [])
    if isinstance(found, dict):
        found = [found]
    return [s for s in found if isinstance(s, dict)]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
