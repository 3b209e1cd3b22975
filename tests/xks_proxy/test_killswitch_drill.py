"""The kill-switch drill: runs for real on SoftHSM2 (KMS side simulated), and its --live mode under Stubber."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from scripts import killswitch_drill
from scripts.killswitch_live import live_drill
from scripts.killswitch_local import DrillError

ROOT = Path(__file__).resolve().parents[2]

STORE = "cks-1234567890abcdef0"
KEY = "arn:aws:kms:eu-west-3:111122223333:key/0d5e1f8c-2b3a-4c5d-8e9f-a0b1c2d3e4f5"


@pytest.mark.skipif(shutil.which("softhsm2-util") is None, reason="softhsm2 not installed")
def test_local_drill_every_switch_bites_and_only_reversible_ones_come_back(tmp_path: Path) -> None:
    # A short key cache keeps the test fast; the drill's default is the proxy's own (2 s).
    assert killswitch_drill.main(["--out", str(tmp_path), "--records", "6", "--key-cache-s", "0.3"]) == 0
    result = json.loads((tmp_path / "drill.json").read_text())
    assert result["ok"] and result["readableBefore"] == 6 and "SIMULATED" in result["simulation"]
    by_id = {s["id"]: s for s in result["switches"]}
    assert set(by_id) == {"a", "b1", "b2", "c"}
    for s in by_id.values():
        assert s["readableAfter"] == 0 and s["timeToEffectMs"] is not None
    for sid in ("a", "b1", "b2"):
        assert by_id[sid]["reversible"] and by_id[sid]["readableAfterUndo"] == 6
    assert not by_id["c"]["reversible"] and by_id["c"]["readableAfterUndo"] == 0
    # The exact XKS errors KMS receives (spec error table).
    assert (by_id["a"]["xksError"]["httpStatus"], by_id["a"]["xksError"]["errorName"]) == (
        400,
        "InvalidStateException",
    )
    assert by_id["b1"]["xksError"]["errorName"] == "AuthenticationFailedException"
    assert by_id["b2"]["xksError"]["errorName"] == "no response"
    assert by_id["c"]["xksError"]["errorName"] == "KeyNotFoundException"
    md = (tmp_path / "drill.md").read_text()
    assert "SIMULATED" in md and "PASS" in md
    for url in ("unusable-kms-keys.html", "bucket-key.html", "rds-aurora-inaccessible-state"):
        assert url in md  # the cited AWS delays
    assert "retrieved 2026-12-02" in md


def test_unwritable_out_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert killswitch_drill.main(["--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out:") and err.count("\n") == 1


@pytest.mark.parametrize(
    "argv", [["--records", "0"], ["--live"], ["--live", "--custom-key-store-id", STORE]], ids=str
)
def test_bad_arguments_exit_2(tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert killswitch_drill.main(["--out", str(tmp_path), *argv]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "drill.json").exists()


def stubbed(decrypt_while_disconnected_succeeds: bool = False) -> tuple[Any, Stubber]:
    kms = botocore.session.get_session().create_client(
        "kms", region_name="eu-west-3", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x" * 40
    )
    stub = Stubber(kms)

    def store(state: str) -> dict[str, Any]:
        return {
            "CustomKeyStores": [
                {
                    "CustomKeyStoreId": STORE,
                    "ConnectionState": state,
                    "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
                    "CreationDate": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                }
            ]
        }

    ask = {"CustomKeyStoreId": STORE}
    stub.add_response("describe_custom_key_stores", store("CONNECTED"), ask)
    stub.add_response(
        "encrypt",
        {"CiphertextBlob": b"blob", "KeyId": KEY},
        {"KeyId": KEY, "Plaintext": b"killswitch-drill-probe"},
    )
    stub.add_response("disconnect_custom_key_store", {}, ask)
    stub.add_response("describe_custom_key_stores", store("DISCONNECTING"), ask)
    stub.add_response("describe_custom_key_stores", store("DISCONNECTED"), ask)
    if decrypt_while_disconnected_succeeds:
        stub.add_response("decrypt", {"Plaintext": b"killswitch-drill-probe", "KeyId": KEY})
    else:
        stub.add_client_error("decrypt", "KMSInvalidStateException", "key store not connected", 400)
    stub.add_response("connect_custom_key_store", {}, ask)
    stub.add_response("describe_custom_key_stores", store("CONNECTING"), ask)
    stub.add_response("describe_custom_key_stores", store("CONNECTED"), ask)
    stub.add_response(
        "decrypt",
        {"Plaintext": b"killswitch-drill-probe", "KeyId": KEY},
        {"CiphertextBlob": b"blob", "KeyId": KEY},
    )
    return kms, stub


def test_live_switch_b_disconnects_proves_decrypt_fails_and_reconnects() -> None:
    kms, stub = stubbed()
    with stub:
        result = live_drill(STORE, KEY, "eu-west-3", 60, kms=kms, sleep=lambda _s: None)
        stub.assert_no_pending_responses()
    assert result["ok"], result
    assert [s["result"] for s in result["steps"]] == [
        "ok",
        "DISCONNECTED",
        "refused: KMSInvalidStateException",
        "CONNECTED",
        "ok",
    ]


def test_live_drill_fails_when_decrypt_still_works_while_disconnected() -> None:
    kms, stub = stubbed(decrypt_while_disconnected_succeeds=True)
    with stub:
        result = live_drill(STORE, KEY, "eu-west-3", 60, kms=kms, sleep=lambda _s: None)
    assert not result["ok"]


def test_live_drill_aws_error_is_an_incomplete_read_and_the_store_is_reconnected() -> None:
    kms, stub = stubbed()
    stub = Stubber(kms)
    ask = {"CustomKeyStoreId": STORE}
    stub.add_client_error("describe_custom_key_stores", "AccessDeniedException", "not allowed", 400)
    with stub, pytest.raises(DrillError, match=r"AWS: .*AccessDenied"):
        live_drill(STORE, KEY, "eu-west-3", 60, kms=kms, sleep=lambda _s: None)
    # After a disconnect, a failure still reconnects before returning.
    stub = Stubber(kms)
    store = {"CustomKeyStores": [{"CustomKeyStoreId": STORE, "ConnectionState": "CONNECTED"}]}
    stub.add_response("describe_custom_key_stores", store, ask)
    stub.add_response("encrypt", {"CiphertextBlob": b"blob", "KeyId": KEY})
    stub.add_response("disconnect_custom_key_store", {}, ask)
    stub.add_client_error("describe_custom_key_stores", "ThrottlingException", "slow down", 400)
    stub.add_response("connect_custom_key_store", {}, ask)
    with stub, pytest.raises(DrillError, match="Throttling"):
        live_drill(STORE, KEY, "eu-west-3", 60, kms=kms, sleep=lambda _s: None)
    stub.assert_no_pending_responses()
