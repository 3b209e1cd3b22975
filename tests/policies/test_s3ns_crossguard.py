"""The CrossGuard pack over gRPC with the S3NS stack's engine config: the shipped stack has no
violation (its HDS exception applies, its SecNumCloud requirement is read from the stack config), and a
service outside the qualified perimeter is refused at deploy time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from tests.policies.policy_support import ROOT, preview_document
from tests.policies.s3ns_mutants import S3NS, S3NS_MUTANTS
from tests.policies.test_policy_crossguard_grpc import _violations


@pytest.fixture(scope="module")
def stub() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    document = preview_document(S3NS)
    config = {k: v for k, v in document["config"].items() if v != "[secret]"}
    env = {**os.environ, "PULUMI_CONFIG": json.dumps(config), "PULUMI_PROJECT": "sovereign-booking",
           "PULUMI_STACK": S3NS, "PULUMI_DRY_RUN": "true"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "policies" / "__main__.py")],
        cwd=ROOT / "policies", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().decode().strip())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=30)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_shipped_s3ns_stack_has_no_mandatory_violation(stub: Any) -> None:
    """Only BK-PROV-005's advisories remain: every service rests on S3NS's documentation, none on the
    qualification's published scope (data/facts/providers.yaml)."""
    found = _violations(stub, preview_document(S3NS))
    assert [d for d in found if d.enforcementLevel == analyzer_pb2.MANDATORY] == []
    assert found and {d.policyName for d in found} == {"BK-PROV-005"}


@pytest.mark.parametrize(
    "name",
    [
        "s3ns-service-outside-perimeter", "s3ns-sql-no-cmek", "s3ns-sql-public-ip", "s3ns-tls-1-0",
        "s3ns-provider-public-universe", "s3ns-provider-universe-unset", "s3ns-key-hsm",
        "s3ns-key-external-vpc-without-ekm", "s3ns-tls-modern", "s3ns-global-secret", "s3ns-cloud-run-no-cmek",
    ],
)  # fmt: skip
def test_mutant_refused_at_deploy_time(stub: Any, name: str) -> None:
    mutant = next(m for m in S3NS_MUTANTS if m.name == name)
    names = {d.policyName for d in _violations(stub, mutant.apply(preview_document(S3NS)))}
    assert mutant.expected_rule in names
