"""BK-LIVE-001: every custom key store is connected to its proxy."""

from __future__ import annotations

from collections.abc import Iterator

from facts.tokens import CUSTOM_KEY_STORE
from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for store in stack.of_type(CUSTOM_KEY_STORE):
        state = store.get("connectionState")
        if state is None or state == "CONNECTED":
            continue  # no live state (preview, export) or connected
        code = store.get("connectionErrorCode")
        detail = f" (ConnectionErrorCode {code})" if code else ""
        yield Violation(
            f"connection state is {state}{detail}: AWS KMS cannot use the keys of this store", store
        )


RULE = Rule(
    id="BK-LIVE-001",
    title="Every custom key store is connected to its external key store proxy",
    severity="high",
    mandatory=True,
    regulations=("AWS-XKS", "HDS-2024"),
    remediation=(
        "Find the cause from the ConnectionErrorCode (AWS KMS Developer Guide, 'Troubleshooting external key "
        "stores'): XKS_PROXY_NOT_REACHABLE / XKS_PROXY_TIMED_OUT (network, TLS), INVALID_CREDENTIALS "
        "(rotate the "
        "proxy credential in KMS and the proxy), XKS_PROXY_INVALID_RESPONSE; then ConnectCustomKeyStore. A "
        "deliberate disconnection (the kill switch) is recorded as an exception with its owner."
    ),
    rationale=(
        "A disconnected store is either the kill switch pulled on purpose or a failure: every data store "
        "under its keys becomes unreadable; an auditor must know which."
    ),
    check=check,
    scope="resource",
    providers=("aws",),
)
