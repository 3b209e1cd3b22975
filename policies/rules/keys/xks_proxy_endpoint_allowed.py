"""BK-KEY-002: every custom key store is an XKS store reached over HTTPS at an allowed French endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from facts import xks
from facts.tokens import CUSTOM_KEY_STORE
from policies.model import Resource, Stack, is_known
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig


def problems(store: Resource, config: PolicyConfig) -> list[str]:
    get = store.get
    found: list[str] = []
    store_type = get("customKeyStoreType", default="AWS_CLOUDHSM")
    if store_type != "EXTERNAL_KEY_STORE":
        return [f"custom key store type is {store_type}, not EXTERNAL_KEY_STORE"]
    endpoint = get("xksProxyUriEndpoint")
    if isinstance(endpoint, str) and is_known(endpoint):
        parts = urlsplit(endpoint)
        if parts.scheme != "https":
            found.append(f"xksProxyUriEndpoint {endpoint} does not use https")
        host = parts.hostname or ""
        if not config.endpoint_host_allowed(host):
            found.append(
                f"proxy host {host or endpoint!r} is not on the allow-list of French-hosted endpoints "
                f"({', '.join(config.xks_endpoint_hosts)})"
            )
        if parts.port not in (None, 443):
            found.append(f"xksProxyUriEndpoint uses port {parts.port}; AWS KMS reaches XKS proxies on 443")
        if parts.path not in ("", "/") or parts.query:
            found.append("xksProxyUriEndpoint must be scheme and host only; the path goes in xksProxyUriPath")
    elif not endpoint:
        found.append("no xksProxyUriEndpoint")
    path = get("xksProxyUriPath")
    if isinstance(path, str) and is_known(path) and not xks.URI_PATH.match(path):
        found.append(f"xksProxyUriPath {path!r} does not end in /kms/xks/v<version>")
    elif not path:
        found.append("no xksProxyUriPath")
    connectivity = get("xksProxyConnectivity")
    if connectivity not in xks.CONNECTIVITY and is_known(connectivity):
        found.append(f"xksProxyConnectivity is {connectivity!r}, not one of {', '.join(xks.CONNECTIVITY)}")
    if connectivity == "VPC_ENDPOINT_SERVICE" and not get("xksProxyVpcEndpointServiceName"):
        found.append("VPC_ENDPOINT_SERVICE connectivity needs xksProxyVpcEndpointServiceName")
    if not get("xksProxyAuthenticationCredential"):
        found.append("no xksProxyAuthenticationCredential")
    return found


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    for store in stack.of_type(CUSTOM_KEY_STORE):
        for problem in problems(store, config):
            yield Violation(problem, store)


RULE = Rule(
    id="BK-KEY-002",
    title="Every custom key store is an external key store reached over HTTPS at an allowed French endpoint",
    severity="critical",
    mandatory=True,
    regulations=("AWS-XKS", "SNC-3.2-19", "CNIL-SCHREMS-II"),
    remediation=(
        "Set customKeyStoreType EXTERNAL_KEY_STORE, xksProxyUriEndpoint https://<host on the allow-list> (no "
        "port other than 443, no path), xksProxyUriPath ending in /kms/xks/v1, xksProxyConnectivity "
        "PUBLIC_ENDPOINT or VPC_ENDPOINT_SERVICE (with the service name), and the proxy credential as a secret."
    ),
    rationale="The proxy endpoint is where the keys live: it must be the French key store host, over TLS.",
    check=check,
    scope="resource",
    providers=("aws",),
)
