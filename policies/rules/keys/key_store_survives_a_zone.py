"""BK-KEY-007: the key store's edge (load balancers, egress gateways, HSM tunnels) is in every zone of its proxies."""

from __future__ import annotations

from collections.abc import Iterator

from facts.scaleway import hsm_path_types, zonal_types
from policies.model import Resource, Stack
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig

SERVER = "scaleway:instance/server:Server"
#: components/keystore tags everything of the key store host with it.
KEY_STORE_TAG = "xks-proxy"
#: Zonal parts each zone of the fleet needs, by what they do.
EDGE: dict[str, str] = {
    "scaleway:loadbalancers/loadBalancer:LoadBalancer": "load balancer (ingress from AWS KMS)",
    "scaleway:network/publicGateway:PublicGateway": "Public Gateway (egress to Secret Manager, updates)",
    "scaleway:s2svpn/gateway:Gateway": "VPN gateway (the path to the HSM)",
}


def _of_key_store(resource: Resource) -> bool:
    tags = resource.get("tags", default=[])
    return isinstance(tags, list) and KEY_STORE_TAG in tags


def _zone(resource: Resource) -> str | None:
    zone = resource.get("zone")
    return zone if isinstance(zone, str) and zone else None


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    servers = [s for s in stack.of_type(SERVER) if _of_key_store(s)]
    if not servers:
        return
    zonal = set(zonal_types())
    unknown = [s for s in servers if _zone(s) is None]
    for server in unknown:
        yield Violation(
            "the proxy's zone cannot be read: whether a zone's loss spares it cannot be judged", server
        )
    fleet = sorted({z for s in servers if (z := _zone(s))})
    if len(fleet) < 2:
        yield Violation(
            f"every proxy is in {fleet or 'an unknown zone'}: losing it loses the key store", None
        )
    uses_hsm_path = any(stack.of_type(t) for t in hsm_path_types())
    for type_token, role in EDGE.items():
        if type_token not in zonal:
            continue  # only zonal products must be repeated per zone (data/facts/scaleway.yaml)
        if type_token.startswith("scaleway:s2svpn/") and not uses_hsm_path:
            continue  # no network HSM path in this stack (a software HSM pilot)
        parts = [
            r
            for r in stack.of_type(type_token)
            if _of_key_store(r) or type_token.startswith("scaleway:s2svpn/")
        ]
        covered = {z for r in parts if (z := _zone(r))}
        for part in parts:
            if _zone(part) is None:
                yield Violation(f"the {role}'s zone cannot be read", part)
        missing = [z for z in fleet if z not in covered]
        if missing:
            yield Violation(
                f"no {role} in zone(s) {missing}, where proxies run: the loss of "
                f"{', '.join(sorted(covered)) or 'the zone holding it'} takes it from every proxy",
                None,
            )


RULE = Rule(
    id="BK-KEY-007",
    title="The key store's edge is in every zone of its proxies",
    severity="high",
    mandatory=True,
    regulations=("AWS-XKS", "SCW-DOCS"),
    remediation=(
        "Give each zone of booking:keystore.zones its own load balancer, Public Gateway and VPN gateway "
        "(components/keystore does), with DNS failover over the balancers."
    ),
    rationale=(
        "Load balancers, Public Gateways and VPN gateways are zonal at Scaleway: a fleet in two zones behind "
        "one zone's edge stops with that zone, and AWS KMS then cannot decrypt anything."
    ),
    check=check,
    scope="stack",
)
