# ruff: noqa: PLR0911 - key resolution answers early, one return per kind of reference
"""AWS KMS: which customer-managed key of the stack protects each data store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from facts.tokens import KMS_ALIAS, KMS_EXTERNAL_KEY, KMS_KEY, KMS_REPLICA_KEY
from policies.catalog import AWS_DATA_STORES, S3_BUCKET_TYPES, S3_SSE_TYPES, KeySetting
from policies.model import SECRET, Resource, Stack, is_known
from policies.rules._helpers import as_list, is_true, settings_of
from policies.rules._keys import KeyResolution, Protection

_KMS_SSE = ("aws:kms", "aws:kms:dsse")

KMS_KEY_TYPES = (KMS_KEY, KMS_REPLICA_KEY, KMS_EXTERNAL_KEY)

_KMS_KEY_ARN = re.compile(
    r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<kind>key|alias)/(?P<id>.+)$"
)


def resolve_kms_key(stack: Stack, resource: Resource, value: Any) -> KeyResolution:
    """Resolves a KMS key reference (ARN, key id, alias name or ARN) to keys of the stack.

    Exact matches on key ids/ARNs (known in a stack export) win. In a preview the key's ARN is not
    among its inputs, or the reference is unknown: then the resource's dependencies on the stack's
    keys tell which keys it may denote, and every one of them must pass the key rules.
    """
    if value is None or value == "":
        return KeyResolution((), "no customer-managed key is set (the service's AWS-managed key is used)")
    if value is SECRET or not isinstance(value, str):
        return KeyResolution((), "the key reference is not a plain key id or ARN")
    if is_known(value):
        if value.startswith("alias/aws/") or ":alias/aws/" in value:
            return KeyResolution(
                (), f"{value} is an AWS-managed key, not a customer-managed key of the stack"
            )
        key = stack.references(value, KMS_KEY, ("arn", "keyId"))
        key = key or stack.references(value, KMS_REPLICA_KEY, ("arn", "keyId"))
        key = key or stack.references(value, KMS_EXTERNAL_KEY, ("arn", "keyId"))
        if key is not None:
            return KeyResolution((key,))
        alias = stack.references(value, KMS_ALIAS, ("arn", "name"))
        if alias is not None:
            target = stack.references(alias.get("targetKeyId"), KMS_KEY, ("arn", "keyId"))
            targets = (target,) if target else tuple(stack.dependencies_of(alias, KMS_KEY))
            if targets:
                return KeyResolution(targets)
        match = _KMS_KEY_ARN.match(value)
        accounts = _stack_accounts(stack)
        if match and accounts and match.group("account") not in accounts:
            return KeyResolution((), f"{value} belongs to another AWS account, not to this stack")
    candidates = tuple(r for t in KMS_KEY_TYPES for r in stack.dependencies_of(resource, t))
    if not candidates:
        for alias in stack.dependencies_of(resource, KMS_ALIAS):
            candidates += tuple(stack.dependencies_of(alias, KMS_KEY))
    if candidates:
        return KeyResolution(candidates)
    return KeyResolution((), f"{value} is not a key of this stack")


def _stack_accounts(stack: Stack) -> set[str]:
    """AWS account ids seen in the ARNs of the stack's own keys (known in exports and mocks)."""
    accounts = set()
    for key in stack.of_type(KMS_KEY):
        match = _KMS_KEY_ARN.match(str(key.get("arn", default="")))
        if match:
            accounts.add(match.group("account"))
    return accounts


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
