"""BK-KEY-006 beyond the mutant table: what it cannot establish is a finding, and ambiguity in a preview."""

from __future__ import annotations

from typing import Any

from policies.inputs.preview import stack_from_preview
from policies.model import UNKNOWN
from policies.rules.keys.key_policy_names_needed_services import RULE
from policies.settings import PolicyConfig
from tests.policies.policy_mutants import first, property_maps
from tests.policies.policy_support import preview_document

AWS = "aws-xks-paris"


def violations(document: dict[str, Any]) -> list[str]:
    stack = stack_from_preview(document, AWS)
    return [
        f"{v.resource.name if v.resource else '-'}: {v.message}" for v in RULE.check(stack, PolicyConfig())
    ]


def _key(document: dict[str, Any], domain: str) -> dict[str, Any]:
    return first(document, "aws:kms/key:Key", lambda s: s["inputs"]["tags"]["booking:data-domain"] == domain)


def test_the_shipped_stack_passes() -> None:
    assert violations(preview_document(AWS)) == []


def test_an_unreadable_key_policy_is_a_finding() -> None:
    document = preview_document(AWS)
    for target in property_maps(_key(document, "backups")):
        target["policy"] = UNKNOWN
    assert violations(document) == [
        "booking-keys-backups: its key policy cannot be read, so the services it admits are unknown"
    ]


def test_a_key_reference_unknown_in_a_preview_is_judged_on_its_candidate_keys() -> None:
    """The cluster's key ARN unknown (first `pulumi up`): Fargate's use may be the documents or the logs
    key (the cluster depends on both); the documents key allows it, so no finding, and the logs key is
    not blamed for lacking it."""
    document = preview_document(AWS)
    cluster = first(document, "aws:ecs/cluster:Cluster")
    for target in property_maps(cluster):
        target["configuration"]["managedStorageConfiguration"]["fargateEphemeralStorageKmsKeyId"] = UNKNOWN
    assert violations(document) == []


def test_an_ambiguous_use_no_candidate_allows_is_a_finding() -> None:
    import json

    document = preview_document(AWS)
    cluster = first(document, "aws:ecs/cluster:Cluster")
    for target in property_maps(cluster):
        target["configuration"]["managedStorageConfiguration"]["fargateEphemeralStorageKmsKeyId"] = UNKNOWN
    for target in property_maps(_key(document, "documents")):
        policy = json.loads(target["policy"])
        policy["Statement"] = [s for s in policy["Statement"] if "Service" not in s["Principal"]]
        target["policy"] = json.dumps(policy)
    found = violations(document)
    assert len(found) == 1 and "fargate-ephemeral-storage" in found[0], found


def test_an_incomplete_live_read_does_not_call_a_principal_unneeded() -> None:
    """Log groups unread: the logs principal may well be needed; BK-LIVE-004 reports the gap instead."""
    import dataclasses

    from policies.model import Gap

    document = preview_document(AWS)
    stack = stack_from_preview(document, AWS)
    for group in stack.of_type("aws:cloudwatch/logGroup:LogGroup"):
        stack.resources.remove(group)
    rebuilt = dataclasses.replace(stack, resources=list(stack.resources))
    assert any("none of the key's uses needs" in v.message for v in RULE.check(rebuilt, PolicyConfig()))
    gap = Gap("aws", "eu-west-3", "CloudWatch log groups", "logs:DescribeLogGroups", "access denied")
    partial = dataclasses.replace(rebuilt, gaps=(gap,))
    assert [v.message for v in RULE.check(partial, PolicyConfig())] == []
