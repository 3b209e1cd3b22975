"""Live audit, one drift per case, on moto's server: each drift a fail-closed reader must catch.

The baseline is the compliant account of conftest.py (exit 0); each test adds one drift and asserts
the rule that names it, and the exit code of scripts/verify.py where the contract is at stake. moto
lacks KMS custom key stores: those two calls are answered by botocore Stubbers (conftest.kms_stubs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from policies.audit import audit_stack
from policies.inputs.live.aws import TAGGED
from tests.verify.conftest import HOME, Account, admin, build_compliant, kms_stubs, reader_for, verify_module

OTHER = "eu-central-1"


#: The regions this simulated account has enabled. moto enables all of its ~30; reading each in
#: detail would make every test slow, so DescribeRegions' answer is narrowed (below) to these.
ENABLED = (HOME, OTHER, "us-east-1")


def _only_enabled(parsed: dict[str, Any] | None = None, **_: Any) -> None:
    for region in (parsed or {}).get("Regions", []):
        if region["RegionName"] not in ENABLED:
            region["OptInStatus"] = "not-opted-in"


def run_cli(monkeypatch: pytest.MonkeyPatch, account: Account, out: Path, *args: str) -> int:
    from policies.inputs.live import guard

    def session(profile: str | None = None, region: str | None = None) -> Any:
        made = guard.guard_session(boto3.Session(profile_name=profile, region_name=region))
        made.events.register("after-call.ec2.DescribeRegions", _only_enabled)
        return made

    monkeypatch.setattr(guard, "read_only_session", session)
    verify = verify_module()
    clients, _ = kms_stubs(account, other_regions=tuple(r for r in ENABLED if r != HOME))
    monkeypatch.setattr(verify, "aws_client_overrides", lambda: clients)
    code: int = verify.main(["--target", "aws", "--out", str(out), "--quiet", *args])
    return code


def failed_on(stack: Any, rule_id: str) -> list[str]:
    """Names of the resources failing ``rule_id``."""
    result = audit_stack(stack)
    return [
        f.resource_urn.rsplit("::", 1)[-1]
        for f in result.findings
        if f.rule_id == rule_id and f.status == "failed"
    ]


def read_home(account: Account) -> Any:
    reader, _ = reader_for(account)
    return reader.read([HOME])


def test_dynamodb_table_without_customer_key(aws: str) -> None:
    account = build_compliant()
    admin("dynamodb").create_table(
        TableName="booking-slots",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "app", "Value": "booking"}],
    )
    assert failed_on(read_home(account), "BK-ENC-001") == [f"{HOME}/booking-slots"]


def test_dynamodb_table_under_the_customer_key_passes(aws: str) -> None:
    account = build_compliant()
    admin("dynamodb").create_table(
        TableName="booking-slots",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": account.key_arn},
    )
    stack = read_home(account)
    assert stack.of_type("aws:dynamodb/table:Table")
    assert failed_on(stack, "BK-ENC-001") == []


def test_ebs_volume_without_customer_key(aws: str) -> None:
    # moto gives an encrypted volume a key it lists as a customer key (AWS would use aws/ebs, an
    # AWS-managed key): the unencrypted volume is the drift moto models faithfully.
    account = build_compliant()
    volume = admin("ec2").create_volume(
        AvailabilityZone=f"{HOME}a", Size=8, Encrypted=False,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "app", "Value": "booking"}]}],
    )  # fmt: skip
    assert failed_on(read_home(account), "BK-ENC-001") == [f"{HOME}/{volume['VolumeId']}"]


def test_efs_without_customer_key(aws: str) -> None:
    account = build_compliant()
    system = admin("efs").create_file_system(
        CreationToken="booking-files", Encrypted=False, Tags=[{"Key": "app", "Value": "booking"}]
    )
    assert failed_on(read_home(account), "BK-ENC-001") == [f"{HOME}/{system['FileSystemId']}"]


def test_security_group_open_to_the_internet_on_5432(aws: str) -> None:
    account = build_compliant()
    ec2 = admin("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(GroupName="booking-db-open", Description="drift", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    assert failed_on(read_home(account), "BK-EXP-003") == [f"{HOME}/{group}"]


def test_rds_manual_snapshot_shared_publicly(aws: str) -> None:
    account = build_compliant()
    rds = admin("rds")
    rds.create_db_snapshot(DBInstanceIdentifier="booking-db", DBSnapshotIdentifier="before-upgrade")
    stack = read_home(account)
    assert failed_on(stack, "BK-EXP-005") == []
    rds.modify_db_snapshot_attribute(
        DBSnapshotIdentifier="before-upgrade", AttributeName="restore", ValuesToAdd=["all"]
    )
    assert failed_on(read_home(account), "BK-EXP-005") == [f"{HOME}/before-upgrade"]


def test_public_read_bucket_acl(aws: str) -> None:
    account = build_compliant()
    admin("s3").put_bucket_acl(Bucket=account.bucket, ACL="public-read")
    stack = read_home(account)
    [acl] = stack.of_type("aws:s3/bucketAcl:BucketAcl")
    assert len(acl.get("accessControlPolicy", "grants")) == 2  # the owner's grant and AllUsers READ
    result = audit_stack(stack)
    messages = [f.message for f in result.findings if f.rule_id == "BK-EXP-001"]
    assert messages == ["a public ACL grants access to everyone"]


def test_tagged_resource_of_a_type_not_read_fails(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = build_compliant()
    admin("sqs").create_queue(QueueName="booking-reminders", tags={"app": "booking"})
    code = run_cli(monkeypatch, account, tmp_path, "--regions", HOME)
    assert code == 1
    findings = json.loads((tmp_path / "findings.json").read_text())["stacks"][0]["findings"]
    unread = [f for f in findings if f["rule_id"] == "BK-LIVE-005"]
    assert len(unread) == 1
    assert unread[0]["message"].startswith(
        "sqs arn:aws:sqs:eu-west-3:123456789012:booking-reminders in eu-west-3"
    )
    assert unread[0]["resource_type"] == TAGGED and unread[0]["mandatory"] is True


def test_resources_read_in_detail_are_not_listed_as_seen_by_tag_only(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = build_compliant()
    db_arn = admin("rds").describe_db_instances()["DBInstances"][0]["DBInstanceArn"]
    admin("rds").add_tags_to_resource(ResourceName=db_arn, Tags=[{"Key": "app", "Value": "booking"}])
    assert run_cli(monkeypatch, account, tmp_path, "--regions", HOME) == 0
    coverage = json.loads((tmp_path / "coverage.json").read_text())
    assert coverage["seen_by_tag_only"] == []


def test_untagged_ebs_volume_in_eu_central_1_with_all_regions(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = build_compliant()
    volume = admin("ec2", OTHER).create_volume(AvailabilityZone=f"{OTHER}a", Size=8)["VolumeId"]
    assert run_cli(monkeypatch, account, tmp_path, "--regions", "all") == 1
    findings = json.loads((tmp_path / "findings.json").read_text())["stacks"][0]["findings"]
    region = [f for f in findings if f["rule_id"] == "BK-REGION-001"]
    assert [f["resource_urn"].rsplit("::", 1)[-1] for f in region] == [f"{OTHER}/{volume}"]


def test_untagged_log_group_in_eu_central_1_with_the_default_scope(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = build_compliant()
    admin("logs", OTHER).create_log_group(logGroupName="/booking/debug")
    assert run_cli(monkeypatch, account, tmp_path) == 1  # no --regions: every enabled region
    findings = json.loads((tmp_path / "findings.json").read_text())["stacks"][0]["findings"]
    region = [f["resource_urn"].rsplit("::", 1)[-1] for f in findings if f["rule_id"] == "BK-REGION-001"]
    assert region == [f"{OTHER}//booking/debug"]


@pytest.mark.parametrize("regions", [",", " , ", ""])
def test_empty_region_list_is_refused(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, regions: str
) -> None:
    account = build_compliant()
    assert run_cli(monkeypatch, account, tmp_path / "out", "--regions", regions) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "--regions" in error[0] and "Traceback" not in error[0]
    assert not (tmp_path / "out" / "findings.json").exists()
