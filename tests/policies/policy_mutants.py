# ruff: noqa: RUF028 - the mutant table keeps its hand alignment (fmt: off)
"""Single-property mutants of the compliant stacks: each must be caught by the rules.

A mutant is a name, the stack it starts from, the edit (one property, or one added resource), and
the rule expected to catch it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
Document = dict[str, Any]


@dataclass(frozen=True)
class Mutant:
    name: str
    stack: str
    edit: Callable[[Document], None]
    expected_rule: str

    def apply(self, document: Document) -> Document:
        self.edit(document)
        return document


def states(document: Document, type_token: str) -> list[dict[str, Any]]:
    found = [s["newState"] for s in document["steps"] if s["newState"]["type"] == type_token]
    if not found:
        raise LookupError(f"no {type_token} in the stack: the mutant's baseline changed")
    return found


def first(
    document: Document, type_token: str, predicate: Callable[[dict[str, Any]], bool] | None = None
) -> dict[str, Any]:
    for state in states(document, type_token):
        if predicate is None or predicate(state):
            return state
    raise LookupError(f"no matching {type_token}")


def inputs(
    document: Document, type_token: str, predicate: Callable[[dict[str, Any]], bool] | None = None
) -> dict[str, Any]:
    return first(document, type_token, predicate)["inputs"]  # type: ignore[no-any-return]


def property_maps(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The state's inputs and, when the preview records them, its outputs: a mutant changes both."""
    return [m for m in (state.get("inputs"), state.get("outputs")) if isinstance(m, dict)]


def _set(
    type_token: str, key: str, value: Any, predicate: Callable[[dict[str, Any]], bool] | None = None
) -> Callable[[Document], None]:
    def edit(document: Document) -> None:
        for target in property_maps(first(document, type_token, predicate)):
            target[key] = value

    return edit


def _drop(
    type_token: str, *keys: str, predicate: Callable[[dict[str, Any]], bool] | None = None
) -> Callable[[Document], None]:
    def edit(document: Document) -> None:
        for target in property_maps(first(document, type_token, predicate)):
            for key in keys:
                target.pop(key, None)

    return edit


def _remove(type_token: str) -> Callable[[Document], None]:
    def edit(document: Document) -> None:
        victim = first(document, type_token)
        document["steps"] = [s for s in document["steps"] if s["newState"] is not victim]

    return edit


def _add(
    type_token: str, name: str, props: dict[str, Any], dependencies: tuple[str, ...] = ()
) -> Callable[[Document], None]:
    def edit(document: Document) -> None:
        stack_urn = document["steps"][0]["urn"]
        prefix = stack_urn.split("::pulumi:pulumi:Stack::")[0]
        urn = f"{prefix}::{type_token}::{name}"
        provider = next(
            (
                f"{s['urn']}::id"
                for s in document["steps"]
                if s["newState"]["type"].startswith("pulumi:providers:")
            ),
            "",
        )
        deps = [first(document, d)["urn"] for d in dependencies]
        state = {"urn": urn, "type": type_token, "custom": True, "inputs": props, "parent": stack_urn,
                 "provider": provider, "dependencies": deps}  # fmt: skip
        document["steps"].append({"op": "create", "urn": urn, "newState": state})

    return edit


def _named(fragment: str) -> Callable[[dict[str, Any]], bool]:
    return lambda state: fragment in state["urn"].rsplit("::", 1)[-1]


def _bucket_policy_edit(change: Callable[[dict[str, Any]], None]) -> Callable[[Document], None]:
    def edit(document: Document) -> None:
        target = inputs(document, "aws:s3/bucketPolicy:BucketPolicy")
        policy = json.loads(target["policy"])
        change(policy)
        target["policy"] = json.dumps(policy)

    return edit


def _drop_tls_statement(policy: dict[str, Any]) -> None:
    policy["Statement"] = [s for s in policy["Statement"] if "aws:SecureTransport" not in json.dumps(s)]


def _allow_everyone(policy: dict[str, Any]) -> None:
    policy["Statement"].append(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
    )


def _sse_algorithm(value: str) -> Callable[[Document], None]:
    def edit(document: Document) -> None:
        rules = inputs(
            document, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
        rules["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] = value
        rules["rules"][0]["applyServerSideEncryptionByDefault"].pop("kmsMasterKeyId", None)

    return edit


def _force_ssl_off(document: Document) -> None:
    for parameter in inputs(document, "aws:rds/parameterGroup:ParameterGroup")["parameters"]:
        if parameter["name"] == "rds.force_ssl":
            parameter["value"] = "0"


def _listener(protocol: str) -> Callable[[dict[str, Any]], bool]:
    return lambda state: state["inputs"].get("protocol") == protocol


def _http_forwards(document: Document) -> None:
    listener = inputs(document, "aws:lb/listener:Listener", _listener("HTTP"))
    listener["defaultActions"] = [
        {
            "type": "forward",
            "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-3:000000000000:targetgroup/web/1",
        }
    ]


def _open_database_port(document: Document) -> None:
    group = inputs(document, "aws:ec2/securityGroup:SecurityGroup", _named("db"))
    group.setdefault("ingress", []).append(
        {"protocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrBlocks": ["0.0.0.0/0"]}
    )


def _backup_copy(document: Document) -> None:
    plan = inputs(document, "aws:backup/plan:Plan")
    plan["rules"][0]["copyActions"] = [
        {"destinationVaultArn": "arn:aws:backup:us-east-1:000000000000:backup-vault:copy"}
    ]


def _task_env_password(document: Document) -> None:
    task = inputs(document, "aws:ecs/taskDefinition:TaskDefinition")
    containers = json.loads(task["containerDefinitions"])
    containers[0].setdefault("environment", []).append(
        {"name": "DB_PASSWORD", "value": "Sup3rS3cretPassw0rd"}
    )
    task["containerDefinitions"] = json.dumps(containers)


def _xks_credential_plaintext(document: Document) -> None:
    store = inputs(document, "aws:kms/customKeyStore:CustomKeyStore")
    store["xksProxyAuthenticationCredential"] = {
        "accessKeyId": "PREVIEWPLACEHOLDERAAAAAAAA",
        "rawSecretAccessKey": "PlaintextSecretAccessKeyAAAAAAAAAAAAAAAAAAAA",
    }


def _config_plaintext(document: Document) -> None:
    document["config"]["booking:xksSecretAccessKey"] = "PlaintextSecretAccessKeyAAAAAAAAAAAAAAAAAAAA"


def _key_policy_edit(domain: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Document], None]:
    """Edits the key policy of the stack's ``domain`` key (a JSON string, in inputs and outputs)."""

    def edit(document: Document) -> None:
        state = first(
            document, "aws:kms/key:Key", lambda s: s["inputs"]["tags"]["booking:data-domain"] == domain
        )
        for target in property_maps(state):
            if "policy" in target:
                policy = json.loads(target["policy"])
                change(policy)
                target["policy"] = json.dumps(policy)

    return edit


def _without_service(service: str) -> Callable[[dict[str, Any]], None]:
    def change(policy: dict[str, Any]) -> None:
        policy["Statement"] = [s for s in policy["Statement"] if s["Principal"].get("Service") != service]

    return change


def _with_service(service: str) -> Callable[[dict[str, Any]], None]:
    def change(policy: dict[str, Any]) -> None:
        policy["Statement"].append(
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": ["kms:GenerateDataKey*"],
                "Resource": "*",
            }
        )

    return change


def _logs_on_source_account(policy: dict[str, Any]) -> None:
    for statement in policy["Statement"]:
        if str(statement["Principal"].get("Service", "")).startswith("logs."):
            statement["Condition"] = {"StringEquals": {"aws:SourceAccount": "000000000000"}}


def _grant_any_operation(policy: dict[str, Any]) -> None:
    for statement in policy["Statement"]:
        if statement["Action"] == ["kms:CreateGrant"]:
            statement["Condition"].pop("ForAllValues:StringEquals")


def _key_to_aws_kms(document: Document) -> None:
    _drop("aws:kms/key:Key", "customKeyStoreId", "xksKeyId", predicate=_named("database"))(document)


def _scw_frontend_plain(document: Document) -> None:
    # Option B has no load balancer (its containers accept no private ingress): the mutant adds one
    # whose port 80 serves instead of redirecting.
    _add(
        "scaleway:loadbalancers/frontend:Frontend",
        "plain-http",
        {"inboundPort": 80, "lbId": "lb", "backendId": "b"},
    )(document)


_RDS = "aws:rds/instance:Instance"
_KEY_STORE = "aws:kms/customKeyStore:CustomKeyStore"
_BUCKET = "aws:s3/bucket:Bucket"
_PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
_LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
_SCW_DB = "scaleway:databases/instance:Instance"
_SCW_BUCKET = "scaleway:object/bucket:Bucket"
_ARN_DB_KEY = "arn:aws:kms:eu-west-3:000000000000:key/00000000-0000-0000-0000-000000000000"

AWS = "aws-xks-paris"
SCW = "scaleway-paris"

MUTANTS: list[Mutant] = [
    # Encryption at rest.
    Mutant("rds-storage-unencrypted", AWS, _set(_RDS, "storageEncrypted", False), "BK-ENC-001"),
    Mutant("rds-no-kms-key", AWS, _drop(_RDS, "kmsKeyId"), "BK-ENC-001"),
    Mutant("rds-aws-managed-key", AWS, _set(_RDS, "kmsKeyId", "alias/aws/rds"), "BK-ENC-001"),
    Mutant("rds-pi-no-key", AWS, _drop(_RDS, "performanceInsightsKmsKeyId"), "BK-ENC-001"),
    Mutant("rds-secret-no-key", AWS, _drop(_RDS, "masterUserSecretKmsKeyId"), "BK-ENC-001"),
    Mutant("log-group-no-key", AWS, _drop(_LOG_GROUP, "kmsKeyId"), "BK-ENC-001"),
    Mutant("secret-no-key", AWS, _drop("aws:secretsmanager/secret:Secret", "kmsKeyId"), "BK-ENC-001"),
    Mutant("backup-vault-no-key", AWS, _drop("aws:backup/vault:Vault", "kmsKeyArn"), "BK-ENC-001"),
    Mutant("trail-no-key", AWS, _drop("aws:cloudtrail/trail:Trail", "kmsKeyId"), "BK-ENC-001"),
    Mutant("ecs-ephemeral-no-key", AWS, _drop("aws:ecs/cluster:Cluster", "configuration"), "BK-ENC-001"),
    Mutant("bucket-sse-s3", AWS, _sse_algorithm("AES256"), "BK-ENC-001"),
    Mutant(
        "bucket-sse-removed",
        AWS,
        _remove("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"),
        "BK-ENC-001",
    ),
    Mutant(
        "dynamodb-added-unencrypted",
        AWS,
        _add("aws:dynamodb/table:Table", "sessions", {"hashKey": "id"}),
        "BK-ENC-001",
    ),
    Mutant(
        "sqs-added-unencrypted",
        AWS,
        _add("aws:sqs/queue:Queue", "reminders", {"name": "reminders"}),
        "BK-ENC-001",
    ),
    Mutant(
        "unknown-data-store",
        AWS,
        _add("aws:opensearch/domain:Domain", "search", {"domainName": "search"}),
        "BK-ENC-003",
    ),
    # Key location.
    Mutant("key-aws-kms-origin", AWS, _key_to_aws_kms, "BK-KEY-001"),
    Mutant("key-store-cloudhsm", AWS, _set(_KEY_STORE, "customKeyStoreType", "AWS_CLOUDHSM"), "BK-KEY-001"),
    Mutant(
        "xks-endpoint-off-list",
        AWS,
        _set(_KEY_STORE, "xksProxyUriEndpoint", "https://xks.example.com"),
        "BK-KEY-002",
    ),
    Mutant(
        "xks-endpoint-http",
        AWS,
        _set(_KEY_STORE, "xksProxyUriEndpoint", "http://xks.booking-hds.fr"),
        "BK-KEY-002",
    ),
    Mutant("xks-uri-path", AWS, _set(_KEY_STORE, "xksProxyUriPath", "/xks"), "BK-KEY-002"),
    Mutant(
        "stack-owns-rds-os-metrics",
        AWS,
        _add("aws:cloudwatch/logGroup:LogGroup", "os-metrics", {"name": "RDSOSMetrics"}),
        "BK-STATE-002",
    ),
    # Key policies: the service principals each key's uses need (data/facts/aws.yaml key_uses).
    Mutant(
        "key-policy-no-fargate",
        AWS,
        _key_policy_edit("documents", _without_service("fargate.amazonaws.com")),
        "BK-KEY-006",
    ),
    Mutant(
        "key-policy-no-cloudtrail",
        AWS,
        _key_policy_edit("logs", _without_service("cloudtrail.amazonaws.com")),
        "BK-KEY-006",
    ),
    Mutant(
        "key-policy-extra-log-delivery",
        AWS,
        _key_policy_edit("logs", _with_service("delivery.logs.amazonaws.com")),
        "BK-KEY-006",
    ),
    Mutant(
        "key-policy-logs-on-source-account",
        AWS,
        _key_policy_edit("logs", _logs_on_source_account),
        "BK-KEY-006",
    ),
    Mutant(
        "key-policy-fargate-grants-any-operation",
        AWS,
        _key_policy_edit("documents", _grant_any_operation),
        "BK-KEY-006",
    ),
    Mutant(
        "key-policy-database-names-rds",
        AWS,
        _key_policy_edit("database", _with_service("rds.amazonaws.com")),
        "BK-KEY-006",
    ),
    Mutant(
        "xks-vpc-no-service",
        AWS,
        _set(_KEY_STORE, "xksProxyConnectivity", "VPC_ENDPOINT_SERVICE"),
        "BK-KEY-002",
    ),
    # Region.
    Mutant("rds-us-east-1", AWS, _set(_RDS, "region", "us-east-1"), "BK-REGION-001"),
    Mutant("bucket-eu-central-1", AWS, _set(_BUCKET, "region", "eu-central-1"), "BK-REGION-001"),
    Mutant("provider-us-east-1", AWS, _set("pulumi:providers:aws", "region", "us-east-1"), "BK-REGION-001"),
    Mutant("backup-copy-us-east-1", AWS, _backup_copy, "BK-REGION-002"),
    Mutant(
        "bucket-replication-outside",
        AWS,
        _add(
            "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
            "replica",
            {
                "bucket": "documents",
                "role": "arn:aws:iam::000000000000:role/replication",
                "rules": [{"status": "Enabled", "destination": {"bucket": "arn:aws:s3:::copy-in-virginia"}}],
            },
            (_BUCKET,),
        ),
        "BK-REGION-002",
    ),  # fmt: skip
    Mutant(
        "log-subscription-frankfurt",
        AWS,
        _add(
            "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
            "ship",
            {
                "logGroup": "app",
                "filterPattern": "",
                "destinationArn": "arn:aws:logs:eu-central-1:000000000000:destination:central",
            },
        ),
        "BK-REGION-002",
    ),  # fmt: skip
    Mutant("key-multi-region", AWS, _set("aws:kms/key:Key", "multiRegion", True), "BK-REGION-002"),
    # Exposure.
    Mutant("rds-public", AWS, _set(_RDS, "publiclyAccessible", True), "BK-EXP-002"),
    Mutant("bucket-public-acls-allowed", AWS, _set(_PAB, "blockPublicAcls", False), "BK-EXP-001"),
    Mutant("bucket-policy-allows-everyone", AWS, _bucket_policy_edit(_allow_everyone), "BK-EXP-001"),
    Mutant("bucket-acl-public-read", AWS, _set(_BUCKET, "acl", "public-read"), "BK-EXP-001"),
    Mutant("db-port-open-to-internet", AWS, _open_database_port, "BK-EXP-003"),
    Mutant("rds-plaintext-password", AWS, _set(_RDS, "password", "Sup3rS3cretPassw0rd"), "BK-EXP-004"),
    Mutant("task-env-plaintext-password", AWS, _task_env_password, "BK-EXP-004"),
    Mutant("xks-credential-plaintext", AWS, _xks_credential_plaintext, "BK-EXP-004"),
    Mutant("config-plaintext-secret", AWS, _config_plaintext, "BK-EXP-004"),
    # Transit.
    Mutant(
        "listener-old-tls",
        AWS,
        _set("aws:lb/listener:Listener", "sslPolicy", "ELBSecurityPolicy-2016-08", _listener("HTTPS")),
        "BK-TLS-001",
    ),
    Mutant("listener-http-serves", AWS, _http_forwards, "BK-TLS-001"),
    Mutant("rds-force-ssl-off", AWS, _force_ssl_off, "BK-TLS-002"),
    Mutant("bucket-allows-plain-http", AWS, _bucket_policy_edit(_drop_tls_statement), "BK-TLS-003"),
    # Providers.
    Mutant(
        "provider-off-list",
        AWS,
        _add("gcp:storage/bucket:Bucket", "elsewhere", {"location": "EU"}),
        "BK-PROV-001",
    ),
    # Scaleway.
    Mutant("scw-db-unencrypted", SCW, _set(_SCW_DB, "encryptionAtRest", False), "BK-ENC-002"),
    Mutant("scw-db-amsterdam", SCW, _set(_SCW_DB, "region", "nl-ams"), "BK-REGION-001"),
    Mutant("scw-bucket-warsaw", SCW, _set(_SCW_BUCKET, "region", "pl-waw"), "BK-REGION-001"),
    Mutant(
        "scw-provider-amsterdam", SCW, _set("pulumi:providers:scaleway", "region", "nl-ams"), "BK-REGION-001"
    ),
    Mutant("scw-key-amsterdam", SCW, _set("scaleway:keymanager/key:Key", "region", "nl-ams"), "BK-KEY-003"),
    Mutant(
        "scw-bucket-public",
        SCW,
        _set("scaleway:object/bucketAcl:BucketAcl", "acl", "public-read"),
        "BK-EXP-001",
    ),
    Mutant("scw-db-public-endpoint", SCW, _set(_SCW_DB, "loadBalancer", {}), "BK-EXP-002"),
    Mutant("scw-db-no-private-network", SCW, _drop(_SCW_DB, "privateNetwork"), "BK-EXP-002"),
    Mutant("scw-secret-no-key", SCW, _drop("scaleway:secrets/secret:Secret", "keyId"), "BK-ENC-004"),
    Mutant(
        "scw-bucket-sse-removed",
        SCW,
        _remove(
            "scaleway:object/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        ),
        "BK-ENC-002",
    ),
    Mutant("scw-http-frontend-serves", SCW, _scw_frontend_plain, "BK-TLS-001"),
    Mutant(
        "scw-container-plain-http",
        SCW,
        _set("scaleway:containers/container:Container", "httpOption", "enabled"),
        "BK-TLS-001",
    ),
    Mutant(
        "scw-secret-version-plaintext",
        SCW,
        _set("scaleway:secrets/version:Version", "data", "Sup3rS3cret"),
        "BK-EXP-004",
    ),
    Mutant("scw-db-plaintext-password", SCW, _set(_SCW_DB, "password", "Sup3rS3cretPassw0rd"), "BK-EXP-004"),
    Mutant(
        "scw-unknown-data-store",
        SCW,
        _add("scaleway:datawarehouse/deployment:Deployment", "warehouse", {"region": "fr-par"}),
        "BK-ENC-003",
    ),
    Mutant(
        "scw-bucket-policy-everyone",
        SCW,
        _set(
            "scaleway:object/bucketPolicy:BucketPolicy",
            "policy",
            json.dumps(
                {
                    "Version": "2023-04-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
                    ],
                }
            ),
        ),
        "BK-EXP-001",
    ),  # fmt: skip
]
