"""Fixtures for the live audit: moto's server on 127.0.0.1 (real HTTP) and accounts built with boto3.

moto 5 does not implement KMS custom key stores (DescribeCustomKeyStores, and CustomKeyStoreId /
XksKeyConfiguration in DescribeKey): the eu-west-3 KMS clients of the reader are botocore Stubbers
whose answers are moto's own (ListKeys, DescribeKey, ListAliases) plus the XKS fields.
"""

from __future__ import annotations

import importlib.util
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer

from policies.inputs.live.aws import AwsReader
from policies.inputs.live.guard import RETRY_CONFIG, read_only_session

ROOT = Path(__file__).resolve().parents[2]
HOME = "eu-west-3"
ACCOUNT = "123456789012"
STORE_ID = "cks-0123456789abcdef0"
XKS_ENDPOINT = "https://xks.booking.example.fr"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        # moto's stock AMIs come with EBS snapshots "owned" by the test account; a real account
        # holds only what it made, and the EBS reader reads every snapshot it owns.
        patch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, empty moto account; credentials and endpoint in the environment, as for a real run."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))  # noqa: S310
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", HOME)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    yield moto_url


def admin(service: str, region: str = HOME) -> Any:
    """A plain (unguarded) client the tests use to build accounts, as an operator would."""
    return boto3.client(service, region_name=region)  # type: ignore[call-overload]


@dataclass
class Account:
    """What a test built: key ARNs, names, and the XKS facts KMS would return."""

    key_arn: str = ""
    key_id: str = ""
    bucket: str = "booking-documents-paris"
    store: dict[str, Any] = field(default_factory=dict)
    #: KeyId -> extra DescribeKey fields (CustomKeyStoreId, XksKeyConfiguration...) moto lacks.
    xks_keys: dict[str, dict[str, Any]] = field(default_factory=dict)


def compliant_store(**changes: Any) -> dict[str, Any]:
    store: dict[str, Any] = {
        "CustomKeyStoreId": STORE_ID,
        "CustomKeyStoreName": "booking-xks-paris",
        "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
        "ConnectionState": "CONNECTED",
        "XksProxyConfiguration": {
            "Connectivity": "PUBLIC_ENDPOINT",
            "AccessKeyId": "AKIAXKSPROXYEXAMPLE0",
            "UriEndpoint": XKS_ENDPOINT,
            "UriPath": "/kms/xks/v1",
        },
    }
    store.update(changes)
    return store


def _key_policy(region: str, uses: list[str]) -> str:
    import json

    from facts.aws import key_policy_statements

    account = "123456789012"  # moto's account
    root = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    statements = key_policy_statements(uses, {"region": region, "account": account})
    return json.dumps({"Version": "2012-10-17", "Statement": [root, *statements]})


def build_compliant(region: str = HOME) -> Account:
    """The deployed blueprint as it should stay: every store under the XKS key, private, TLS only."""
    account = Account()
    kms = admin("kms", region)
    key = kms.create_key(
        Description="booking data",
        Origin="EXTERNAL_KEY_STORE",
        XksKeyId="hsm-key-1",
        # The log group below uses the key: CloudWatch Logs must be allowed, as AWS documents (BK-KEY-006).
        Policy=_key_policy(region, ["cloudwatch-logs"]),
    )["KeyMetadata"]
    account.key_arn, account.key_id = key["Arn"], key["KeyId"]
    kms.create_alias(AliasName="alias/booking-data", TargetKeyId=key["KeyId"])
    account.store = compliant_store()
    account.xks_keys[key["KeyId"]] = {
        "CustomKeyStoreId": STORE_ID,
        "XksKeyConfiguration": {"Id": "hsm-key-1"},
    }

    s3 = admin("s3", region)
    s3.create_bucket(Bucket=account.bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_encryption(
        Bucket=account.bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key["Arn"],
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=account.bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_policy(
        Bucket=account.bucket,
        Policy=(
            '{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*",'
            '"Action":"s3:*","Resource":["arn:aws:s3:::'
            + account.bucket
            + '","arn:aws:s3:::'
            + account.bucket
            + '/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}'
        ),
    )

    rds = admin("rds", region)
    rds.create_db_parameter_group(
        DBParameterGroupName="booking-postgres16", DBParameterGroupFamily="postgres16", Description="TLS only"
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName="booking-postgres16",
        Parameters=[{"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "immediate"}],
    )
    rds.create_db_instance(
        DBInstanceIdentifier="booking-db",
        DBInstanceClass="db.t4g.medium",
        Engine="postgres",
        MasterUsername="booking",
        MasterUserPassword="not-used-in-tests-0",
        AllocatedStorage=20,
        StorageEncrypted=True,
        KmsKeyId=key["Arn"],
        PubliclyAccessible=False,
        DBParameterGroupName="booking-postgres16",
    )
    admin("logs", region).create_log_group(logGroupName="/booking/app", kmsKeyId=key["Arn"])
    admin("secretsmanager", region).create_secret(Name="booking/db", SecretString="x", KmsKeyId=key["Arn"])
    admin("backup", region).create_backup_vault(BackupVaultName="booking-vault", EncryptionKeyArn=key["Arn"])
    return account


def kms_stubs(
    account: Account, region: str = HOME, other_regions: tuple[str, ...] = ()
) -> tuple[dict[str, Any], list[Stubber]]:
    """Stubbed KMS clients for the reader: moto's keys and aliases, plus the XKS facts moto lacks.

    In ``other_regions`` only DescribeCustomKeyStores is stubbed (no store there); keys come from moto.
    """
    moto_kms = admin("kms", region)
    session = read_only_session(region=region)
    keys_client = session.client("kms", region_name=region, config=RETRY_CONFIG)
    stores_client = session.client("kms", region_name=region, config=RETRY_CONFIG)
    keys, stores = Stubber(keys_client), Stubber(stores_client)
    listed = moto_kms.list_keys()
    keys.add_response("list_keys", {"Keys": listed["Keys"], "Truncated": False})
    for entry in listed["Keys"]:
        meta = moto_kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"]
        meta.update(account.xks_keys.get(entry["KeyId"], {}))
        keys.add_response("describe_key", {"KeyMetadata": meta}, {"KeyId": entry["KeyId"]})
        if meta.get("KeyManager") != "AWS":
            # Who may use the key (BK-ACCESS-001): moto's answers, read in the reader's order.
            policy = moto_kms.get_key_policy(KeyId=entry["KeyId"], PolicyName="default")["Policy"]
            keys.add_response(
                "get_key_policy", {"Policy": policy}, {"KeyId": entry["KeyId"], "PolicyName": "default"}
            )
            grants = moto_kms.list_grants(KeyId=entry["KeyId"])["Grants"]
            keys.add_response(
                "list_grants", {"Grants": grants, "Truncated": False}, {"KeyId": entry["KeyId"]}
            )
    aliases = moto_kms.list_aliases()["Aliases"]
    keys.add_response("list_aliases", {"Aliases": aliases, "Truncated": False})
    stores.add_response(
        "describe_custom_key_stores", {"CustomKeyStores": [account.store] if account.store else []}
    )
    keys.activate()
    stores.activate()
    clients = {f"kms@{region}": keys_client, f"kms@{region}#stores": stores_client}
    stubbers = [keys, stores]
    for other in other_regions:
        client = session.client("kms", region_name=other, config=RETRY_CONFIG)
        stub = Stubber(client)
        stub.add_response("describe_custom_key_stores", {"CustomKeyStores": []})
        stub.activate()
        clients[f"kms@{other}#stores"] = client
        stubbers.append(stub)
    return clients, stubbers


def reader_for(
    account: Account, other_regions: tuple[str, ...] = (), **kwargs: Any
) -> tuple[AwsReader, list[Stubber]]:
    clients, stubbers = kms_stubs(account, other_regions=other_regions)
    reader = AwsReader(read_only_session(), clients=clients, **kwargs)
    return reader, stubbers


def verify_module() -> Any:
    """scripts/verify.py, loaded from its path (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("verify_script", ROOT / "scripts" / "verify.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
