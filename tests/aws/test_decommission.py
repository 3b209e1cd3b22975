"""scripts/decommission_aws.py against botocore's Stubber: each step runs only in its turn.

The Stubber fails on any call not queued: a refused step is shown to send nothing that changes AWS.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from scripts import decommission_aws as decommission

STORE = "cks-1234567890abcdef0"
NAME = "aws-xks-paris-xks"
KEYS = ("1234abcd-12ab-34cd-56ef-1234567890ab", "0987dcba-09fe-87dc-65ba-ab0987654321")
OTHER_KEY = "11111111-2222-3333-4444-555555555555"
WHEN = datetime(2027, 1, 4, tzinfo=UTC)


def expect_store(stubber: Stubber, state: str, keys: dict[str, str]) -> None:
    """DescribeCustomKeyStores, then ListKeys and one DescribeKey per key (one key of another store)."""
    stubber.add_response(
        "describe_custom_key_stores",
        {
            "CustomKeyStores": [
                {
                    "CustomKeyStoreId": STORE,
                    "CustomKeyStoreName": NAME,
                    "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
                    "ConnectionState": state,
                }
            ]
        },
        {"CustomKeyStoreId": STORE},
    )
    listed = [*keys, OTHER_KEY]
    stubber.add_response("list_keys", {"Keys": [{"KeyId": k} for k in listed], "Truncated": False}, {})
    for key_id, key_state in keys.items():
        metadata: dict[str, Any] = {"KeyId": key_id, "KeyState": key_state, "CustomKeyStoreId": STORE}
        if key_state == "PendingDeletion":
            metadata["DeletionDate"] = WHEN
        stubber.add_response("describe_key", {"KeyMetadata": metadata}, {"KeyId": key_id})
    stubber.add_response(
        "describe_key", {"KeyMetadata": {"KeyId": OTHER_KEY, "KeyState": "Enabled"}}, {"KeyId": OTHER_KEY}
    )


def run(client: Any, *argv: str) -> int:
    return decommission.main([*argv, "--store", STORE], client_factory=lambda _region, _profile: client)


def test_status_names_the_next_step(kms: tuple[Any, Stubber], capsys: pytest.CaptureFixture[str]) -> None:
    client, stubber = kms
    expect_store(stubber, "CONNECTED", dict.fromkeys(KEYS, "Enabled"))
    assert run(client, "status") == 0
    out = capsys.readouterr().out
    assert '"next": "disconnect"' in out and OTHER_KEY not in out


def test_disconnect_refuses_while_keys_serve_the_platform(kms: tuple[Any, Stubber], capsys: Any) -> None:
    client, stubber = kms
    expect_store(stubber, "CONNECTED", dict.fromkeys(KEYS, "Enabled"))
    assert run(client, "disconnect") == 1
    assert "refused: 2 key(s)" in capsys.readouterr().err


def test_disconnect_when_asked_knowingly(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    expect_store(stubber, "CONNECTED", dict.fromkeys(KEYS, "Enabled"))
    stubber.add_response("disconnect_custom_key_store", {}, {"CustomKeyStoreId": STORE})
    assert run(client, "disconnect", "--keys-in-use-ok") == 0


def test_schedule_deletion_refuses_a_connected_store(kms: tuple[Any, Stubber], capsys: Any) -> None:
    client, stubber = kms
    expect_store(stubber, "CONNECTED", dict.fromkeys(KEYS, "Enabled"))
    assert run(client, "schedule-deletion", "--confirm", NAME) == 1
    assert "run `disconnect` first" in capsys.readouterr().err


def test_schedule_deletion_needs_the_store_name(kms: tuple[Any, Stubber], capsys: Any) -> None:
    client, stubber = kms
    expect_store(stubber, "DISCONNECTED", dict.fromkeys(KEYS, "Enabled"))
    assert run(client, "schedule-deletion", "--confirm", "yes") == 2
    assert f"--confirm: must be the store's name {NAME!r}" in capsys.readouterr().err


def test_schedule_deletion_window_comes_from_the_facts(kms: tuple[Any, Stubber], capsys: Any) -> None:
    client, _ = kms
    assert run(client, "schedule-deletion", "--confirm", NAME, "--window-days", "3") == 2
    assert "--window-days: must be 7 to 30 (got 3)" in capsys.readouterr().err


def test_schedule_deletion_of_every_key_of_a_disconnected_store(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    expect_store(stubber, "DISCONNECTED", {KEYS[0]: "Unavailable", KEYS[1]: "PendingDeletion"})
    stubber.add_response(
        "schedule_key_deletion",
        {"KeyId": KEYS[0], "DeletionDate": WHEN, "KeyState": "PendingDeletion", "PendingWindowInDays": 30},
        {"KeyId": KEYS[0], "PendingWindowInDays": 30},
    )
    assert run(client, "schedule-deletion", "--confirm", NAME) == 0


def test_delete_store_refuses_while_keys_wait(kms: tuple[Any, Stubber], capsys: Any) -> None:
    client, stubber = kms
    expect_store(stubber, "DISCONNECTED", dict.fromkeys(KEYS, "PendingDeletion"))
    assert run(client, "delete-store") == 1
    assert "2 key(s) pending deletion; run again after 2027-01-04" in capsys.readouterr().err


def test_delete_store_refuses_keys_never_scheduled(kms: tuple[Any, Stubber], capsys: Any) -> None:
    client, stubber = kms
    expect_store(stubber, "DISCONNECTED", {KEYS[0]: "PendingDeletion", KEYS[1]: "Unavailable"})
    assert run(client, "delete-store") == 1
    assert "run `schedule-deletion` (step 2)" in capsys.readouterr().err


def test_delete_store_once_empty_and_disconnected(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    expect_store(stubber, "DISCONNECTED", {})
    stubber.add_response("delete_custom_key_store", {}, {"CustomKeyStoreId": STORE})
    assert run(client, "delete-store") == 0


def test_aws_refusal_is_incomplete_not_a_traceback(kms: tuple[Any, Stubber], capsys: Any) -> None:
    client, stubber = kms
    stubber.add_client_error("describe_custom_key_stores", service_error_code="AccessDeniedException")
    assert run(client, "status") == 3
    err = capsys.readouterr().err
    assert err.startswith("decommission_aws: incomplete:") and "Traceback" not in err
