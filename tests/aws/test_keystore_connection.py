"""The key store connection resource's logic against botocore's Stubber (moto has no custom key stores).

The Stubber validates every request and response against the KMS service model, so a wrong
parameter name or a malformed response fails here just as it would against AWS."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from components.aws.keystore_connection import (
    CONNECTION_ERROR_ADVICE,
    KeyStoreConnectionError,
    connect_and_wait,
    disconnect,
)

STORE = "cks-1234567890abcdef0"


class FakeClock:
    """Time that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def described(state: str, error_code: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "CustomKeyStoreId": STORE,
        "CustomKeyStoreName": "booking-keys-xks",
        "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
        "ConnectionState": state,
        "XksProxyConfiguration": {
            "Connectivity": "PUBLIC_ENDPOINT",
            "AccessKeyId": "PREVIEWPLACEHOLDERAAAAAAAA",
            "UriEndpoint": "https://xks.cles.sante-exemple.fr",
            "UriPath": "/booking/kms/xks/v1",
        },
    }
    if error_code:
        entry["ConnectionErrorCode"] = error_code
    return {"CustomKeyStores": [entry]}


def expect_describe(stubber: Stubber, state: str, error_code: str | None = None) -> None:
    stubber.add_response(
        "describe_custom_key_stores", described(state, error_code), {"CustomKeyStoreId": STORE}
    )


def expect_connect(stubber: Stubber) -> None:
    stubber.add_response("connect_custom_key_store", {}, {"CustomKeyStoreId": STORE})


def test_disconnected_store_is_connected_and_waited_for(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    clock = FakeClock()
    expect_describe(stubber, "DISCONNECTED")
    expect_connect(stubber)
    expect_describe(stubber, "CONNECTING")
    expect_describe(stubber, "CONNECTING")
    expect_describe(stubber, "CONNECTED")
    outcome = connect_and_wait(client, STORE, 600, poll_seconds=15, sleep=clock.sleep, clock=clock)
    assert outcome.state == "CONNECTED"
    assert clock.sleeps == [15, 15]
    assert outcome.waited_seconds == 30


def test_already_connected_store_is_left_alone(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    expect_describe(stubber, "CONNECTED")  # and no ConnectCustomKeyStore: the Stubber would fail on it
    assert connect_and_wait(client, STORE, 600).state == "CONNECTED"


def test_store_still_disconnecting_is_waited_for_before_connecting(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    clock = FakeClock()
    expect_describe(stubber, "DISCONNECTING")
    expect_describe(stubber, "DISCONNECTING")
    expect_describe(stubber, "DISCONNECTED")
    expect_connect(stubber)
    expect_describe(stubber, "CONNECTED")
    assert connect_and_wait(client, STORE, 600, sleep=clock.sleep, clock=clock).state == "CONNECTED"


@pytest.mark.parametrize(
    "code",
    [
        "XKS_PROXY_NOT_REACHABLE",
        "XKS_PROXY_INVALID_AUTHENTICATION_CREDENTIAL",
        "XKS_PROXY_INVALID_CONFIGURATION",
        "XKS_PROXY_INVALID_RESPONSE",
        "XKS_PROXY_INVALID_TLS_CONFIGURATION",
        "XKS_PROXY_TIMED_OUT",
        "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND",
        "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION",
    ],
)
def test_failure_reports_the_error_code_and_what_to_do(kms: tuple[Any, Stubber], code: str) -> None:
    client, stubber = kms
    clock = FakeClock()
    expect_describe(stubber, "DISCONNECTED")
    expect_connect(stubber)
    expect_describe(stubber, "CONNECTING")
    expect_describe(stubber, "FAILED", code)
    with pytest.raises(KeyStoreConnectionError) as caught:
        connect_and_wait(client, STORE, 600, sleep=clock.sleep, clock=clock)
    message = str(caught.value)
    assert code in message
    assert CONNECTION_ERROR_ADVICE[code] in message


def test_previously_failed_store_is_connected_again(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    expect_describe(stubber, "FAILED", "XKS_PROXY_NOT_REACHABLE")
    expect_connect(stubber)
    expect_describe(stubber, "CONNECTED")
    assert connect_and_wait(client, STORE, 600, sleep=FakeClock().sleep).state == "CONNECTED"


def test_timeout_names_the_state_and_the_setting(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    clock = FakeClock()
    expect_describe(stubber, "DISCONNECTED")
    expect_connect(stubber)
    for _ in range(5):  # polls at 0, 15, 30, 45 and 60 s; the last one is past the 60 s timeout
        expect_describe(stubber, "CONNECTING")
    with pytest.raises(KeyStoreConnectionError) as caught:
        connect_and_wait(client, STORE, 60, poll_seconds=15, sleep=clock.sleep, clock=clock)
    assert "still CONNECTING after 60 s" in str(caught.value)
    assert "booking:xks.connectTimeoutSeconds" in str(caught.value)
    assert clock.now == 60


def test_unknown_store_is_a_clear_error(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    stubber.add_response("describe_custom_key_stores", {"CustomKeyStores": []}, {"CustomKeyStoreId": STORE})
    with pytest.raises(KeyStoreConnectionError, match=f"custom key store {STORE} not found"):
        connect_and_wait(client, STORE, 600)


def test_aws_not_found_error_is_the_same_clear_error(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    stubber.add_client_error(
        "describe_custom_key_stores",
        service_error_code="CustomKeyStoreNotFoundException",
        http_status_code=400,
    )
    with pytest.raises(KeyStoreConnectionError, match=f"custom key store {STORE} not found"):
        connect_and_wait(client, STORE, 600)


def test_other_aws_errors_propagate(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    stubber.add_client_error(
        "describe_custom_key_stores", service_error_code="KMSInternalException", http_status_code=500
    )
    with pytest.raises(client.exceptions.KMSInternalException):
        connect_and_wait(client, STORE, 600)


@pytest.mark.parametrize("state", ["CONNECTED", "CONNECTING", "FAILED"])
def test_delete_disconnects_a_live_store(kms: tuple[Any, Stubber], state: str) -> None:
    client, stubber = kms
    expect_describe(stubber, state)
    stubber.add_response("disconnect_custom_key_store", {}, {"CustomKeyStoreId": STORE})
    disconnect(client, STORE)


@pytest.mark.parametrize("state", ["DISCONNECTED", "DISCONNECTING"])
def test_delete_of_a_disconnected_store_calls_nothing_else(kms: tuple[Any, Stubber], state: str) -> None:
    client, stubber = kms
    expect_describe(stubber, state)
    disconnect(client, STORE)


def test_delete_of_a_store_already_gone_succeeds(kms: tuple[Any, Stubber]) -> None:
    client, stubber = kms
    stubber.add_response("describe_custom_key_stores", {"CustomKeyStores": []}, {"CustomKeyStoreId": STORE})
    disconnect(client, STORE)
