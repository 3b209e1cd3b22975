"""Mutants of Scaleway's documented constraints (data/facts/scaleway.yaml), on Option B and the key store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.policies.policy_mutants import Document, Mutant, _add, _drop, _named, _set, first, property_maps

SCW = "scaleway-paris"
KEYSTORE = "keystore-paris"
_POLICY = "scaleway:iam/policy:Policy"
_APP = "scaleway:iam/application:Application"
_CONTAINER = "scaleway:containers/container:Container"


def _each_rule(
    change: Callable[[dict[str, Any]], None], predicate: Callable[[dict[str, Any]], bool] | None = None
) -> Callable[[Document], None]:
    def edit(document: Document) -> None:
        for properties in property_maps(first(document, _POLICY, predicate)):
            for rule in properties["rules"]:
                change(rule)

    return edit


def _drop_permission(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda rule: rule["permissionSetNames"].remove(name)


def _tags(
    type_token: str,
    change: Callable[[list[str]], list[str]],
    predicate: Callable[[dict[str, Any]], bool] | None = None,
) -> Callable[[Document], None]:
    def edit(document: Document) -> None:
        for properties in property_maps(first(document, type_token, predicate)):
            properties["tags"] = change(list(properties["tags"]))

    return edit


def _api(state: dict[str, Any]) -> bool:
    return str(state["urn"]).endswith("::booking-service-api")


def _api_env(name: str, value: str) -> Callable[[Document], None]:
    def edit(document: Document) -> None:
        for properties in property_maps(first(document, _CONTAINER, _api)):
            properties["environmentVariables"][name] = value

    return edit


SCALEWAY_CONSTRAINT_MUTANTS: list[Mutant] = [
    # Argument conflicts: a route matching on Host header and path prefix at once.
    Mutant("scw-route-host-and-path", SCW, _add("scaleway:loadbalancers/route:Route", "api-route", {"frontendId": "f", "backendId": "b", "matchHostHeader": "rdv.sante-exemple.fr", "matchPathBegin": "/api/"}), "BK-SCW-001"),
    # IAM rule scope.
    Mutant("scw-iam-rule-unscoped", SCW, _each_rule(lambda r: r.pop("projectIds")), "BK-IAM-002"),
    Mutant("scw-iam-rule-project-and-org", SCW, _each_rule(lambda r: r.update(organizationId="0b7e4c1d-5f2a-4e8b-9c3d-7a6f5e4d3c2b")), "BK-IAM-002"),
    Mutant("keystore-reader-unscoped", KEYSTORE, _each_rule(lambda r: r.pop("projectIds")), "BK-IAM-002"),
    # Permissions cover the uses, no more.
    Mutant("scw-app-without-key-encrypt", SCW, _each_rule(_drop_permission("KeyManagerKeyEncrypt")), "BK-IAM-001"),
    Mutant("scw-app-without-key-decrypt", SCW, _each_rule(_drop_permission("KeyManagerKeyDecrypt")), "BK-IAM-001"),
    Mutant("scw-app-without-secret-access", SCW, _each_rule(_drop_permission("SecretManagerSecretAccess")), "BK-IAM-001"),
    Mutant("scw-app-full-access", SCW, _each_rule(lambda r: r["permissionSetNames"].append("AllProductsFullAccess")), "BK-IAM-001"),
    Mutant("scw-app-hides-its-sse-use", SCW, _tags(_APP, lambda tags: [t for t in tags if t != "use:documents-read-write"]), "BK-IAM-001"),
    Mutant("scw-app-unknown-use", SCW, _tags(_APP, lambda tags: [*tags, "use:everything"]), "BK-IAM-001"),
    Mutant("keystore-reader-more-than-secrets", KEYSTORE, _each_rule(lambda r: r["permissionSetNames"].append("SecretManagerFullAccess")), "BK-IAM-001"),
    # Reserved container environment names.
    Mutant("scw-container-env-scw", SCW, _api_env("SCW_DEFAULT_REGION", "fr-par"), "BK-SCW-002"),
    Mutant("scw-container-secret-env-scw", SCW, _tags(_CONTAINER, lambda tags: [*tags, "secret-env:SCW_SECRET_KEY"], _api), "BK-SCW-002"),
    Mutant("scw-container-secret-env-undeclared", SCW, _tags(_CONTAINER, lambda tags: [t for t in tags if not t.startswith("secret-env:")], _api), "BK-SCW-002"),
    # The key store's edge in every zone of its proxies.
    Mutant("keystore-single-zone-lb", KEYSTORE, _set("scaleway:loadbalancers/loadBalancer:LoadBalancer", "zone", "fr-par-1", _named("fr-par-2")), "BK-KEY-007"),
    Mutant("keystore-single-zone-gateway", KEYSTORE, _set("scaleway:network/publicGateway:PublicGateway", "zone", "fr-par-1", _named("fr-par-2")), "BK-KEY-007"),
    Mutant("keystore-single-zone-vpn", KEYSTORE, _set("scaleway:s2svpn/gateway:Gateway", "zone", "fr-par-1", _named("fr-par-2")), "BK-KEY-007"),
    Mutant("keystore-proxies-in-one-zone", KEYSTORE, _set("scaleway:instance/server:Server", "zone", "fr-par-1", _named("fr-par-2")), "BK-KEY-007"),
    # The health frontend may only answer /healthz in clear.
    Mutant("keystore-health-frontend-open", KEYSTORE, _drop("scaleway:loadbalancers/frontend:Frontend", "acls", predicate=_named("health-frontend-fr-par-1")), "BK-TLS-001"),
]  # fmt: skip
