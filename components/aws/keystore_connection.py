"""Connects an AWS KMS external key store and waits until it is CONNECTED.

pulumi-aws creates a custom key store but leaves it DISCONNECTED, and AWS KMS refuses to create a
key in a store that is not CONNECTED. This dynamic provider closes the gap: it calls
ConnectCustomKeyStore, polls DescribeCustomKeyStores until the store is CONNECTED, and when AWS
reports FAILED it stops with the ConnectionErrorCode and what the operator should do about it.
On delete it disconnects the store, which AWS requires before the store itself can be deleted.

The logic is plain functions over a KMS client so it can be tested with botocore's Stubber.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider

#: What each ConnectionErrorCode (AWS KMS API reference, CustomKeyStoresListEntry) means for the operator.
CONNECTION_ERROR_ADVICE: dict[str, str] = {
    "XKS_PROXY_NOT_REACHABLE": (
        "AWS KMS cannot reach the XKS proxy: check that its DNS name resolves publicly, that port 443 "
        "is open to AWS, and that the proxy and its load balancer are running."
    ),
    "XKS_PROXY_INVALID_AUTHENTICATION_CREDENTIAL": (
        "The proxy rejected the SigV4 credential: set booking:xksAccessKeyId and booking:xksSecretAccessKey "
        "(as secrets) to a credential the proxy's logical key store accepts, then run `pulumi up` again."
    ),
    "XKS_PROXY_INVALID_CONFIGURATION": (
        "The proxy's answer does not match the key store (usually the URI path): check booking:xks.uriPath "
        "against the path prefix configured on the proxy."
    ),
    "XKS_PROXY_INVALID_RESPONSE": (
        "The proxy answered with something that is not the XKS API: check that the endpoint really is an "
        "XKS proxy implementing API v1, and its logs."
    ),
    "XKS_PROXY_INVALID_TLS_CONFIGURATION": (
        "TLS with the proxy failed: its certificate must be issued by a public CA trusted by AWS for the "
        "endpoint's exact name, with the full chain served, TLS 1.2 or later."
    ),
    "XKS_PROXY_TIMED_OUT": (
        "The proxy answered too slowly (AWS KMS waits at most 250 ms): check the HSM latency and the "
        "proxy's load."
    ),
    "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND": (
        "The VPC endpoint service named in booking:xks.vpcEndpointServiceName does not exist in this region."
    ),
    "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION": (
        "The VPC endpoint service must allow the KMS service principal, have private DNS verified for the "
        "proxy's name, and span at least two Availability Zones."
    ),
    "XKS_VPC_ENDPOINT_SERVICE_INVALID_PRIVATE_DNS": "Verify the VPC endpoint service's private DNS name.",
    "INVALID_CREDENTIALS": "The key store's credential is invalid: update it and connect again.",
    "NETWORK_ERRORS": "A network error prevented the connection: check the proxy's reachability and retry.",
    "INTERNAL_ERROR": "AWS KMS reported an internal error: retry later.",
    "USER_LOGGED_IN": "A CloudHSM user is logged in: log out (CloudHSM key stores only).",
}

DEFAULT_POLL_SECONDS = 15.0


class KeyStoreConnectionError(RuntimeError):
    """The key store did not reach CONNECTED; the message says why and what to do."""


@dataclass(frozen=True)
class ConnectionOutcome:
    state: str
    waited_seconds: float


def _describe(client: Any, store_id: str) -> dict[str, Any]:
    stores = client.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"]
    if not stores:
        raise KeyStoreConnectionError(f"custom key store {store_id} not found")
    store: dict[str, Any] = stores[0]
    return store


def _failure(store_id: str, store: dict[str, Any]) -> KeyStoreConnectionError:
    code = store.get("ConnectionErrorCode", "UNKNOWN")
    advice = CONNECTION_ERROR_ADVICE.get(code, "See ConnectionErrorCode in the AWS KMS API reference.")
    return KeyStoreConnectionError(f"custom key store {store_id} failed to connect: {code}. {advice}")


def connect_and_wait(
    client: Any,
    store_id: str,
    timeout_seconds: float,
    *,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ConnectionOutcome:
    """Connects ``store_id`` if needed and waits for CONNECTED; raises KeyStoreConnectionError otherwise."""
    start = clock()

    def wait_while(states: set[str]) -> dict[str, Any]:
        while True:
            store = _describe(client, store_id)
            if store["ConnectionState"] not in states:
                return store
            elapsed = clock() - start
            if elapsed >= timeout_seconds:
                raise KeyStoreConnectionError(
                    f"custom key store {store_id} still {store['ConnectionState']} after {elapsed:.0f} s "
                    f"(timeout {timeout_seconds:.0f} s, booking:xks.connectTimeoutSeconds). Connecting "
                    "an external key store usually takes a few minutes; check the proxy's health, "
                    "then run `pulumi up` again."
                )
            sleep(min(poll_seconds, max(timeout_seconds - elapsed, 0.0)))

    store = _describe(client, store_id)
    if store["ConnectionState"] == "CONNECTED":
        return ConnectionOutcome("CONNECTED", 0.0)
    if store["ConnectionState"] == "DISCONNECTING":
        # AWS refuses ConnectCustomKeyStore while a disconnection is in progress.
        store = wait_while({"DISCONNECTING"})
    if store["ConnectionState"] in ("DISCONNECTED", "FAILED"):
        # A FAILED store must be connected again: AWS keeps it FAILED until the next attempt.
        client.connect_custom_key_store(CustomKeyStoreId=store_id)
    store = wait_while({"CONNECTING", "DISCONNECTED"})
    if store["ConnectionState"] == "CONNECTED":
        return ConnectionOutcome("CONNECTED", clock() - start)
    raise _failure(store_id, store)


def disconnect(client: Any, store_id: str) -> None:
    """Disconnects the store (idempotent): AWS deletes a custom key store only when disconnected."""
    try:
        store = _describe(client, store_id)
    except KeyStoreConnectionError:
        return  # already gone
    if store["ConnectionState"] in ("CONNECTED", "CONNECTING", "FAILED"):
        client.disconnect_custom_key_store(CustomKeyStoreId=store_id)


def _kms_client(region: str) -> Any:
    import boto3  # imported here: the provider is serialised with the program and runs in the engine

    return boto3.client("kms", region_name=region)


class KeyStoreConnectionProvider(ResourceProvider):
    """Dynamic provider: create = connect and wait; delete = disconnect."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        store_id = str(props["customKeyStoreId"])
        outcome = connect_and_wait(
            _kms_client(str(props["region"])), store_id, float(props["timeoutSeconds"])
        )
        return CreateResult(id_=store_id, outs={**props, "connectionState": outcome.state})

    def delete(self, id: str, props: dict[str, Any]) -> None:
        disconnect(_kms_client(str(props["region"])), id)


@dataclass(frozen=True)
class KeyStoreConnectionArgs:
    """Inputs of a KeyStoreConnection."""

    #: The id of the aws.kms.CustomKeyStore to connect.
    custom_key_store_id: pulumi.Input[str]
    #: The region of the key store (the stack's region).
    region: str
    #: How long to wait for CONNECTED before failing the deployment.
    timeout_seconds: int = 1200


class KeyStoreConnection(Resource):
    """A connected external key store. KMS keys in the store must depend on this resource."""

    connection_state: pulumi.Output[str]

    def __init__(
        self, name: str, args: KeyStoreConnectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(
            KeyStoreConnectionProvider(),
            name,
            {
                "customKeyStoreId": args.custom_key_store_id,
                "region": args.region,
                "timeoutSeconds": args.timeout_seconds,
                "connectionState": None,
            },
            opts,
        )
