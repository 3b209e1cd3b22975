"""BK-EXP-003: no security group opens anything but HTTP(S) to the Internet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.model import Resource, Stack
from policies.rules import Rule, Violation
from policies.rules._helpers import as_list
from policies.settings import PolicyConfig

_OPEN = ("0.0.0.0/0", "::/0")
#: The only ports the edge may open to the world: HTTPS, and HTTP for the redirect to HTTPS.
_EDGE_PORTS = {80, 443}


def _ports(rule: dict[str, Any]) -> set[int] | None:
    """The ports a rule opens; None for all (protocol -1 or a range too wide to list)."""
    if str(rule.get("protocol", rule.get("ipProtocol", ""))) in ("-1", "all"):
        return None
    low, high = rule.get("fromPort"), rule.get("toPort")
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)):
        return None
    if high - low > 1024:
        return None
    return set(range(int(low), int(high) + 1))


def _gcp_ports(allow: dict[str, Any]) -> set[int] | None:
    """Ports a GCP firewall ``allow`` block opens; None for all protocols or ports."""
    if str(allow.get("protocol")) in ("all", "-1"):
        return None
    ports: set[int] = set()
    for entry in as_list(allow.get("ports")):
        low, _, high = str(entry).partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            return None
        if int(high or low) - int(low) > 1024:
            return None
        ports |= set(range(int(low), int(high or low) + 1))
    return ports or None


def _open_beyond_edge(rule: dict[str, Any]) -> str | None:
    sources = [*as_list(rule.get("cidrBlocks")), *as_list(rule.get("ipv6CidrBlocks"))]
    sources += [v for v in (rule.get("cidrIpv4"), rule.get("cidrIpv6")) if v]
    opened = [s for s in sources if s in _OPEN]
    if not opened:
        return None
    ports = _ports(rule)
    if ports is None or not ports <= _EDGE_PORTS:
        shown = "all ports" if ports is None else f"ports {min(ports)}-{max(ports)}"
        return f"ingress from {opened[0]} on {shown}"
    return None


def _ingress_rules(resource: Resource) -> list[dict[str, Any]]:
    if resource.type == "aws:ec2/securityGroup:SecurityGroup":
        return [r for r in as_list(resource.get("ingress")) if isinstance(r, dict)]
    if resource.type == "aws:ec2/securityGroupRule:SecurityGroupRule" and resource.get("type") == "ingress":
        return [dict(resource.properties)]
    if resource.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        return [dict(resource.properties)]
    return []


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for resource in stack.of_type(
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    ):
        for rule in _ingress_rules(resource):
            problem = _open_beyond_edge(rule)
            if problem:
                yield Violation(problem, resource)
    for firewall in stack.of_type("gcp:compute/firewall:Firewall"):
        # Deny rules close; an allow rule from the Internet opens (S3NS / Google Cloud technology).
        if firewall.get("direction", default="INGRESS") != "INGRESS" or not firewall.get("allows"):
            continue
        opened = [s for s in as_list(firewall.get("sourceRanges")) if s in _OPEN]
        for allow in as_list(firewall.get("allows")):
            if not opened or not isinstance(allow, dict):
                continue
            ports = _gcp_ports(allow)
            if ports is None or not ports <= _EDGE_PORTS:
                yield Violation(f"firewall allows ingress from {opened[0]} beyond ports 80/443", firewall)
    for group in stack.of_type("scaleway:instance/securityGroup:SecurityGroup"):
        if group.get("inboundDefaultPolicy", default="accept") == "accept":
            yield Violation("inboundDefaultPolicy is accept: every port is open to the Internet", group)


RULE = Rule(
    id="BK-EXP-003",
    title="No security group opens more than HTTP(S) to the Internet",
    severity="critical",
    mandatory=True,
    regulations=("HDS-2024",),
    remediation=(
        "Admit 0.0.0.0/0 and ::/0 only on ports 80 and 443 of the load balancer; give data tiers ingress "
        "only from the application's security group."
    ),
    rationale="Data tiers reached from the Internet bypass the edge's TLS and authentication.",
    check=check,
    scope="resource",
)
