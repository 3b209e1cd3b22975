"""Live audit of AWS accounts served by moto on 127.0.0.1: a compliant baseline, then one drift per case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders

from policies.audit import audit_stack
from policies.inputs.live.aws import TAGGED, AwsReader
from policies.inputs.live.errors import CredentialError, UnknownRegionError
from policies.inputs.live.guard import read_only_session
from tests.verify.conftest import (
    HOME,
    Account,
    admin,
    build_compliant,
    compliant_store,
    kms_stubs,
    reader_for,
    verify_module,
)


def run_cli(
    monkeypatch: pytest.MonkeyPatch, account: Account, out: Path, *args: str, other: tuple[str, ...] = ()
) -> int:
    verify = verify_module()
    clients, _ = kms_stubs(account, other_regions=other)
    monkeypatch.setattr(verify, "aws_client_overrides", lambda: clients)
    code: int = verify.main(["--target", "aws", "--out", str(out), "--quiet", *args])
    return code


def failed(result: Any, rule_id: str) -> list[Any]:
    return [f for f in result.findings if f.rule_id == rule_id and f.status == "failed"]


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def error_response(status: int, body: str, content_type: str = "application/x-amz-json-1.1") -> AWSResponse:
    headers = HTTPHeaders()
    headers["Content-Type"] = content_type
    return AWSResponse("http://127.0.0.1/", status, headers, _Raw(body.encode()))


def query_error(code: str, message: str) -> str:
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    )


# -- compliant baseline -----------------------------------------------------------------------------


def test_compliant_account_passes(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    account = build_compliant()
    code = run_cli(monkeypatch, account, tmp_path, "--regions", HOME)
    output = capsys.readouterr().out
    assert code == 0, output
    assert "PASS" in output
    for name in ("junit.xml", "results.sarif", "findings.json", "index.html", "coverage.json"):
        assert (tmp_path / name).is_file()
    findings = json.loads((tmp_path / "findings.json").read_text())
    stack = findings["stacks"][0]
    assert stack["passed"] is True and stack["source"] == "live aws"
    assert "BK-LIVE-001" in stack["rules_evaluated"] and "BK-ENC-001" in stack["rules_evaluated"]


def test_model_uses_pulumi_types_and_names(aws: str) -> None:
    account = build_compliant()
    reader, _ = reader_for(account)
    stack = reader.read([HOME])
    sse = stack.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )[0]
    assert sse.get("rules", 0, "applyServerSideEncryptionByDefault", "kmsMasterKeyId") == account.key_arn
    db = stack.of_type("aws:rds/instance:Instance")[0]
    assert db.get("storageEncrypted") is True and db.get("kmsKeyId") == account.key_arn
    key = stack.of_type("aws:kms/key:Key")[0]
    assert key.get("customKeyStoreId") == "cks-0123456789abcdef0" and key.get("keyState") == "Enabled"
    assert key.get("origin") == "EXTERNAL_KEY_STORE"
    store = stack.of_type("aws:kms/customKeyStore:CustomKeyStore")[0]
    assert (
        store.get("customKeyStoreType") == "EXTERNAL_KEY_STORE"
        and store.get("connectionState") == "CONNECTED"
    )
    assert store.get("xksProxyUriEndpoint") == "https://xks.booking.example.fr"
    assert all(r.urn.startswith("urn:pulumi:live-aws-123456789012::sovereign-booking::") for r in stack)
    assert audit_stack(stack).passed


# -- drift after deploy -------------------------------------------------------------------------------


def test_bucket_encryption_removed_after_deploy(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = build_compliant()
    admin("s3").delete_bucket_encryption(Bucket=account.bucket)  # the console click
    reader, _ = reader_for(account)
    result = audit_stack(reader.read([HOME]))
    assert not result.passed
    [finding] = failed(result, "BK-ENC-001")
    assert finding.resource_urn.endswith(f"aws:s3/bucket:Bucket::{account.bucket}")
    assert "no server-side encryption configuration" in finding.message


def test_bucket_back_to_sse_s3_fails(aws: str) -> None:
    account = build_compliant()
    admin("s3").put_bucket_encryption(
        Bucket=account.bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    reader, _ = reader_for(account)
    [finding] = failed(audit_stack(reader.read([HOME])), "BK-ENC-001")
    assert "'AES256', not SSE-KMS" in finding.message


def test_key_store_disconnected_with_error_code(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    account = build_compliant()
    account.store = compliant_store(ConnectionState="DISCONNECTED", ConnectionErrorCode="XKS_PROXY_TIMED_OUT")
    code = run_cli(monkeypatch, account, tmp_path, "--regions", HOME)
    output = capsys.readouterr().out
    assert code == 1
    assert "BK-LIVE-001" in output and "XKS_PROXY_TIMED_OUT" in output
    sarif = json.loads((tmp_path / "results.sarif").read_text())
    assert any(r["ruleId"] == "BK-LIVE-001" and r["level"] == "error" for r in sarif["runs"][0]["results"])


def test_key_disabled(aws: str) -> None:
    account = build_compliant()
    account.xks_keys[account.key_id]["KeyState"] = "PendingDeletion"
    reader, _ = reader_for(account)
    [finding] = failed(audit_stack(reader.read([HOME])), "BK-LIVE-002")
    assert "PendingDeletion" in finding.message


def test_key_of_aws_origin_protecting_data(aws: str) -> None:
    account = build_compliant()
    account.xks_keys.clear()  # the key is an ordinary AWS_KMS key, no custom key store
    reader, _ = reader_for(account)
    [finding] = failed(audit_stack(reader.read([HOME])), "BK-KEY-001")
    assert "origin AWS_KMS" in finding.message


def test_snapshot_copied_to_us_east_1(aws: str) -> None:
    account = build_compliant()
    rds = admin("rds")
    snapshot = rds.create_db_snapshot(
        DBInstanceIdentifier="booking-db", DBSnapshotIdentifier="before-migration"
    )
    admin("rds", "us-east-1").copy_db_snapshot(
        SourceDBSnapshotIdentifier=snapshot["DBSnapshot"]["DBSnapshotArn"],
        TargetDBSnapshotIdentifier="before-migration-copy",
        SourceRegion=HOME,
        KmsKeyId="alias/aws/rds",
    )
    reader, _ = reader_for(account, other_regions=("us-east-1",))
    result = audit_stack(reader.read([HOME, "us-east-1"]))
    region = [f for f in failed(result, "BK-REGION-001") if "before-migration-copy" in f.resource_urn]
    assert len(region) == 1 and "us-east-1 is not allowed" in region[0].message
    assert region[0].resource_type == "aws:rds/snapshot:Snapshot"
    copies = [f for f in failed(result, "BK-REGION-002") if "before-migration-copy" in f.resource_urn]
    assert copies, "the copy's ARN in us-east-1 is a snapshot copy outside the allowed regions"


def test_resource_in_eu_central_1_found_by_detailed_read(aws: str) -> None:
    account = build_compliant()
    admin("logs", "eu-central-1").create_log_group(logGroupName="/booking/debug", tags={"app": "booking"})
    reader, _ = reader_for(account, other_regions=("eu-central-1",))
    result = audit_stack(reader.read([HOME, "eu-central-1"]))
    [finding] = failed(result, "BK-REGION-001")
    assert finding.resource_urn.endswith("aws:cloudwatch/logGroup:LogGroup::eu-central-1//booking/debug")


def test_resource_in_eu_central_1_found_by_tags_outside_the_regions_read(aws: str) -> None:
    account = build_compliant()
    admin("logs", "eu-central-1").create_log_group(logGroupName="/booking/debug", tags={"app": "booking"})
    reader, _ = reader_for(account)
    stack = reader.read([HOME])  # eu-central-1 not read in detail; the tagging sweep covers every region
    [tagged] = stack.of_type(TAGGED)
    assert tagged.region == "eu-central-1" and tagged.get("resourceType") == "logs:log-group"
    result = audit_stack(stack)
    assert any(f.resource_urn == tagged.urn for f in failed(result, "BK-REGION-001"))


# -- errors: denied, throttled, credentials, regions ------------------------------------------------


def test_denied_permission_is_reported_and_the_rest_is_read(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    account = build_compliant()
    verify = verify_module()
    clients, _ = kms_stubs(account)
    monkeypatch.setattr(verify, "aws_client_overrides", lambda: clients)

    original = verify.__dict__["_read_aws"]

    def deny_logs(request: Any, **_: Any) -> AWSResponse | None:
        if request.headers.get("X-Amz-Target", b"") in (
            b"Logs_20140328.DescribeLogGroups",
            "Logs_20140328.DescribeLogGroups",
        ):
            body = (
                '{"__type":"AccessDeniedException",'
                '"message":"User is not authorized to perform: logs:DescribeLogGroups"}'
            )
            return error_response(400, body)
        return None

    def read_with_denial(args: Any, config: Any, show: Any) -> Any:
        from policies.inputs.live import guard

        real = guard.read_only_session

        def session(*a: Any, **k: Any) -> Any:
            s = real(*a, **k)
            s.events.register("before-send.cloudwatch-logs", cast(Any, deny_logs))
            return s

        monkeypatch.setattr(guard, "read_only_session", session)
        return original(args, config, show)

    monkeypatch.setattr(verify, "_read_aws", read_with_denial)
    code = verify.main(["--target", "aws", "--out", str(tmp_path), "--quiet", "--regions", HOME])
    output = capsys.readouterr().out
    assert code == 3, output  # nothing mandatory failed, but a part of the account was not read
    assert "INCOMPLETE" in output
    assert (
        "CloudWatch log groups not checked: access denied (AccessDeniedException) "
        "(missing permission logs:DescribeLogGroups)" in output
    )
    coverage = json.loads((tmp_path / "coverage.json").read_text())
    assert coverage["gaps"] == [
        {
            "provider": "aws",
            "region": HOME,
            "what": "CloudWatch log groups",
            "permission": "logs:DescribeLogGroups",
            "reason": "access denied (AccessDeniedException)",
        }
    ]
    findings = json.loads((tmp_path / "findings.json").read_text())["stacks"][0]
    assert findings["resources"] > 5  # buckets, database, keys, secrets, vault were still read
    assert any(
        f["rule_id"] == "BK-LIVE-004" and "logs:DescribeLogGroups" in f["message"]
        for f in findings["findings"]
    )


def test_throttling_is_retried_with_backoff(aws: str) -> None:
    account = build_compliant()
    reader, _ = reader_for(account)
    throttled = {"left": 2}

    def throttle(request: Any, **_: Any) -> AWSResponse | None:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        if "Action=DescribeDBInstances" in body and throttled["left"]:
            throttled["left"] -= 1
            return error_response(400, query_error("Throttling", "Rate exceeded"), "text/xml")
        return None

    reader.session.events.register("before-send.rds", cast(Any, throttle))
    stack = reader.read([HOME])
    assert throttled["left"] == 0
    assert reader.coverage.retries == 2 and not reader.coverage.gaps
    assert [r.name for r in stack.of_type("aws:rds/instance:Instance")] == ["booking-db"]


def test_persistent_throttling_becomes_a_gap(aws: str) -> None:
    account = build_compliant()
    reader, _ = reader_for(account)

    def throttle(request: Any, **_: Any) -> AWSResponse:
        return error_response(400, '{"__type":"ThrottlingException","message":"Rate exceeded"}')

    reader.session.events.register("before-send.backup", cast(Any, throttle))
    monkey_sleep: list[float] = []
    import time

    real_sleep = time.sleep
    time.sleep = monkey_sleep.append  # type: ignore[assignment]
    try:
        reader.read([HOME])
    finally:
        time.sleep = real_sleep
    assert monkey_sleep, "botocore backed off between attempts"
    gaps = [g for g in reader.coverage.gaps if g.what == "Backup vaults"]
    assert gaps and "still throttled" in gaps[0].reason


def test_missing_credentials(aws: str, monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code = verify_module().main(["--target", "aws", "--out", str(tmp_path), "--quiet", "--regions", HOME])
    assert code == 2
    assert "no AWS credentials found" in capsys.readouterr().err


def test_expired_credentials(aws: str) -> None:
    reader = AwsReader(read_only_session())

    def expired(request: Any, **_: Any) -> AWSResponse:
        return error_response(
            403,
            query_error("ExpiredToken", "The security token included in the request is expired"),
            "text/xml",
        )

    reader.session.events.register("before-send.sts", cast(Any, expired))
    with pytest.raises(CredentialError, match="session token has expired"):
        reader.read([HOME])


def test_unknown_region(aws: str, monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path) -> None:
    reader = AwsReader(read_only_session())
    with pytest.raises(UnknownRegionError, match="eu-paris-1"):
        reader.read([HOME, "eu-paris-1"])
    code = verify_module().main(
        ["--target", "aws", "--out", str(tmp_path), "--quiet", "--regions", "eu-paris-1"]
    )
    assert code == 2 and "unknown AWS region(s) eu-paris-1" in capsys.readouterr().err


def test_backup_copy_rule_to_another_region(aws: str) -> None:
    account = build_compliant()
    admin("backup").create_backup_plan(
        BackupPlan={
            "BackupPlanName": "booking-daily",
            "Rules": [
                {
                    "RuleName": "daily",
                    "TargetBackupVaultName": "booking-vault",
                    "ScheduleExpression": "cron(0 3 * * ? *)",
                    "CopyActions": [
                        {"DestinationBackupVaultArn": "arn:aws:backup:us-east-1:123456789012:backup-vault:dr"}
                    ],
                }
            ],
        }
    )
    reader, _ = reader_for(account)
    [finding] = failed(audit_stack(reader.read([HOME])), "BK-REGION-002")
    assert finding.resource_type == "aws:backup/plan:Plan" and "us-east-1" in finding.message


def test_secret_replicated_to_another_region(aws: str) -> None:
    account = build_compliant()
    admin("secretsmanager").replicate_secret_to_regions(
        SecretId="booking/db", AddReplicaRegions=[{"Region": "us-east-1"}]
    )
    reader, _ = reader_for(account)
    [finding] = failed(audit_stack(reader.read([HOME])), "BK-REGION-002")
    assert finding.resource_type == "aws:secretsmanager/secret:Secret"
    assert "region us-east-1 copies data outside the allowed regions" in finding.message
