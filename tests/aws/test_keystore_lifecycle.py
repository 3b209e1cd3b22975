"""The key store connection's whole life, driven through the dynamic provider against botocore's Stubber.

Each test is one row of the lifecycle matrix (operation -> KMS calls -> outcome). The Stubber fails on
any call not queued, so "no call" is asserted too. Error codes are AWS's own (KMS API reference).
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from components.aws.keystore_connection import (
    KeyStoreConnectionError,
    KeyStoreConnectionProvider,
    plan_update,
)

STORE = "cks-1234567890abcdef0"
ENDPOINT = "https://xks.cles.sante-exemple.fr"


@pytest.fixture
def provider(kms: tuple[Any, Stubber]) -> tuple[KeyStoreConnectionProvider, list[tuple[str, str | None]]]:
    """A provider whose client is the stubbed one; records the (region, profile) it was built for."""
    built: list[tuple[str, str | None]] = []

    def factory(region: str, profile: str | None) -> Any:
        built.append((region, profile))
        return kms[0]

    return KeyStoreConnectionProvider(client_factory=factory, sleep=lambda _seconds: None), built


def props(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "customKeyStoreId": STORE,
        "region": "eu-west-3",
        "uriEndpoint": ENDPOINT,
        "connectivity": "PUBLIC_ENDPOINT",
        "vpcEndpointServiceName": None,
        "profile": "booking-prod",
        "timeoutSeconds": 1200.0,  # numbers arrive as floats
        "connectionState": None,
    }
    return {**base, **changes}


def described(state: str, endpoint: str = ENDPOINT, connectivity: str = "PUBLIC_ENDPOINT") -> dict[str, Any]:
    return {
        "CustomKeyStores": [
            {
                "CustomKeyStoreId": STORE,
                "CustomKeyStoreName": "aws-xks-paris-xks",
                "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
                "ConnectionState": state,
                "XksProxyConfiguration": {
                    "Connectivity": connectivity,
                    "AccessKeyId": "PREVIEWPLACEHOLDERAAAAAAAA",
                    "UriEndpoint": endpoint,
                    "UriPath": "/booking/kms/xks/v1",
                },
            }
        ]
    }


def expect_describe(stubber: Stubber, state: str, **kwargs: str) -> None:
    stubber.add_response(
        "describe_custom_key_stores", described(state, **kwargs), {"CustomKeyStoreId": STORE}
    )


def test_create_connects_then_reports_the_live_state(kms: tuple[Any, Stubber], provider: Any) -> None:
    _, stubber = kms
    resource, built = provider
    expect_describe(stubber, "DISCONNECTED")
    stubber.add_response("connect_custom_key_store", {}, {"CustomKeyStoreId": STORE})
    expect_describe(stubber, "CONNECTED")
    expect_describe(stubber, "CONNECTED")  # the outputs are read back
    result = resource.create(props())
    assert result.id == STORE
    assert result.outs["connectionState"] == "CONNECTED"
    assert result.outs["region"] == "eu-west-3"
    assert built == [("eu-west-3", "booking-prod")], "the stack provider's region and profile"


def test_unchanged_connected_store_is_a_no_op() -> None:
    state = {**props(), "connectionState": "CONNECTED"}
    diff = plan_update(state, props())
    assert diff.changes is False
    assert diff.replaces == []


def test_timeout_change_updates_without_touching_the_store(kms: tuple[Any, Stubber], provider: Any) -> None:
    _, stubber = kms
    resource, _ = provider
    olds = {**props(), "connectionState": "CONNECTED"}
    news = props(timeoutSeconds=600.0)
    diff = resource.diff(STORE, olds, news)
    assert diff.changes is True and diff.replaces == []
    expect_describe(stubber, "CONNECTED")  # connect_and_wait: already connected, no Connect call
    expect_describe(stubber, "CONNECTED")
    result = resource.update(STORE, olds, news)
    # Every output survives the update, so a later delete or refresh still has its region.
    assert result.outs["region"] == "eu-west-3"
    assert result.outs["timeoutSeconds"] == 600.0
    assert result.outs["connectionState"] == "CONNECTED"


def test_refresh_sees_an_out_of_band_disconnect_and_up_reconnects(
    kms: tuple[Any, Stubber], provider: Any
) -> None:
    _, stubber = kms
    resource, _ = provider
    expect_describe(stubber, "DISCONNECTED")
    read = resource.read(STORE, {**props(), "connectionState": "CONNECTED"})
    assert read.id == STORE
    assert read.outs["connectionState"] == "DISCONNECTED"
    diff = resource.diff(STORE, read.outs, props())
    assert diff.changes is True and diff.replaces == []
    expect_describe(stubber, "DISCONNECTED")
    stubber.add_response("connect_custom_key_store", {}, {"CustomKeyStoreId": STORE})
    expect_describe(stubber, "CONNECTING")
    expect_describe(stubber, "CONNECTED")
    expect_describe(stubber, "CONNECTED")
    result = resource.update(STORE, read.outs, props())
    assert result.outs["connectionState"] == "CONNECTED"


def test_endpoint_change_disconnects_updates_and_reconnects(kms: tuple[Any, Stubber], provider: Any) -> None:
    _, stubber = kms
    resource, _ = provider
    new_endpoint = "https://xks2.cles.sante-exemple.fr"
    olds = {**props(), "connectionState": "CONNECTED"}
    news = props(uriEndpoint=new_endpoint)
    diff = resource.diff(STORE, olds, news)
    assert diff.changes is True and diff.replaces == []
    expect_describe(stubber, "CONNECTED")
    stubber.add_response("disconnect_custom_key_store", {}, {"CustomKeyStoreId": STORE})
    expect_describe(stubber, "DISCONNECTING")
    expect_describe(stubber, "DISCONNECTED")
    stubber.add_response(
        "update_custom_key_store", {}, {"CustomKeyStoreId": STORE, "XksProxyUriEndpoint": new_endpoint}
    )
    expect_describe(stubber, "DISCONNECTED", endpoint=new_endpoint)
    stubber.add_response("connect_custom_key_store", {}, {"CustomKeyStoreId": STORE})
    expect_describe(stubber, "CONNECTED", endpoint=new_endpoint)
    expect_describe(stubber, "CONNECTED", endpoint=new_endpoint)
    result = resource.update(STORE, olds, news)
    assert result.outs["uriEndpoint"] == new_endpoint
    assert result.outs["connectionState"] == "CONNECTED"


def test_update_refused_by_aws_is_not_swallowed(kms: tuple[Any, Stubber], provider: Any) -> None:
    client, stubber = kms
    resource, _ = provider
    olds = {**props(), "connectionState": "CONNECTED"}
    news = props(
        connectivity="VPC_ENDPOINT_SERVICE", vpcEndpointServiceName="com.amazonaws.vpce.eu-west-3.vpce-svc-1"
    )
    expect_describe(stubber, "CONNECTED")
    stubber.add_response("disconnect_custom_key_store", {}, {"CustomKeyStoreId": STORE})
    expect_describe(stubber, "DISCONNECTED")
    stubber.add_client_error(
        "update_custom_key_store",
        service_error_code="XksProxyInvalidConfigurationException",
        http_status_code=400,
    )
    with pytest.raises(client.exceptions.XksProxyInvalidConfigurationException):
        resource.update(STORE, olds, news)


def test_new_store_id_replaces() -> None:
    diff = plan_update(
        {**props(), "connectionState": "CONNECTED"}, props(customKeyStoreId="cks-0000000000000000a")
    )
    assert diff.replaces == ["customKeyStoreId"]


def test_refresh_of_a_store_deleted_outside_pulumi_drops_it(kms: tuple[Any, Stubber], provider: Any) -> None:
    _, stubber = kms
    resource, _ = provider
    stubber.add_client_error(
        "describe_custom_key_stores",
        service_error_code="CustomKeyStoreNotFoundException",
        http_status_code=400,
    )
    assert resource.read(STORE, props()).id is None


def test_delete_leaves_the_retained_store_connected(kms: tuple[Any, Stubber], provider: Any) -> None:
    """No KMS call at all: the Stubber would fail on a DisconnectCustomKeyStore."""
    resource, _ = provider
    resource.delete(STORE, {**props(), "connectionState": "CONNECTED"})


def test_connect_failure_names_the_error_code(kms: tuple[Any, Stubber], provider: Any) -> None:
    _, stubber = kms
    resource, _ = provider
    expect_describe(stubber, "DISCONNECTED")
    stubber.add_response("connect_custom_key_store", {}, {"CustomKeyStoreId": STORE})
    stubber.add_response(
        "describe_custom_key_stores",
        {
            "CustomKeyStores": [
                {**described("FAILED")["CustomKeyStores"][0], "ConnectionErrorCode": "XKS_PROXY_TIMED_OUT"}
            ]
        },
        {"CustomKeyStoreId": STORE},
    )
    with pytest.raises(KeyStoreConnectionError, match="XKS_PROXY_TIMED_OUT"):
        resource.create(props())
