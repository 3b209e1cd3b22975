"""Every live AWS reader proven on the emulator: a compliant account, one change, the finding expected.

Readers already driven elsewhere (S3, RDS, logs, secrets, backup, EBS, EFS, DynamoDB, security groups,
the tag sweep: test_verify_aws*.py) are not repeated; here: ECS task definitions, load balancer
listeners, and who may use a key (key policy and grants, BK-ACCESS-001).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from policies.audit import audit_stack
from policies.inputs.live.aws_network import PLAINTEXT_NOT_KEPT
from policies.model import Stack
from policies.outputs import reports
from tests.verify.conftest import ACCOUNT, HOME, Account, admin, build_compliant, reader_for

OUTSIDER = "999999999999"


def read(account: Account) -> Stack:
    reader, _ = reader_for(account)
    return reader.read([HOME])


def failing(stack: Stack, rule_id: str) -> list[str]:
    return [f.message for f in audit_stack(stack).findings if f.rule_id == rule_id and f.status == "failed"]


# -- ECS task definitions ---------------------------------------------------------------------------


def _task_definition(environment: list[dict[str, str]] | None = None, log_region: str = HOME) -> None:
    admin("ecs").register_task_definition(
        family="booking-api",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "api",
                "image": "public.ecr.aws/nginx/nginx:1.27",
                "environment": environment or [{"name": "APP_MODE", "value": "production"}],
                "secrets": [
                    {
                        "name": "DB_PASSWORD",
                        "valueFrom": f"arn:aws:secretsmanager:{HOME}:{ACCOUNT}:secret:booking/db",
                    }
                ],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": "/booking/app", "awslogs-region": log_region},
                },
            }
        ],
    )


def test_task_definition_of_the_compliant_account_passes(aws: str) -> None:
    account = build_compliant()
    _task_definition()
    stack = read(account)
    [definition] = stack.of_type("aws:ecs/taskDefinition:TaskDefinition")
    assert definition.name == "booking-api:1"
    result = audit_stack(stack)
    assert result.passed, [f.message for f in result.failed]


def test_task_definition_with_a_plaintext_password_fails_without_keeping_it(aws: str) -> None:
    account = build_compliant()
    _task_definition(environment=[{"name": "DB_PASSWORD", "value": "hunter2-in-clear"}])
    stack = read(account)
    messages = failing(stack, "BK-EXP-004")
    assert messages and "DB_PASSWORD" in messages[0]
    [definition] = stack.of_type("aws:ecs/taskDefinition:TaskDefinition")
    # The model (and so every report) holds the marker, never the value read.
    assert "hunter2-in-clear" not in json.dumps(dict(definition.properties))
    assert PLAINTEXT_NOT_KEPT in str(definition.get("containerDefinitions"))


def test_task_definition_shipping_logs_to_another_region_fails(aws: str) -> None:
    account = build_compliant()
    _task_definition(log_region="us-east-1")
    messages = failing(read(account), "BK-REGION-002")
    assert any("us-east-1" in m for m in messages), messages


# -- load balancer listeners ------------------------------------------------------------------------


def _load_balancer() -> str:
    ec2 = admin("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{HOME}{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in enumerate("ab")
    ]
    balancer = admin("elbv2").create_load_balancer(
        Name="booking-edge", Subnets=subnets, Scheme="internet-facing"
    )
    arn: str = balancer["LoadBalancers"][0]["LoadBalancerArn"]
    return arn


def _certificate() -> str:
    arn: str = admin("acm").request_certificate(DomainName="booking.example.fr")["CertificateArn"]
    return arn


def _https(balancer: str, policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06") -> None:
    admin("elbv2").create_listener(
        LoadBalancerArn=balancer,
        Protocol="HTTPS",
        Port=443,
        SslPolicy=policy,
        Certificates=[{"CertificateArn": _certificate()}],
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
    )


def _http(balancer: str, *, redirect: bool) -> None:
    action: dict[str, Any] = (
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
        if redirect
        else {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}
    )
    admin("elbv2").create_listener(
        LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=[action]
    )


def test_listeners_of_the_compliant_account_pass(aws: str) -> None:
    account = build_compliant()
    balancer = _load_balancer()
    _https(balancer)
    _http(balancer, redirect=True)
    stack = read(account)
    assert len(stack.of_type("aws:lb/listener:Listener")) == 2
    assert failing(stack, "BK-TLS-001") == []


def test_http_listener_serving_content_fails(aws: str) -> None:
    account = build_compliant()
    balancer = _load_balancer()
    _https(balancer)
    _http(balancer, redirect=False)
    assert failing(read(account), "BK-TLS-001") == [
        "an HTTP listener serves content instead of redirecting to HTTPS"
    ]


def test_listener_with_a_tls_1_0_policy_fails(aws: str) -> None:
    account = build_compliant()
    balancer = _load_balancer()
    _https(balancer, policy="ELBSecurityPolicy-2016-08")
    _http(balancer, redirect=True)
    [message] = failing(read(account), "BK-TLS-001")
    assert "ELBSecurityPolicy-2016-08" in message


# -- who may use a key: key policy and grants (BK-ACCESS-001) ----------------------------------------


def _policy(*statements: dict[str, Any]) -> str:
    own = {
        "Sid": "AccountAdministration",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [own, *statements]})


def test_key_of_the_compliant_account_is_used_by_its_own_account_only(aws: str) -> None:
    account = build_compliant()
    stack = read(account)
    [key] = [k for k in stack.of_type("aws:kms/key:Key") if k.id == account.key_id]
    assert key.get("policy") and key.get("grants") == []
    assert audit_stack(stack).outcome("BK-ACCESS-001").status == "pass"  # type: ignore[union-attr]


def test_key_policy_naming_another_account_fails(aws: str) -> None:
    account = build_compliant()
    admin("kms").put_key_policy(
        KeyId=account.key_id,
        PolicyName="default",
        Policy=_policy(
            {
                "Sid": "PartnerDecrypt",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:role/analytics"},
                "Action": ["kms:Decrypt"],
                "Resource": "*",
            }
        ),
    )
    [message] = failing(read(account), "BK-ACCESS-001")
    assert "PartnerDecrypt" in message and OUTSIDER in message


def test_key_policy_open_to_everyone_fails_whatever_its_condition(aws: str) -> None:
    account = build_compliant()
    statement = {
        "Sid": "Everyone",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{HOME}.amazonaws.com"}},
    }
    admin("kms").put_key_policy(KeyId=account.key_id, PolicyName="default", Policy=_policy(statement))
    [message] = failing(read(account), "BK-ACCESS-001")
    assert "every identity of every AWS account" in message


def test_grant_to_another_account_fails(aws: str) -> None:
    account = build_compliant()
    admin("kms").create_grant(
        KeyId=account.key_id,
        GranteePrincipal=f"arn:aws:iam::{OUTSIDER}:role/exporter",
        Operations=["Decrypt"],
    )
    [message] = failing(read(account), "BK-ACCESS-001")
    assert message.startswith("grant ") and OUTSIDER in message


def test_grant_to_a_role_of_the_account_passes(aws: str) -> None:
    account = build_compliant()
    admin("kms").create_grant(
        KeyId=account.key_id,
        GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:role/booking-api",
        Operations=["Decrypt"],
    )
    assert failing(read(account), "BK-ACCESS-001") == []


# -- a live read: what cannot apply is never a pass -------------------------------------------------


def test_live_read_shows_desired_state_and_other_provider_rules_not_applicable(aws: str) -> None:
    result = audit_stack(read(build_compliant()))
    reasons = result.not_applicable
    assert reasons["BK-STATE-001"] == "judges a stack export only; this stack was read from a live account"
    assert {"BK-ENC-002", "BK-KEY-003", "BK-TLS-004"} <= set(reasons)
    assert {"BK-LIVE-001", "BK-LIVE-004", "BK-LIVE-005", "BK-ACCESS-001"} <= set(result.rules_evaluated)
    junit = reports.junit_xml([result])
    skipped = re.findall(
        r'<testcase [^>]*name="(BK-[A-Z]+-\d+) [^"]*">(?:(?!</testcase>).)*<skipped', junit, re.S
    )
    assert set(skipped) == set(reasons)


# -- the parallel read ------------------------------------------------------------------------------


def test_parallel_read_gives_the_same_model_and_findings_as_a_serial_read(aws: str) -> None:
    account = build_compliant()
    other = "eu-central-1"
    admin("s3").delete_bucket_encryption(Bucket=account.bucket)
    admin("ec2", other).create_volume(AvailabilityZone=f"{other}a", Size=8)
    admin("kms").create_grant(
        KeyId=account.key_id,
        GranteePrincipal=f"arn:aws:iam::{OUTSIDER}:role/exporter",
        Operations=["Decrypt"],
    )
    reads = {}
    for workers in (1, 8):
        reader, _ = reader_for(account, other_regions=(other,), workers=workers)
        stack = reader.read([HOME, other])
        findings = [(f.rule_id, f.resource_urn, f.message, f.status) for f in audit_stack(stack).findings]
        reads[workers] = ([r.urn for r in stack], findings, reader.coverage.calls, reader.coverage.gaps)
    serial, parallel = reads[1], reads[8]
    assert parallel == serial
    rules = {rule for rule, *_ in serial[1]}
    assert {"BK-ENC-001", "BK-ACCESS-001", "BK-REGION-001"} <= rules


def test_a_worker_count_below_one_is_refused(aws: str) -> None:
    reader, _ = reader_for(build_compliant(), workers=0)
    with pytest.raises(ValueError, match="workers must be at least 1"):
        reader.read([HOME])


# -- the other readers, one drift each (those not driven in test_verify_aws*.py) ------------------------


def test_log_group_without_the_customer_key_fails(aws: str) -> None:
    account = build_compliant()
    admin("logs").create_log_group(logGroupName="/booking/audit")
    messages = failing(read(account), "BK-ENC-001")
    assert len(messages) == 1, messages


def test_secret_under_the_default_key_fails(aws: str) -> None:
    account = build_compliant()
    admin("secretsmanager").create_secret(Name="booking/api-token", SecretString="x")
    assert len(failing(read(account), "BK-ENC-001")) == 1


def test_database_made_public_fails(aws: str) -> None:
    account = build_compliant()
    admin("rds").modify_db_instance(
        DBInstanceIdentifier="booking-db", PubliclyAccessible=True, ApplyImmediately=True
    )
    assert len(failing(read(account), "BK-EXP-002")) == 1


def test_database_tls_no_longer_forced_fails(aws: str) -> None:
    account = build_compliant()
    admin("rds").modify_db_parameter_group(
        DBParameterGroupName="booking-postgres16",
        Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "0", "ApplyMethod": "immediate"}],
    )
    assert len(failing(read(account), "BK-TLS-002")) == 1


def test_bucket_policy_without_the_tls_deny_fails(aws: str) -> None:
    account = build_compliant()
    admin("s3").delete_bucket_policy(Bucket=account.bucket)
    assert len(failing(read(account), "BK-TLS-003")) == 1
