"""BK-TLS-004: the S3NS edge (Google Cloud technology) serves HTTPS only with a TLS 1.2+ SSL policy;
port 80 only redirects; Cloud Run answers the load balancer only."""

from __future__ import annotations

from collections.abc import Iterator

from facts import s3ns as universe
from policies.model import Resource, Stack, is_known
from policies.rules import Rule, Violation
from policies.settings import PolicyConfig

FORWARDING_RULES = (
    "gcp:compute/forwardingRule:ForwardingRule",
    "gcp:compute/globalForwardingRule:GlobalForwardingRule",
)
HTTPS_PROXIES = (
    "gcp:compute/regionTargetHttpsProxy:RegionTargetHttpsProxy",
    "gcp:compute/targetHttpsProxy:TargetHttpsProxy",
)
HTTP_PROXIES = (
    "gcp:compute/regionTargetHttpProxy:RegionTargetHttpProxy",
    "gcp:compute/targetHttpProxy:TargetHttpProxy",
)
URL_MAPS = ("gcp:compute/regionUrlMap:RegionUrlMap", "gcp:compute/uRLMap:URLMap")
SSL_POLICIES = ("gcp:compute/regionSslPolicy:RegionSslPolicy", "gcp:compute/sSLPolicy:SSLPolicy")
CLOUD_RUN = ("gcp:cloudrunv2/service:Service",)
#: SSL policy minimum versions that negotiate TLS 1.2 or later only.
TLS_MIN_VERSIONS = ("TLS_1_2", "TLS_1_3")
#: The only profile without CBC-SHA suites (data/facts/s3ns.yaml ssl_policy): MODERN still enables them.
TLS_PROFILES = (universe.ssl_policy()["required_profile"],)
#: Cloud Run ingress settings that keep the service off the Internet except through the load balancer.
PRIVATE_INGRESS = ("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", "INGRESS_TRAFFIC_INTERNAL_ONLY")


def _target(stack: Stack, holder: Resource, attribute: str, types: tuple[str, ...]) -> Resource | None:
    """The resource of ``types`` that ``holder.attribute`` names: by id or self link, else, while the value
    is unknown in a preview, by a single dependency."""
    value = holder.get(attribute)
    for type_token in types:
        found = stack.references(value, type_token, ("id", "selfLink", "name"))
        if found:
            return found
    if value is None or value == "" or (isinstance(value, str) and is_known(value)):
        # Unset names nothing (a leftover dependency proves nothing); a known value matched nothing.
        return None
    candidates = [d for t in types for d in stack.dependencies_of(holder, t)]
    return candidates[0] if len(candidates) == 1 else None


def _redirect_only(url_map: Resource) -> bool:
    redirect = url_map.get("defaultUrlRedirect")
    return (
        isinstance(redirect, dict)
        and redirect.get("httpsRedirect") is True
        and not url_map.get("defaultService")
        and not url_map.get("pathMatchers")
    )


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for rule in stack.of_type(*FORWARDING_RULES):
        if rule.get("backendService"):
            yield Violation("a pass-through forwarding rule exposes a backend without a TLS policy", rule)
            continue
        if (proxy := _target(stack, rule, "target", HTTPS_PROXIES)) is not None:
            yield from _https_proxy(stack, proxy)
        elif (proxy := _target(stack, rule, "target", HTTP_PROXIES)) is not None:
            url_map = _target(stack, proxy, "urlMap", URL_MAPS)
            if url_map is None or not _redirect_only(url_map):
                yield Violation(
                    "a plain-HTTP forwarding rule serves content instead of redirecting to HTTPS", rule
                )
        else:
            yield Violation("the forwarding rule's target is not an HTTPS proxy of this stack", rule)
    for service in stack.of_type(*CLOUD_RUN):
        ingress = service.get("ingress", default="INGRESS_TRAFFIC_ALL")
        if ingress not in PRIVATE_INGRESS:
            yield Violation(
                f"ingress {ingress}: the service is reachable without the HTTPS load balancer", service
            )


def _https_proxy(stack: Stack, proxy: Resource) -> Iterator[Violation]:
    if not proxy.get("sslCertificates") and not proxy.get("certificateManagerCertificates"):
        yield Violation("the HTTPS proxy has no certificate", proxy)
    policy = _target(stack, proxy, "sslPolicy", SSL_POLICIES)
    if policy is None:
        yield Violation(
            "the HTTPS proxy has no SSL policy of this stack: the default policy allows TLS 1.0", proxy
        )
        return
    if policy.get("minTlsVersion", default="TLS_1_0") not in TLS_MIN_VERSIONS:
        yield Violation(
            f"SSL policy minTlsVersion {policy.get('minTlsVersion', default='TLS_1_0')} is below TLS 1.2",
            policy,
        )
    if policy.get("profile", default="COMPATIBLE") not in TLS_PROFILES:
        yield Violation(
            f"SSL policy profile {policy.get('profile', default='COMPATIBLE')} allows CBC-SHA cipher suites; "
            f"{TLS_PROFILES[0]} allows AEAD suites only ({universe.cite('ssl_policy')})",
            policy,
        )


RULE = Rule(
    id="BK-TLS-004",
    title="The S3NS edge serves HTTPS only with a TLS 1.2 or later SSL policy",
    severity="high",
    mandatory=True,
    regulations=("ANSSI-TLS", "HDS-2024"),
    remediation=(
        "Put an HTTPS proxy with a certificate and an SSL policy of profile RESTRICTED and minimum "
        "TLS_1_2 behind every forwarding rule; give port 80 a URL map that only redirects to HTTPS; set Cloud "
        "Run ingress to INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER."
    ),
    rationale="Appointment data crosses the Internet; only TLS 1.2+ meets the ANSSI recommendations.",
    check=check,
    # A forwarding rule is judged with its proxy, URL map and SSL policy: the whole stack is needed.
    scope="stack",
)
