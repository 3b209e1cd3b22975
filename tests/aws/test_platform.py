"""The AWS option as previewed from the shipped stack: every property the design promises."""

from __future__ import annotations

import json
from typing import Any

from stacks.offline import SECRET_SIG, SECRET_SIG_KEY
from tests.aws.conftest import Graph

#: Every data store of the platform and the input that names its key.
ENCRYPTED_STORES = {
    "aws:rds/instance:Instance": "kmsKeyId",
    "aws:cloudwatch/logGroup:LogGroup": "kmsKeyId",
    "aws:secretsmanager/secret:Secret": "kmsKeyId",
    "aws:backup/vault:Vault": "kmsKeyArn",
    "aws:cloudtrail/trail:Trail": "kmsKeyId",
}


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def test_one_explicit_provider_in_paris_and_every_cloud_resource_uses_it(aws_graph: Graph) -> None:
    providers = aws_graph.of_type("pulumi:providers:aws")
    assert [p["inputs"]["region"] for p in providers] == ["eu-west-3"]
    for state in aws_graph.states:
        if state["type"].startswith("aws:"):
            assert state["provider"].rsplit("::", 1)[0] == providers[0]["urn"], state["urn"]
            assert state["inputs"].get("region", "eu-west-3") == "eu-west-3"


def test_key_store_is_external_with_a_secret_credential(aws_graph: Graph) -> None:
    store = aws_graph.one("aws:kms/customKeyStore:CustomKeyStore")
    inputs = store["inputs"]
    assert inputs["customKeyStoreType"] == "EXTERNAL_KEY_STORE"
    assert inputs["xksProxyUriEndpoint"] == "https://xks.cles.sante-exemple.fr"
    assert inputs["xksProxyUriPath"].endswith("/kms/xks/v1")
    assert inputs["xksProxyConnectivity"] == "PUBLIC_ENDPOINT"
    credential = inputs["xksProxyAuthenticationCredential"]
    assert is_secret(credential) or is_secret(credential["rawSecretAccessKey"])
    assert is_secret(store["outputs"]["xksProxyAuthenticationCredential"])


def test_one_key_per_domain_in_the_external_store_after_it_is_connected(aws_graph: Graph) -> None:
    keys = aws_graph.of_type("aws:kms/key:Key")
    connection = aws_graph.one("pulumi-python:dynamic:Resource", "connection")
    domains = {k["inputs"]["tags"]["booking:data-domain"] for k in keys}
    assert domains == {"database", "documents", "logs", "secrets", "backups"}
    assert len({k["inputs"]["xksKeyId"] for k in keys}) == 5
    for key in keys:
        assert aws_graph.key_store_of(key)["inputs"]["customKeyStoreType"] == "EXTERNAL_KEY_STORE"
        assert connection["urn"] in key["dependencies"], "a key must wait for the store to be CONNECTED"
        # XKS keys cannot rotate in AWS; rotation is the HSM custodian's job.
        assert key["inputs"]["enableKeyRotation"] is False


def test_every_data_store_is_encrypted_under_an_external_key(aws_graph: Graph) -> None:
    checked = 0
    for type_token, key_input in ENCRYPTED_STORES.items():
        for state in aws_graph.of_type(type_token):
            key = aws_graph.key_by_arn(state["inputs"][key_input])
            assert aws_graph.key_store_of(key)["inputs"]["customKeyStoreType"] == "EXTERNAL_KEY_STORE"
            checked += 1
    for sse in aws_graph.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ):
        rule = sse["inputs"]["rules"][0]
        default = rule["applyServerSideEncryptionByDefault"]
        assert default["sseAlgorithm"] == "aws:kms"
        assert rule["bucketKeyEnabled"] is True
        aws_graph.key_by_arn(default["kmsMasterKeyId"])
        checked += 1
    cluster = aws_graph.one("aws:ecs/cluster:Cluster")
    storage = cluster["inputs"]["configuration"]["managedStorageConfiguration"]
    aws_graph.key_by_arn(storage["fargateEphemeralStorageKmsKeyId"])
    # RDS, log groups (api, web, flow, postgresql, exec, WAF, Container Insights, trail), secret, vault,
    # trail, buckets (documents, audit trail: no SSE-S3 access-log bucket)
    assert checked == 1 + 8 + 1 + 1 + 1 + 2
    buckets = aws_graph.of_type("aws:s3/bucket:Bucket")
    assert len(buckets) == 2


def test_database_is_multi_az_private_tls_only_and_backed_up(aws_graph: Graph) -> None:
    db = aws_graph.one("aws:rds/instance:Instance")["inputs"]
    assert db["engine"] == "postgres"
    assert db["multiAz"] is True
    assert db["storageEncrypted"] is True
    assert db["publiclyAccessible"] is False
    assert db["deletionProtection"] is True
    assert db["backupRetentionPeriod"] == 35
    assert db["manageMasterUserPassword"] is True and "password" not in db
    assert db["performanceInsightsEnabled"] is True
    assert db["performanceInsightsKmsKeyId"] == db["kmsKeyId"]
    assert aws_graph.key_by_arn(db["kmsKeyId"])["inputs"]["tags"]["booking:data-domain"] == "database"
    assert (
        aws_graph.key_by_arn(db["masterUserSecretKmsKeyId"])["inputs"]["tags"]["booking:data-domain"]
        == "secrets"
    )
    params = {
        p["name"]: p["value"]
        for p in aws_graph.one("aws:rds/parameterGroup:ParameterGroup")["inputs"]["parameters"]
    }
    assert params["rds.force_ssl"] == "1"
    # The log group RDS exports to exists beforehand, under the logs key.
    log_group = next(
        g
        for g in aws_graph.of_type("aws:cloudwatch/logGroup:LogGroup")
        if g["inputs"].get("name", "").startswith("/aws/rds/")
    )
    assert log_group["inputs"]["name"] == f"/aws/rds/instance/{db['identifier']}/postgresql"


def test_database_admits_only_the_api_security_group(aws_graph: Graph) -> None:
    sg = aws_graph.one("aws:ec2/securityGroup:SecurityGroup", "db-sg")["inputs"]
    assert [r["fromPort"] for r in sg["ingress"]] == [5432]
    assert all(not r.get("cidrBlocks") for r in sg["ingress"])


def test_documents_bucket_is_private_versioned_tls_only_and_its_access_recorded(aws_graph: Graph) -> None:
    for block in aws_graph.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"):
        flags = block["inputs"]
        assert all(
            flags[f] is True
            for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        )
    for versioning in aws_graph.of_type("aws:s3/bucketVersioning:BucketVersioning"):
        assert versioning["inputs"]["versioningConfiguration"]["status"] == "Enabled"
    for policy_state in aws_graph.of_type("aws:s3/bucketPolicy:BucketPolicy"):
        policy = json.loads(policy_state["inputs"]["policy"])
        deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
        assert {"Bool": {"aws:SecureTransport": "false"}} in [s["Condition"] for s in deny]
    # S3 server access logs need an SSE-S3 target (data/facts/aws.yaml): object access is recorded by
    # CloudTrail data events into the KMS-encrypted trail instead.
    assert aws_graph.of_type("aws:s3/bucketLogging:BucketLogging") == []
    documents = aws_graph.one("aws:s3/bucket:Bucket", "documents")["outputs"]["arn"]
    trail_bucket = aws_graph.one("aws:s3/bucket:Bucket", "audit-trail")["outputs"]["arn"]
    selectors = aws_graph.one("aws:cloudtrail/trail:Trail")["inputs"]["eventSelectors"]
    recorded = {
        value: selector["readWriteType"]
        for selector in selectors
        for resource in selector.get("dataResources", [])
        for value in resource["values"]
    }
    assert recorded == {f"{documents}/": "All", f"{trail_bucket}/": "ReadOnly"}


def test_edge_is_https_only_with_tls12_or_later(aws_graph: Graph) -> None:
    listeners = {
        int(lst["inputs"]["port"]): lst["inputs"] for lst in aws_graph.of_type("aws:lb/listener:Listener")
    }
    assert set(listeners) == {80, 443}
    assert listeners[443]["protocol"] == "HTTPS"
    assert listeners[443]["sslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
    redirect = listeners[80]["defaultActions"][0]
    assert redirect["type"] == "redirect" and redirect["redirect"]["protocol"] == "HTTPS"
    assert aws_graph.one("aws:lb/loadBalancer:LoadBalancer")["inputs"]["dropInvalidHeaderFields"] is True


def test_services_run_private_with_encrypted_retained_logs(aws_graph: Graph) -> None:
    services = aws_graph.of_type("aws:ecs/service:Service")
    assert len(services) == 2
    for service in services:
        assert service["inputs"]["networkConfiguration"]["assignPublicIp"] is False
        assert service["inputs"]["launchType"] == "FARGATE"
    for group in aws_graph.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group["inputs"]["retentionInDays"] == 365
    for task in aws_graph.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        (container,) = json.loads(task["inputs"]["containerDefinitions"])
        assert container["logConfiguration"]["options"]["awslogs-region"] == "eu-west-3"
        assert container["readonlyRootFilesystem"] is True


def test_backups_stay_in_region(aws_graph: Graph) -> None:
    plan = aws_graph.one("aws:backup/plan:Plan")["inputs"]
    for rule in plan["rules"]:
        assert not rule.get("copyActions"), "a copy action would send backups out of the region"
        assert rule["lifecycle"]["deleteAfter"] == 35
    selection = aws_graph.one("aws:backup/selection:Selection")["inputs"]
    assert len(selection["resources"]) == 2


def test_network_spans_three_paris_zones_with_isolated_data_subnets(aws_graph: Graph) -> None:
    subnets = aws_graph.of_type("aws:ec2/subnet:Subnet")
    tiers: dict[str, set[str]] = {}
    for subnet in subnets:
        tiers.setdefault(subnet["inputs"]["tags"]["booking:tier"], set()).add(
            subnet["inputs"]["availabilityZone"]
        )
    assert tiers == {tier: {"eu-west-3a", "eu-west-3b", "eu-west-3c"} for tier in ("public", "app", "data")}
    flow_log = aws_graph.one("aws:ec2/flowLog:FlowLog")["inputs"]
    assert flow_log["trafficType"] == "ALL"


def test_audit_trail_is_encrypted_validated_and_kept_in_the_stack(aws_graph: Graph) -> None:
    trail = aws_graph.one("aws:cloudtrail/trail:Trail")["inputs"]
    assert trail["enableLogFileValidation"] is True
    trail_bucket = aws_graph.one("aws:s3/bucket:Bucket", "audit-trail")
    assert trail["s3BucketName"] == trail_bucket["outputs"]["bucket"]


def test_no_plaintext_placeholder_secret_anywhere_in_the_preview(aws_graph: Graph) -> None:
    from stacks.offline import PLACEHOLDERS

    text = json.dumps(aws_graph.states)
    for value in PLACEHOLDERS.values():
        assert value not in text


def _policy(key: dict[str, Any]) -> dict[str, Any]:
    return json.loads(key["inputs"]["policy"])  # type: ignore[no-any-return]


def _service_statements(key: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for statement in _policy(key)["Statement"]:
        service = statement["Principal"].get("Service")
        if service:
            found.setdefault(service, []).append(statement)
    return found


def test_fargate_may_use_the_ephemeral_storage_key_for_this_cluster_only(aws_graph: Graph) -> None:
    cluster = aws_graph.one("aws:ecs/cluster:Cluster")["inputs"]
    key = aws_graph.key_by_arn(
        cluster["configuration"]["managedStorageConfiguration"]["fargateEphemeralStorageKmsKeyId"]
    )
    fargate = _service_statements(key)["fargate.amazonaws.com"]
    actions = {action for statement in fargate for action in statement["Action"]}
    assert actions == {"kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant", "kms:DescribeKey"}
    for statement in fargate:
        if "kms:DescribeKey" not in statement["Action"]:
            context = statement["Condition"]["StringEquals"]
            assert context["kms:EncryptionContext:aws:ecs:clusterName"] == cluster["name"]
            assert context["kms:EncryptionContext:aws:ecs:clusterAccount"] == "000000000000"
    grant = next(s for s in fargate if s["Action"] == ["kms:CreateGrant"])
    assert grant["Condition"]["ForAllValues:StringEquals"] == {"kms:GrantOperations": "Decrypt"}


def test_logs_key_names_logs_and_cloudtrail_with_their_documented_conditions(aws_graph: Graph) -> None:
    key = next(
        k
        for k in aws_graph.of_type("aws:kms/key:Key")
        if k["inputs"]["tags"]["booking:data-domain"] == "logs"
    )
    services = _service_statements(key)
    # No more than the uses need: no S3 log delivery, no vended-log delivery principal.
    assert set(services) == {"logs.eu-west-3.amazonaws.com", "cloudtrail.amazonaws.com"}
    (logs,) = services["logs.eu-west-3.amazonaws.com"]
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-3:000000000000:log-group:*"}
    }
    trail = aws_graph.one("aws:cloudtrail/trail:Trail")["inputs"]
    for statement in services["cloudtrail.amazonaws.com"]:
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == (
            f"arn:aws:cloudtrail:eu-west-3:000000000000:trail/{trail['name']}"
        )


def test_keys_of_other_domains_name_no_service_principal(aws_graph: Graph) -> None:
    for key in aws_graph.of_type("aws:kms/key:Key"):
        domain = key["inputs"]["tags"]["booking:data-domain"]
        if domain in ("database", "secrets", "backups"):
            assert _service_statements(key) == {}, domain


def test_the_stack_owns_no_account_level_log_group(aws_graph: Graph) -> None:
    from facts.aws import shared_resource_names

    shared = shared_resource_names("aws:cloudwatch/logGroup:LogGroup")
    assert "RDSOSMetrics" in shared
    names = {g["inputs"].get("name") for g in aws_graph.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert not names & shared


def test_log_groups_exist_before_what_writes_to_them(aws_graph: Graph) -> None:
    db = aws_graph.one("aws:rds/instance:Instance")
    cluster = aws_graph.one("aws:ecs/cluster:Cluster")
    groups = {
        g["inputs"].get("name"): g["urn"] for g in aws_graph.of_type("aws:cloudwatch/logGroup:LogGroup")
    }
    assert groups[f"/aws/rds/instance/{db['inputs']['identifier']}/postgresql"] in db["dependencies"]
    insights = f"/aws/ecs/containerinsights/{cluster['inputs']['name']}/performance"
    assert groups[insights] in cluster["dependencies"]


def test_services_wait_for_steady_state(aws_graph: Graph) -> None:
    for service in aws_graph.of_type("aws:ecs/service:Service"):
        assert service["inputs"]["waitForSteadyState"] is True


def test_exec_sessions_key_is_granted_to_every_task_role(aws_graph: Graph) -> None:
    cluster = aws_graph.one("aws:ecs/cluster:Cluster")["inputs"]
    exec_key = cluster["configuration"]["executeCommandConfiguration"]["kmsKeyId"]
    tasks = aws_graph.of_type("aws:ecs/taskDefinition:TaskDefinition")
    assert len(tasks) == 2
    roles = {t["inputs"]["taskRoleArn"] for t in tasks}
    assert len(roles) == 2
    role_ids = {r["outputs"]["arn"]: r["outputs"]["id"] for r in aws_graph.of_type("aws:iam/role:Role")}
    granted = set()
    for policy in aws_graph.of_type("aws:iam/rolePolicy:RolePolicy"):
        document = json.loads(policy["inputs"]["policy"])
        if any(s["Action"] == ["kms:Decrypt"] and s["Resource"] == [exec_key] for s in document["Statement"]):
            granted.add(policy["inputs"]["role"])
    assert {role_ids[arn] for arn in roles} <= granted
