"""BK-KEY-004: the French key store's proxies front a hardware HSM, not a software token."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig

SERVERS = ("scaleway:instance/server:Server",)
#: components/keystore tags each proxy instance with the HSM kind it is configured for.
SOFTWARE_HSM_TAG = "hsm-kind=softhsm"


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    for server in stack.of_type(*SERVERS):
        tags = server.get("tags", default=[])
        if isinstance(tags, list) and SOFTWARE_HSM_TAG in tags:
            yield Violation(
                "the XKS proxy is configured for a software HSM (SoftHSM): the key material sits on the "
                "instance's disk, not in tamper-resistant hardware",
                server,
            )


RULE = Rule(
    id="BK-KEY-004",
    title="The external key store's proxies use a hardware HSM",
    severity="high",
    # Advisory: a software token is right for tests and pilots, and only there.
    mandatory=False,
    regulations=("SNC-3.2-19", "AWS-XKS"),
    remediation=(
        "Set booking:keystore.hsmKind to network-hsm with the HSM vendor's PKCS#11 module (hsmModule) and client "
        "packages; keep SoftHSM for tests and pilots."
    ),
    rationale="An XKS protects data at rest only as well as the HSM that holds its keys.",
    check=check,
    scope="resource",
    providers=("scaleway",),  # the key store host runs on Scaleway instances
)
