"""What the comparison reads from an offline preview: inventory, key custody, bill of materials.

Everything here is derived from the preview document (``pulumi preview --json`` shape), so the
report's figures change when the stacks change.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from facts.tokens import (
    CUSTOM_KEY_STORE,
    GCP_BUCKET,
    GCP_KMS_KEY,
    GCP_SECRET,
    GCP_SQL_INSTANCE,
    KMS_KEY,
    SCALEWAY_KEY,
)

CATEGORIES = ("compute", "data", "network", "keys", "logging", "identity", "other")

#: Type-token fragments → category (first match wins). Component resources are not counted.
_CATEGORY_RULES: tuple[tuple[str, str], ...] = (
    ("kms/", "keys"),
    ("gcp:sql/", "data"),
    ("gcp:storage/", "data"),
    ("gcp:cloudrun", "compute"),
    ("gcp:compute/", "network"),
    ("gcp:logging/", "logging"),
    ("keymanager/", "keys"),
    ("secretsmanager/", "keys"),
    ("secrets/", "keys"),
    ("cloudwatch/", "logging"),
    ("cloudtrail/", "logging"),
    ("observability/", "logging"),
    ("flowLog", "logging"),
    ("bucketLogging", "logging"),
    ("rds/", "data"),
    ("s3/", "data"),
    ("databases/", "data"),
    ("object/", "data"),
    ("backup/", "data"),
    ("ecs/", "compute"),
    ("containers/", "compute"),
    ("instance/server", "compute"),
    ("ec2/", "network"),
    ("lb/", "network"),
    ("loadbalancers/", "network"),
    ("network/", "network"),
    ("vpc/", "network"),
    ("iam/", "identity"),
    ("randomPassword", "identity"),
)

#: Resource types that hold data a key protects (for the custody diagram).
DATA_STORE_TYPES = (
    "aws:rds/instance:Instance",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:secretsmanager/secret:Secret",
    "aws:backup/vault:Vault",
    "aws:cloudtrail/trail:Trail",
    "scaleway:databases/instance:Instance",
    "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "scaleway:secrets/secret:Secret",
    "scaleway:containers/container:Container",
    GCP_SQL_INSTANCE,
    GCP_BUCKET,
    GCP_SECRET,
    "gcp:logging/projectBucketConfig:ProjectBucketConfig",
)
KEY_TYPES = (KMS_KEY, SCALEWAY_KEY, GCP_KMS_KEY)


class PreviewError(ValueError):
    """The preview document does not have the expected shape."""


def name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def category_of(type_token: str) -> str:
    for fragment, category in _CATEGORY_RULES:
        if fragment in type_token:
            return category
    return "other"


@dataclass
class Option:
    """One stack: its target (aws / scaleway / keystore), config and resources."""

    stack: str
    target: str
    config: dict[str, str]
    states: list[dict[str, Any]]

    @property
    def cloud_resources(self) -> list[dict[str, Any]]:
        """Custom resources of a cloud provider (not providers, not the engine's own packages)."""
        return [
            s
            for s in self.states
            if s.get("custom") and not s["type"].startswith(("pulumi:", "pulumi-python:", "random:"))
        ]

    def of_type(self, type_token: str) -> list[dict[str, Any]]:
        return [s for s in self.states if s["type"] == type_token]

    def region(self) -> str:
        return (
            self.config.get("booking:region")
            or self.config.get("aws:region")
            or self.config.get("scaleway:region")
            or self.config.get("gcp:region", "unknown")
        )

    def sizes(self) -> dict[str, Any]:
        raw = self.config.get("booking:sizes", "{}")
        try:
            sizes = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            return {}
        return sizes if isinstance(sizes, dict) else {}


def option_from_preview(stack: str, document: Mapping[str, Any]) -> Option:
    config = document.get("config")
    steps = document.get("steps")
    if not isinstance(config, dict) or not isinstance(steps, list):
        raise PreviewError(f"preview of {stack!r}: expected 'config' mapping and 'steps' list")
    states = []
    for step in steps:
        state = step.get("newState") if isinstance(step, dict) else None
        if isinstance(state, dict) and "type" in state and "urn" in state:
            states.append(state)
    # A preview lists resources in the order the program registered them, which varies from run to run
    # (registration is asynchronous): in URN order, the same stack gives the same report every time.
    states.sort(key=lambda state: str(state["urn"]))
    target = str(config.get("booking:target", ""))
    if not target:
        raise PreviewError(f"preview of {stack!r}: config has no booking:target")
    return Option(stack, target, {str(k): str(v) for k, v in config.items()}, states)


def inventory(option: Option) -> dict[str, Counter[str]]:
    """Cloud resources per category, each a count per type token."""
    result: dict[str, Counter[str]] = {c: Counter() for c in CATEGORIES}
    for state in option.cloud_resources:
        result[category_of(state["type"])][state["type"]] += 1
    return result


# --- key custody -----------------------------------------------------------------------------


@dataclass(eq=False)
class Key:
    name: str
    type: str
    where: str
    operator: str
    protects: list[str] = field(default_factory=list)
    domain: str = ""


@dataclass
class Custody:
    store: str
    store_operator: str
    keys: list[Key]
    unkeyed: list[str]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        if value.startswith(("[", "{")):
            try:
                yield from _strings(json.loads(value))
            except json.JSONDecodeError:
                return
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _describe_key(state: dict[str, Any], option: Option) -> tuple[str, str, str]:
    """Where a key's material lives, who operates it, and its data domain."""
    inputs = state.get("inputs", {})
    suffix = name_of(state["urn"]).rsplit("-", 1)[-1]
    if state["type"] == KMS_KEY:
        if inputs.get("customKeyStoreId"):
            where = f"HSM in France (external key {inputs.get('xksKeyId', '?')})"
            operator = "French key custodian; used by AWS KMS"
        else:
            where, operator = f"AWS KMS {option.region()}", "AWS"
        return where, operator, str((inputs.get("tags") or {}).get("booking:data-domain", ""))
    if state["type"] == GCP_KMS_KEY:
        return f"Cloud KMS {option.region()} (S3NS)", "S3NS", suffix
    return f"Scaleway Key Manager {inputs.get('region', option.region())}", "Scaleway", suffix


def custody(option: Option) -> Custody:
    """Each key of the stack, where its material lives, who operates it and which stores it protects."""
    key_states = [s for s in option.states if s["type"] in KEY_TYPES]
    ids: dict[str, Key] = {}
    keys: list[Key] = []
    store = "none"
    store_operator = ""
    for cks in option.of_type(CUSTOM_KEY_STORE):
        inputs = cks.get("inputs", {})
        store = f"{inputs.get('customKeyStoreType', '?')} at {inputs.get('xksProxyUriEndpoint', '?')}"
        store_operator = "French key custodian (XKS proxy + HSM in France)"
    for state in key_states:
        inputs, outputs = state.get("inputs", {}), state.get("outputs", {}) or {}
        where, operator, domain = _describe_key(state, option)
        key = Key(name_of(state["urn"]), state["type"], where, operator, domain=domain)
        keys.append(key)
        full_name = f"{inputs.get('keyRing')}/cryptoKeys/{inputs.get('name', name_of(state['urn']))}"
        for ident in (outputs.get("arn"), outputs.get("id"), outputs.get("keyId"), full_name):
            if isinstance(ident, str) and ident:
                ids[ident] = key
    unkeyed = []
    for state in option.states:
        if state["type"] not in DATA_STORE_TYPES:
            continue
        found = {ids[s] for s in _strings(state.get("inputs", {})) if s in ids}
        kind = state["type"].rsplit(":", 1)[-1]
        if kind == "Container":
            kind = "Container: application-level field encryption"
        label = f"{name_of(state['urn'])} ({kind})"
        for key in keys:
            if key in found:
                key.protects.append(label)
        if not found and state["type"] != "scaleway:containers/container:Container":
            unkeyed.append(label)
    return Custody(store, store_operator, keys, unkeyed)
