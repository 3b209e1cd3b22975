"""BK-LIVE-003: every external key store proxy answers its health check."""

from __future__ import annotations

from collections.abc import Iterator

from facts.tokens import CUSTOM_KEY_STORE
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for store in stack.of_type(CUSTOM_KEY_STORE):
        health = store.get("proxyHealth")
        if health is None:
            continue  # checked only when verify is given the proxy credential
        if health.get("status") != "ok":
            yield Violation(f"the XKS proxy health check failed: {health.get('detail', 'no detail')}", store)


RULE = Rule(
    id="BK-LIVE-003",
    title="Every external key store proxy answers a signed health check",
    severity="high",
    mandatory=True,
    regulations=("AWS-XKS",),
    remediation=(
        "Check the proxy host, its TLS certificate and the HSM behind it (scripts/xks_check.py runs the full "
        "acceptance check); the health response lists each HSM's state."
    ),
    rationale=(
        "The proxy is the only path to the keys: a failing proxy is an outage before it is a disconnection."
    ),
    check=check,
    scope="resource",
    providers=("aws",),
)
