"""Read-only by construction: the verify session refuses every call that is not an allow-listed read."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest

from policies.inputs.live import guard
from policies.inputs.live.guard import AWS_READ_OPERATIONS, ReadOnlyViolationError, read_only_session
from tests.verify.conftest import HOME, admin

_READ_PREFIXES = ("Describe", "List", "Get")


@pytest.mark.parametrize(
    ("service", "call", "params"),
    [
        ("s3", "delete_bucket", {"Bucket": "booking-documents-paris"}),
        (
            "s3",
            "put_bucket_encryption",
            {
                "Bucket": "booking-documents-paris",
                "ServerSideEncryptionConfiguration": {
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            },
        ),
        ("s3", "delete_bucket_encryption", {"Bucket": "booking-documents-paris"}),
        ("kms", "disable_key", {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}),
        ("kms", "disconnect_custom_key_store", {"CustomKeyStoreId": "cks-0123456789abcdef0"}),
        ("kms", "decrypt", {"CiphertextBlob": b"x"}),
        ("rds", "delete_db_instance", {"DBInstanceIdentifier": "booking-db", "SkipFinalSnapshot": True}),
        ("secretsmanager", "get_secret_value", {"SecretId": "booking/db"}),
        ("iam", "create_user", {"UserName": "intruder"}),
    ],
)
def test_mutating_or_data_reading_call_is_refused_before_any_request(
    aws: str, service: str, call: str, params: dict[str, Any]
) -> None:
    s3 = admin("s3")
    s3.create_bucket(Bucket="booking-documents-paris", CreateBucketConfiguration={"LocationConstraint": HOME})
    session = read_only_session()
    sent: list[str] = []
    session.events.register("before-send", lambda request, **_: sent.append(request.url))
    client = session.client(service, region_name=HOME)  # type: ignore[call-overload]
    with pytest.raises(ReadOnlyViolationError, match="not on the allow-list"):
        getattr(client, call)(**params)
    assert sent == [], "the guard must stop the call before any HTTP request"
    assert s3.head_bucket(Bucket="booking-documents-paris")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_allowed_read_goes_through(aws: str) -> None:
    session = read_only_session()
    assert session.client("s3", region_name=HOME).list_buckets()["Buckets"] == []


def test_allow_list_names_only_real_read_operations() -> None:
    loader = botocore.session.get_session()
    for service, operations in AWS_READ_OPERATIONS.items():
        model = loader.get_service_model(service)
        for operation, action in operations.items():
            assert operation in model.operation_names, f"{service}:{operation} is not a {service} operation"
            assert operation.startswith(_READ_PREFIXES), f"{service}:{operation} is not a read"
            assert action.split(":", 1)[1].startswith(_READ_PREFIXES), action


def test_iam_policy_document_is_exactly_the_allow_list() -> None:
    document = json.loads(guard.POLICY_PATH.read_text())
    assert document == guard.policy_document()
    [statement] = document["Statement"]
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == guard.iam_actions()
    assert not any("*" in action for action in statement["Action"]), "no wildcard action in a read-only role"
    assert all(action.split(":", 1)[1].startswith(_READ_PREFIXES) for action in statement["Action"])


def test_no_secret_values_or_decrypt_in_the_allow_list() -> None:
    actions = guard.iam_actions()
    assert "secretsmanager:GetSecretValue" not in actions
    assert not any(
        a.startswith("kms:") and a.split(":")[1] in ("Decrypt", "Encrypt", "GenerateDataKey") for a in actions
    )
