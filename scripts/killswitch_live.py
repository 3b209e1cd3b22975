"""Switch (b) against a real AWS account: disconnect the external key store, prove Decrypt fails, reconnect.

Needs AWS credentials allowed kms:Encrypt and kms:Decrypt on the key and kms:DescribeCustomKeyStores,
kms:DisconnectCustomKeyStore and kms:ConnectCustomKeyStore on the key store. Whatever happens after
the disconnect, the key store is connected again before returning (a drill must not leave the
booking platform down).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

PROBE = b"killswitch-drill-probe"
POLL_S = 5.0


class LiveDrillError(RuntimeError):
    """AWS could not be read or driven (credentials, permissions, network); the message says why."""


def _state(kms: Any, store_id: str) -> tuple[str, str]:
    stores = kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"]
    if not stores:
        raise LiveDrillError(f"--custom-key-store-id: {store_id} not found")
    return stores[0]["ConnectionState"], stores[0].get("ConnectionErrorCode", "")


def _wait(
    kms: Any, store_id: str, want: str, wait_s: float, sleep: Callable[[float], None]
) -> tuple[str, float]:
    start = time.monotonic()
    waited = 0.0
    while True:
        state, error = _state(kms, store_id)
        if state in (want, "FAILED"):
            return (state if not error else f"{state} ({error})"), round(time.monotonic() - start, 1)
        if waited >= wait_s:
            return state, round(time.monotonic() - start, 1)
        sleep(POLL_S)
        waited += POLL_S


def live_drill(  # noqa: PLR0917
    store_id: str,
    key_id: str,
    region: str,
    wait_s: float,
    kms: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    from scripts.killswitch_local import DrillError

    kms = kms or botocore.session.get_session().create_client("kms", region_name=region)
    steps: list[dict[str, Any]] = []
    disconnected = False
    try:
        state, _ = _state(kms, store_id)
        if state != "CONNECTED":
            raise LiveDrillError(f"key store {store_id} is {state}; the drill starts from CONNECTED")
        blob = kms.encrypt(KeyId=key_id, Plaintext=PROBE)["CiphertextBlob"]
        steps.append({"step": "Encrypt a probe under the key", "result": "ok"})
        kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
        disconnected = True
        state, secs = _wait(kms, store_id, "DISCONNECTED", wait_s, sleep)
        steps.append({"step": "DisconnectCustomKeyStore", "result": state, "seconds": secs})
        try:
            kms.decrypt(CiphertextBlob=blob, KeyId=key_id)
            steps.append(
                {"step": "Decrypt while disconnected (must fail)", "result": "SUCCEEDED: switch failed"}
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            steps.append({"step": "Decrypt while disconnected (must fail)", "result": f"refused: {code}"})
        kms.connect_custom_key_store(CustomKeyStoreId=store_id)
        state, secs = _wait(kms, store_id, "CONNECTED", wait_s, sleep)
        disconnected = state != "CONNECTED"
        steps.append({"step": "ConnectCustomKeyStore", "result": state, "seconds": secs})
        plain = kms.decrypt(CiphertextBlob=blob, KeyId=key_id)["Plaintext"] if not disconnected else b""
        steps.append({"step": "Decrypt after reconnecting", "result": "ok" if plain == PROBE else "FAILED"})
    except (ClientError, BotoCoreError, LiveDrillError) as exc:
        raise DrillError(f"AWS: {str(exc)[:300]}") from None
    finally:
        if disconnected:  # never leave the platform's keys unusable because the drill broke off
            with contextlib.suppress(ClientError, BotoCoreError):
                kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    refused = steps[2]["result"].startswith("refused")
    ok = (
        steps[1]["result"] == "DISCONNECTED"
        and refused
        and steps[3]["result"] == "CONNECTED"
        and steps[4]["result"] == "ok"
    )
    return {
        "mode": "live",
        "simulation": "Nothing simulated: switch (b) performed on the real key store with AWS's KMS API",
        "customKeyStoreId": store_id,
        "keyId": key_id,
        "region": region,
        "steps": steps,
        "ok": ok,
    }
