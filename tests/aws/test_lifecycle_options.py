"""What `pulumi destroy` keeps, and two stacks side by side in one account: previewed under mocks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stacks.offline import run_preview
from tests.aws.conftest import STACK, Graph

#: Inputs that are physical names AWS keys by account and region (auto-named resources are not here).
_NAMED = {
    "aws:kms/alias:Alias": "name",
    "aws:kms/customKeyStore:CustomKeyStore": "customKeyStoreName",
    "aws:rds/instance:Instance": "identifier",
    "aws:ecs/cluster:Cluster": "name",
    "aws:ecs/taskDefinition:TaskDefinition": "family",
    "aws:cloudtrail/trail:Trail": "name",
    "aws:cloudwatch/logGroup:LogGroup": "name",
}


def test_destroy_keeps_keys_store_and_backup_vault_and_store_ignores_disconnect_only_fields() -> None:
    """retainOnDelete is an option the engine sees, not an input: read it from the registrations."""
    from pulumi.runtime import mocks

    retained: set[str] = set()
    ignored: dict[str, list[str]] = {}
    original = mocks.MockMonitor.RegisterResource

    def spy(self: Any, request: Any) -> Any:
        if request.retainOnDelete:
            retained.add(request.type)
        if request.ignoreChanges:
            ignored[request.type] = list(request.ignoreChanges)
        return original(self, request)  # type: ignore[no-untyped-call]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mocks.MockMonitor, "RegisterResource", spy)
        run_preview(STACK)
    assert {
        "aws:kms/key:Key",
        "aws:kms/customKeyStore:CustomKeyStore",
        "aws:backup/vault:Vault",
    } <= retained
    # AWS refuses these while the store is CONNECTED: the connection resource applies them instead.
    assert ignored["aws:kms/customKeyStore:CustomKeyStore"] == [
        "xksProxyUriEndpoint",
        "xksProxyConnectivity",
        "xksProxyVpcEndpointServiceName",
    ]


def physical_names(graph: Graph) -> set[str]:
    found = set()
    for type_token, key in _NAMED.items():
        for state in graph.of_type(type_token):
            value = state["inputs"].get(key)
            if value:
                found.add(f"{type_token} {value}")
    return found


def test_two_stacks_in_one_account_share_no_physical_name(aws_graph: Graph, tmp_path: Any) -> None:
    from stacks import offline

    staging = "aws-xks-staging"
    source = (offline.STACKS_DIR / f"Pulumi.{STACK}.yaml").read_text(encoding="utf-8")
    (tmp_path / f"Pulumi.{staging}.yaml").write_text(
        re.sub(r"booking:environment: \w+", "booking:environment: staging", source), encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(offline, "STACKS_DIR", tmp_path)
        second = Graph(run_preview(staging).states)
    first_names, second_names = physical_names(aws_graph), physical_names(second)
    assert len(first_names) >= 12, first_names
    assert first_names & second_names == set()
    assert all(STACK in name for name in first_names if "alias" in name or "Cluster" in name)
