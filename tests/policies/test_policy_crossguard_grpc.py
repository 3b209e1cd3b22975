"""The CrossGuard pack, driven the way the Pulumi engine drives it: over gRPC.

``python policies/__main__.py`` prints its port; the test calls GetAnalyzerInfo, Configure, Analyze
(each resource) and AnalyzeStack (all resources) with the offline preview of each stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policies.rules import all_rules
from scripts.bench_crossguard import analyzer_resources
from tests.policies.policy_support import ROOT, preview_document


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(values, struct_pb2.Struct())


@pytest.fixture(scope="module")
def analyzer() -> Iterator[tuple[analyzer_pb2_grpc.AnalyzerStub, dict[str, str]]]:
    document = preview_document("aws-xks-paris")
    config = {k: v for k, v in document["config"].items() if v != "[secret]"}
    env = {**os.environ, "PULUMI_CONFIG": json.dumps(config), "PULUMI_PROJECT": "sovereign-booking",
           "PULUMI_STACK": "aws-xks-paris", "PULUMI_DRY_RUN": "true"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "policies" / "__main__.py")],
        cwd=ROOT / "policies", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().decode().strip())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel), env
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def _violations(
    stub: analyzer_pb2_grpc.AnalyzerStub, document: dict[str, Any]
) -> list[analyzer_pb2.AnalyzeDiagnostic]:
    resources = analyzer_resources(document)
    found: list[analyzer_pb2.AnalyzeDiagnostic] = []
    for resource in resources:
        request = analyzer_pb2.AnalyzeRequest(
            type=resource.type, properties=resource.properties, urn=resource.urn, name=resource.name,
            provider=resource.provider if resource.HasField("provider") else None,
        )  # fmt: skip
        found += stub.Analyze(request).diagnostics
    found += stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources)).diagnostics
    return [d for d in found if not d.message.startswith("can't run policy")]


def test_analyzer_info_exposes_every_rule_with_its_config_schema(analyzer: Any) -> None:
    stub, _ = analyzer
    info = stub.GetAnalyzerInfo(empty_pb2.Empty())
    names = {p.name for p in info.policies}
    assert names == {r.id for r in all_rules()}
    policy = next(p for p in info.policies if p.name == "BK-KEY-002")
    assert "xksEndpointHosts" in policy.configSchema.properties
    assert policy.enforcementLevel == analyzer_pb2.MANDATORY


@pytest.mark.parametrize("stack", ["aws-xks-paris", "scaleway-paris"])
def test_shipped_stacks_have_no_violation(analyzer: Any, stack: str) -> None:
    stub, _ = analyzer
    assert _violations(stub, preview_document(stack)) == []


def test_violations_of_a_mutated_stack_are_reported_with_their_rule(analyzer: Any) -> None:
    stub, _ = analyzer
    document = preview_document("aws-xks-paris")
    for step in document["steps"]:
        state = step["newState"]
        if state["type"] == "aws:rds/instance:Instance":
            for props in (state["inputs"], state.get("outputs") or {}):
                props["publiclyAccessible"] = True
                props["region"] = "us-east-1"
        if state["type"] == "aws:kms/customKeyStore:CustomKeyStore":
            for props in (state["inputs"], state.get("outputs") or {}):
                props["customKeyStoreType"] = "AWS_CLOUDHSM"
    names = {d.policyName for d in _violations(stub, document)}
    assert {"BK-EXP-002", "BK-REGION-001", "BK-KEY-001", "BK-KEY-002"} <= names


def test_configure_narrows_the_allow_list(analyzer: Any) -> None:
    stub, _ = analyzer
    narrowed = analyzer_pb2.PolicyConfig(
        enforcementLevel=analyzer_pb2.MANDATORY,
        properties=_struct({"xksEndpointHosts": ["xks.elsewhere.fr"]}),
    )
    stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={"BK-KEY-002": narrowed}))
    try:
        names = {d.policyName for d in _violations(stub, preview_document("aws-xks-paris"))}
        assert names == {"BK-KEY-002"}
    finally:
        stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={}))


def test_the_key_store_stack_has_no_violation(analyzer: Any) -> None:
    stub, _ = analyzer
    assert _violations(stub, preview_document("keystore-paris")) == []


@pytest.mark.parametrize(
    "name",
    ["scw-route-host-and-path", "scw-iam-rule-unscoped", "scw-app-without-key-encrypt", "scw-container-env-scw",
     "keystore-single-zone-lb"],
)  # fmt: skip
def test_scaleway_constraint_mutants_stop_the_deploy(analyzer: Any, name: str) -> None:
    """The same constraint rules, as the engine runs them at `pulumi up`: each mutant is a mandatory violation."""
    from tests.policies.scaleway_constraint_mutants import SCALEWAY_CONSTRAINT_MUTANTS

    stub, _ = analyzer
    mutant = next(m for m in SCALEWAY_CONSTRAINT_MUTANTS if m.name == name)
    diagnostics = _violations(stub, mutant.apply(preview_document(mutant.stack)))
    caught = [d for d in diagnostics if d.policyName == mutant.expected_rule]
    assert caught and all(d.enforcementLevel == analyzer_pb2.MANDATORY for d in caught)
