"""Which keys protect which data: shared by the encryption and key-location rules."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from policies.catalog import AWS_DATA_STORES, S3_BUCKET_TYPES, S3_SSE_TYPES, KeySetting
from policies.model import KeyResolution, Resource, Stack, is_known, resolve_kms_key
from policies.rules._helpers import as_list, is_true, settings_of

SCALEWAY_KEY = "scaleway:keymanager/key:Key"
_KMS_SSE = ("aws:kms", "aws:kms:dsse")


@dataclass(frozen=True, slots=True)
class Protection:
    """A data store (or one part of it) and what protects it at rest."""

    resource: Resource
    protects: str
    #: Set when encryption is off or not with a customer key: the reason.
    problem: str
    resolution: KeyResolution | None


def _setting(stack: Stack, resource: Resource, setting: KeySetting) -> Protection | None:
    if setting.when is not None and not is_true(resource.get(*setting.when)):
        return None
    if setting.flag is not None and not is_true(resource.get(*setting.flag)):
        return Protection(resource, setting.protects, f"encryption of {setting.protects} is off", None)
    if setting.kind is not None:
        path, accepted = setting.kind
        actual = resource.get(*path)
        if actual not in accepted:
            return Protection(
                resource,
                setting.protects,
                f"{'.'.join(path)} is {actual!r}, not one of {', '.join(accepted)}",
                None,
            )
    resolution = resolve_kms_key(stack, resource, resource.get(*setting.key))
    return Protection(resource, setting.protects, resolution.problem, resolution)


def _bucket_rules(stack: Stack, bucket: Resource) -> list[tuple[Resource, dict[str, Any]]]:
    rules: list[tuple[Resource, dict[str, Any]]] = []
    inline = bucket.get("serverSideEncryptionConfiguration", "rule")
    for rule in as_list(inline):
        if isinstance(rule, dict):
            rules.append((bucket, rule))
    for sse in settings_of(stack, bucket, S3_SSE_TYPES):
        for rule in as_list(sse.get("rules")):
            if isinstance(rule, dict):
                rules.append((sse, rule))
    return rules


def _bucket(stack: Stack, bucket: Resource) -> Protection:
    rules = _bucket_rules(stack, bucket)
    if not rules:
        return Protection(
            bucket, "objects", "no server-side encryption configuration names this bucket", None
        )
    for holder, rule in rules:
        default = rule.get("applyServerSideEncryptionByDefault")
        default = default[0] if isinstance(default, list) and default else default
        if not isinstance(default, dict):
            continue
        algorithm = default.get("sseAlgorithm")
        if algorithm not in _KMS_SSE:
            return Protection(bucket, "objects", f"default encryption is {algorithm!r}, not SSE-KMS", None)
        resolution = resolve_kms_key(stack, holder, default.get("kmsMasterKeyId"))
        return Protection(bucket, "objects", resolution.problem, resolution)
    return Protection(bucket, "objects", "the encryption configuration sets no default encryption", None)


def aws_protections(stack: Stack) -> Iterator[Protection]:
    """Every AWS data store part with its key, or the reason it has none."""
    for type_token, settings in AWS_DATA_STORES.items():
        for resource in stack.of_type(type_token):
            for setting in settings:
                protection = _setting(stack, resource, setting)
                if protection is not None:
                    yield protection
    for bucket in stack.of_type(*S3_BUCKET_TYPES):
        yield _bucket(stack, bucket)


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
