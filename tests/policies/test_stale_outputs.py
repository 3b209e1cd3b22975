"""Declared state is authoritative: stale outputs never pass a rule for a setting the program dropped.

Each case takes a compliant shipped stack, changes (or removes) one declared setting, and leaves the
step's outputs as they were before the change (the old value). In preview form the rule must judge
the declared value and fail; in export form it must fail too, and BK-STATE-001 must report the
disagreement between program and recorded state on that resource.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from policies.audit import audit_export, audit_preview
from tests.policies.policy_support import preview_document

Mutation = Callable[[dict[str, Any]], None]


def _drop(*keys: str) -> Mutation:
    def mutate(inputs: dict[str, Any]) -> None:
        for key in keys:
            del inputs[key]

    return mutate


def _set(key: str, value: Any) -> Mutation:
    def mutate(inputs: dict[str, Any]) -> None:
        inputs[key] = value

    return mutate


#: (topic, stack, resource type, resource name, change to the declared inputs, rule that must fail)
CASES = [
    ("keys", "aws-xks-paris", "aws:kms/key:Key", "booking-keys-database",
     _drop("customKeyStoreId", "xksKeyId"), "BK-KEY-001"),
    ("keys", "aws-xks-paris", "aws:kms/customKeyStore:CustomKeyStore", "booking-keys-store",
     _set("xksProxyUriEndpoint", "https://xks.example.com"), "BK-KEY-002"),
    ("keys", "scaleway-paris", "scaleway:keymanager/key:Key", "booking-keys-database",
     _set("region", "nl-ams"), "BK-KEY-003"),
    ("encryption", "aws-xks-paris", "aws:cloudwatch/logGroup:LogGroup", "booking-network-flow-logs",
     _drop("kmsKeyId"), "BK-ENC-001"),
    ("encryption", "aws-xks-paris", "aws:rds/instance:Instance", "booking-db-postgres",
     _drop("kmsKeyId"), "BK-ENC-001"),
    ("encryption", "scaleway-paris", "scaleway:databases/instance:Instance", "booking-database-postgres",
     _drop("encryptionAtRest"), "BK-ENC-002"),
    ("exposure", "aws-xks-paris", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
     "booking-audit-trail-public-access", _drop("blockPublicAcls"), "BK-EXP-001"),
    ("exposure", "aws-xks-paris", "aws:rds/instance:Instance", "booking-db-postgres",
     _set("publiclyAccessible", True), "BK-EXP-002"),
    ("transit", "aws-xks-paris", "aws:lb/listener:Listener", "booking-service-https",
     _drop("sslPolicy"), "BK-TLS-001"),
    ("transit", "aws-xks-paris", "aws:rds/parameterGroup:ParameterGroup", "booking-db-params",
     _drop("parameters"), "BK-TLS-002"),
    ("region", "aws-xks-paris", "pulumi:providers:aws", "paris", _set("region", "us-east-1"), "BK-REGION-001"),
    ("region", "scaleway-paris", "scaleway:object/bucket:Bucket", "booking-documents-bucket",
     _set("region", "nl-ams"), "BK-REGION-001"),
]  # fmt: skip


def _stale(stack: str, type_token: str, name: str, mutate: Mutation) -> dict[str, Any]:
    """The preview after the change, with the resource's outputs still holding the old values."""
    document: dict[str, Any] = preview_document(stack)
    matches = [
        s["newState"]
        for s in document["steps"]
        if s["newState"]["type"] == type_token and s["newState"]["urn"].endswith(f"::{name}")
    ]
    assert len(matches) == 1, f"{type_token} {name} not in {stack}"
    state = matches[0]
    state["outputs"] = {**state["inputs"], **(state.get("outputs") or {})}
    mutate(state["inputs"])
    return document


def _as_export(document: dict[str, Any]) -> dict[str, Any]:
    resources = [
        {**step["newState"], "id": (step["newState"].get("outputs") or {}).get("id", "")}
        for step in document["steps"]
    ]
    return {"version": 3, "deployment": {"manifest": {}, "resources": resources}}


def _ids(cases: list[tuple[Any, ...]]) -> list[str]:
    return [f"{c[0]}-{c[5]}-{c[3]}" for c in cases]


Case = tuple[str, str, str, str, Mutation, str]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_stale_output_never_passes_a_preview(case: Case) -> None:
    _, stack, type_token, name, mutate, rule = case
    baseline = audit_preview(preview_document(stack), stack)
    assert rule not in {f.rule_id for f in baseline.failed}
    result = audit_preview(_stale(stack, type_token, name, mutate), stack)
    failed = {(f.rule_id, f.resource_urn.rsplit("::", 1)[-1]) for f in result.failed}
    assert rule in {r for r, _ in failed}, failed
    assert "BK-STATE-001" not in {r for r, _ in failed}  # a preview judges the program, no drift rule


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_stale_output_in_an_export_is_drift(case: Case) -> None:
    _, stack, type_token, name, mutate, rule = case
    baseline = audit_export(_as_export(preview_document(stack)), stack)
    assert not {"BK-STATE-001", rule} & {f.rule_id for f in baseline.failed}
    result = audit_export(_as_export(_stale(stack, type_token, name, mutate)), stack)
    assert rule in {f.rule_id for f in result.failed}
    drift = [f for f in result.failed if f.rule_id == "BK-STATE-001"]
    assert [f.resource_urn.rsplit("::", 1)[-1] for f in drift] == [name]
    assert drift[0].mandatory
