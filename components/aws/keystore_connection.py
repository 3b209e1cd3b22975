"""Keeps an AWS KMS external key store CONNECTED, across its whole life in a stack.

pulumi-aws creates a custom key store but leaves it DISCONNECTED, and AWS KMS refuses to create a
key in a store that is not CONNECTED. This dynamic provider closes the gap and owns what needs the
store's connection state:

* create: ConnectCustomKeyStore, then DescribeCustomKeyStores until CONNECTED (FAILED stops with the
  ConnectionErrorCode and what to do about it);
* read (``pulumi refresh``): reports the live ConnectionState and proxy settings, so a store
  disconnected outside Pulumi shows as a change and the next ``pulumi up`` reconnects it;
* diff: a new store id or region replaces; a new endpoint, connectivity or VPC endpoint service
  needs disconnect -> UpdateCustomKeyStore -> connect (AWS refuses those changes while CONNECTED, so
  the stack's CustomKeyStore ignores them and this resource applies them); a store not CONNECTED
  needs a connect; a new timeout changes nothing in AWS;
* update: does exactly that; returns every output, so a later delete still knows its region;
* delete: leaves the store connected. The stack retains its keys and store on destroy (backups
  stay decryptable); disconnecting is step 1 of decommissioning (scripts/decommission_aws.py).

The KMS client is built from the same region and profile as the stack's explicit provider. The
logic is plain functions over a client so it is tested with botocore's Stubber.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from facts import aws as aws_facts

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

#: Store properties AWS changes only while the store is DISCONNECTED, by this resource's input name,
#: with the UpdateCustomKeyStore parameter each maps to (data/facts/aws.yaml key_store_update).
DISCONNECT_TO_CHANGE: dict[str, str] = {
    row.input: row.api for row in aws_facts.load().key_store_update.disconnect_to_change
}
#: Inputs whose change means another store: the resource is replaced.
REPLACE_ON_CHANGE = ("customKeyStoreId", "region")


class KeyStoreConnectionError(RuntimeError):
    """The key store did not reach CONNECTED; the message says why and what to do."""


@dataclass(frozen=True)
class ConnectionOutcome:
    state: str
    waited_seconds: float


def _describe(client: Any, store_id: str) -> dict[str, Any]:
    try:
        stores = client.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"]
    except client.exceptions.CustomKeyStoreNotFoundException:
        stores = []
    if not stores:
        raise KeyStoreConnectionError(f"custom key store {store_id} not found")
    store: dict[str, Any] = stores[0]
    return store


def _failure(store_id: str, store: dict[str, Any]) -> KeyStoreConnectionError:
    code = store.get("ConnectionErrorCode", "UNKNOWN")
    advice = CONNECTION_ERROR_ADVICE.get(code, "See ConnectionErrorCode in the AWS KMS API reference.")
    return KeyStoreConnectionError(f"custom key store {store_id} failed to connect: {code}. {advice}")


class _Waiter:
    def __init__(
        self,
        client: Any,
        store_id: str,
        *,
        timeout_seconds: float,
        poll_seconds: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.client, self.store_id, self.timeout = client, store_id, timeout_seconds
        self.poll, self.sleep, self.clock = poll_seconds, sleep, clock
        self.start = clock()

    def elapsed(self) -> float:
        return self.clock() - self.start

    def wait_while(self, states: set[str]) -> dict[str, Any]:
        while True:
            store = _describe(self.client, self.store_id)
            if store["ConnectionState"] not in states:
                return store
            elapsed = self.elapsed()
            if elapsed >= self.timeout:
                raise KeyStoreConnectionError(
                    f"custom key store {self.store_id} still {store['ConnectionState']} after {elapsed:.0f} s "
                    f"(timeout {self.timeout:.0f} s, booking:xks.connectTimeoutSeconds). Connecting "
                    "an external key store usually takes a few minutes; check the proxy's health, "
                    "then run `pulumi up` again."
                )
            self.sleep(min(self.poll, max(self.timeout - elapsed, 0.0)))


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
    waiter = _Waiter(
        client, store_id, timeout_seconds=timeout_seconds, poll_seconds=poll_seconds, sleep=sleep, clock=clock
    )
    store = _describe(client, store_id)
    if store["ConnectionState"] == "CONNECTED":
        return ConnectionOutcome("CONNECTED", 0.0)
    if store["ConnectionState"] == "DISCONNECTING":
        # AWS refuses ConnectCustomKeyStore while a disconnection is in progress.
        store = waiter.wait_while({"DISCONNECTING"})
    if store["ConnectionState"] in ("DISCONNECTED", "FAILED"):
        # A FAILED store must be connected again: AWS keeps it FAILED until the next attempt.
        client.connect_custom_key_store(CustomKeyStoreId=store_id)
    store = waiter.wait_while({"CONNECTING", "DISCONNECTED"})
    if store["ConnectionState"] == "CONNECTED":
        return ConnectionOutcome("CONNECTED", waiter.elapsed())
    raise _failure(store_id, store)


def disconnect(client: Any, store_id: str) -> None:
    """Disconnects the store (idempotent): AWS deletes a custom key store only when disconnected."""
    try:
        store = _describe(client, store_id)
    except KeyStoreConnectionError:
        return  # already gone
    if store["ConnectionState"] in ("CONNECTED", "CONNECTING", "FAILED"):
        client.disconnect_custom_key_store(CustomKeyStoreId=store_id)


def disconnect_and_wait(
    client: Any,
    store_id: str,
    timeout_seconds: float,
    *,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Disconnects the store and waits for DISCONNECTED (UpdateCustomKeyStore needs it for some fields)."""
    waiter = _Waiter(
        client, store_id, timeout_seconds=timeout_seconds, poll_seconds=poll_seconds, sleep=sleep, clock=clock
    )
    disconnect(client, store_id)
    store = waiter.wait_while({"CONNECTED", "CONNECTING", "DISCONNECTING"})
    if store["ConnectionState"] != "DISCONNECTED":
        raise KeyStoreConnectionError(
            f"custom key store {store_id} is {store['ConnectionState']}, not DISCONNECTED, after disconnecting"
        )


def live_properties(client: Any, store_id: str) -> dict[str, Any]:
    """The store's live connection state and the proxy settings this resource owns."""
    store = _describe(client, store_id)
    proxy = store.get("XksProxyConfiguration", {})
    return {
        "connectionState": store["ConnectionState"],
        "uriEndpoint": proxy.get("UriEndpoint"),
        "connectivity": proxy.get("Connectivity"),
        "vpcEndpointServiceName": proxy.get("VpcEndpointServiceName"),
    }


def _changed(olds: dict[str, Any], news: dict[str, Any], keys: tuple[str, ...] | list[str]) -> list[str]:
    return [k for k in keys if olds.get(k) != news.get(k)]


def plan_update(olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
    """What changing ``olds`` (state, refreshed or not) into ``news`` (inputs) needs; see the module doc."""
    replaces = _changed(olds, news, REPLACE_ON_CHANGE)
    reconfigure = _changed(olds, news, list(DISCONNECT_TO_CHANGE))
    not_connected = olds.get("connectionState") != "CONNECTED"
    other = _changed(olds, news, ("timeoutSeconds", "profile"))
    changes = bool(replaces or reconfigure or not_connected or other)
    return DiffResult(changes=changes, replaces=replaces, delete_before_replace=False)


class KeyStoreConnectionProvider(ResourceProvider):
    """Dynamic provider: see the module docstring for what each operation does."""

    def __init__(
        self,
        client_factory: Callable[[str, str | None], Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client_factory = client_factory
        self.sleep = sleep

    def _client(self, props: dict[str, Any]) -> Any:
        factory = self.client_factory or _kms_client
        return factory(str(props["region"]), props.get("profile") or None)

    def _outs(self, props: dict[str, Any], client: Any, store_id: str) -> dict[str, Any]:
        return {**props, **live_properties(client, store_id)}

    def create(self, props: dict[str, Any]) -> CreateResult:
        store_id = str(props["customKeyStoreId"])
        client = self._client(props)
        connect_and_wait(client, store_id, float(props["timeoutSeconds"]), sleep=self.sleep)
        return CreateResult(id_=store_id, outs=self._outs(props, client, store_id))

    def read(self, id: str, props: dict[str, Any]) -> ReadResult:
        client = self._client(props)
        try:
            live = live_properties(client, id)
        except KeyStoreConnectionError:
            return ReadResult(id_=None, outs={})  # deleted outside Pulumi: gone from the state
        return ReadResult(id_=id, outs={**props, **live})

    def diff(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        del id
        return plan_update(olds, news)

    def update(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = self._client(news)
        timeout = float(news["timeoutSeconds"])
        reconfigure = _changed(olds, news, list(DISCONNECT_TO_CHANGE))
        if reconfigure:
            disconnect_and_wait(client, id, timeout, sleep=self.sleep)
            client.update_custom_key_store(
                CustomKeyStoreId=id,
                **{DISCONNECT_TO_CHANGE[k]: news[k] for k in reconfigure if news.get(k) is not None},
            )
        connect_and_wait(client, id, timeout, sleep=self.sleep)
        return UpdateResult(outs=self._outs(news, client, id))

    def delete(self, id: str, props: dict[str, Any]) -> None:
        """Leaves the store connected: its keys are retained and still protect data and backups."""
        del id, props


def _kms_client(region: str, profile: str | None) -> Any:
    import boto3  # imported here: the provider is serialised with the program and runs in the engine

    return boto3.session.Session(profile_name=profile, region_name=region).client("kms")


@dataclass(frozen=True)
class KeyStoreConnectionArgs:
    """Inputs of a KeyStoreConnection."""

    #: The id of the aws.kms.CustomKeyStore to connect.
    custom_key_store_id: pulumi.Input[str]
    #: The region of the key store: the stack's explicit provider's region.
    region: str
    #: Where AWS KMS reaches the proxy (applied here, store disconnected, when they change).
    uri_endpoint: str
    connectivity: str
    vpc_endpoint_service_name: str | None = None
    #: The AWS profile of the stack's explicit provider (aws:profile), None for the default chain.
    profile: str | None = None
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
                "uriEndpoint": args.uri_endpoint,
                "connectivity": args.connectivity,
                "vpcEndpointServiceName": args.vpc_endpoint_service_name,
                "profile": args.profile,
                "timeoutSeconds": args.timeout_seconds,
                "connectionState": None,
            },
            opts,
        )
