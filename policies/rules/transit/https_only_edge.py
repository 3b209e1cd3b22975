"""BK-TLS-001: the edge serves HTTPS only, with a TLS 1.2+ policy; plain HTTP only redirects to HTTPS."""

from __future__ import annotations

from collections.abc import Iterator

from policies.model import Resource, Stack
from policies.rules import Rule, Violation
from policies.rules._helpers import as_list
from policies.settings import PolicyConfig

LISTENERS = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
SCALEWAY_CONTAINERS = ("scaleway:containers/container:Container",)
SCALEWAY_FRONTENDS = ("scaleway:loadbalancers/frontend:Frontend",)
SCALEWAY_BACKENDS = ("scaleway:loadbalancers/backend:Backend",)
#: Paths a plain-HTTP health frontend may expose (nothing of the data ever goes there).
HEALTH_PATHS = ("/healthz",)


def _redirects_to_https(listener: Resource) -> bool:
    actions = [a for a in as_list(listener.get("defaultActions")) if isinstance(a, dict)]
    if not actions:
        return False
    for action in actions:
        redirect = action.get("redirect")
        redirect = redirect[0] if isinstance(redirect, list) and redirect else redirect
        if action.get("type") != "redirect" or not isinstance(redirect, dict):
            return False
        if redirect.get("protocol") != "HTTPS":
            return False
    return True


def _frontend_redirects_all(frontend: Resource) -> bool:
    for acl in as_list(frontend.get("acls")):
        if not isinstance(acl, dict):
            continue
        action = acl.get("action") or {}
        subnets = as_list((acl.get("match") or {}).get("ipSubnets"))
        redirects = [r for r in as_list(action.get("redirects")) if isinstance(r, dict)]
        if (
            action.get("type") == "redirect"
            and "0.0.0.0/0" in subnets
            and any(r.get("type") == "scheme" and r.get("target") == "https" for r in redirects)
        ):
            return True
    return False


def _tls_passthrough(frontend: Resource, stack: Stack) -> bool:
    """Port 443 passed as raw TCP to targets on 443: TLS is terminated by the target itself (the XKS
    proxy does so to keep mutual TLS with AWS KMS possible), so the edge never sees plaintext."""
    if frontend.get("inboundPort") != 443:
        return False
    backends = [b for b in stack.of_type(*SCALEWAY_BACKENDS) if b.urn in frontend.dependencies]
    return bool(backends) and all(
        b.get("forwardProtocol") == "tcp" and b.get("forwardPort") == 443 for b in backends
    )


def _health_only(frontend: Resource) -> bool:
    """Plain HTTP that can only reach a health path: every other path is denied by an inverted ACL.
    The key store's DNS failover checks /healthz this way (its 443 demands AWS KMS's client certificate)."""
    for acl in as_list(frontend.get("acls")):
        if not isinstance(acl, dict):
            continue
        match = acl.get("match") or {}
        values = as_list(match.get("httpFilterValues"))
        if (
            (acl.get("action") or {}).get("type") == "deny"
            and match.get("httpFilter") == "path_begin"
            and match.get("invert") is True
            and values
            and all(v in HEALTH_PATHS for v in values)
        ):
            return True
    return False


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    for listener in stack.of_type(*LISTENERS):
        protocol = listener.get("protocol", default="HTTP")
        if protocol in ("HTTPS", "TLS"):
            policy = listener.get("sslPolicy")
            if policy not in config.tls_policies:
                yield Violation(
                    f"sslPolicy {policy!r} allows TLS versions below 1.2 or is not on the list", listener
                )
            if not listener.get("certificateArn"):
                yield Violation("the TLS listener has no certificate", listener)
        elif protocol == "HTTP":
            if not _redirects_to_https(listener):
                yield Violation("an HTTP listener serves content instead of redirecting to HTTPS", listener)
        else:
            yield Violation(f"listener protocol {protocol} is not encrypted", listener)
    for container in stack.of_type(*SCALEWAY_CONTAINERS):
        if container.get("httpOption") != "redirected":
            yield Violation("httpOption is not 'redirected': the container answers plain HTTP", container)
    for frontend in stack.of_type(*SCALEWAY_FRONTENDS):
        # A frontend without a certificate serves HTTP: acceptable only if it redirects everyone to HTTPS.
        if (
            not frontend.get("certificateIds")
            and not _frontend_redirects_all(frontend)
            and not _tls_passthrough(frontend, stack)
            and not _health_only(frontend)
        ):
            yield Violation(
                "a load balancer frontend serves plain HTTP without redirecting to HTTPS", frontend
            )


RULE = Rule(
    id="BK-TLS-001",
    title="The edge serves HTTPS only with a TLS 1.2 or later policy",
    severity="high",
    mandatory=True,
    regulations=("ANSSI-TLS", "HDS-2024"),
    remediation=(
        "Use an HTTPS listener with sslPolicy ELBSecurityPolicy-TLS13-1-2-2021-06 (or another TLS 1.2+ policy "
        "on the allow-list) and make port 80 a redirect to HTTPS (status HTTP_301); on Scaleway set "
        "httpOption=redirected on containers and certificates on load balancer frontends."
    ),
    rationale="Appointment data crosses the Internet; only TLS 1.2+ meets the ANSSI recommendations.",
    check=check,
    # Stack-scoped: whether a certificate-less frontend passes TLS through is told by its backends, which
    # CrossGuard's per-resource Analyze does not show (the key store's 443 frontends failed there).
    scope="stack",
    providers=("aws", "scaleway"),
)
