"""BK-ENC-004: every Scaleway data store uses a Key Manager key of the stack where Scaleway offers one."""

from __future__ import annotations

from collections.abc import Iterator

from policies.catalog import SCALEWAY_BUCKET_TYPES, SCALEWAY_DATA_STORES, SCALEWAY_SSE_TYPES
from policies.model import Resource, Stack
from policies.rules import Rule, Violation
from policies.rules._helpers import as_list, settings_of
from policies.rules._keys.scaleway import resolve_scaleway_key
from policies.settings import PolicyConfig


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    for type_token, settings in SCALEWAY_DATA_STORES.items():
        for resource in stack.of_type(type_token):
            if type_token in SCALEWAY_BUCKET_TYPES:
                keys: list[Resource] = []
                for sse in settings_of(stack, resource, SCALEWAY_SSE_TYPES):
                    for rule in as_list(sse.get("rules")):
                        default = (
                            rule.get("applyServerSideEncryptionByDefault") if isinstance(rule, dict) else None
                        )
                        default = default[0] if isinstance(default, list) and default else default
                        if isinstance(default, dict):
                            keys += resolve_scaleway_key(stack, sse, default.get("kmsMasterKeyId"))
                if not keys:
                    yield Violation(
                        "objects are encrypted with a Scaleway-managed key, not a Key Manager key", resource
                    )
            elif settings:
                for setting in settings:
                    if not resolve_scaleway_key(stack, resource, resource.get(*setting.key)):
                        yield Violation(
                            f"{setting.protects}: no Key Manager key of the stack is set", resource
                        )
            else:
                yield Violation(
                    f"{type_token} offers no customer-managed key: its data is encrypted with a Scaleway-managed "
                    "key (record a justified exception)",
                    resource,
                )


RULE = Rule(
    id="BK-ENC-004",
    title="Every Scaleway data store uses a customer-managed Key Manager key where Scaleway offers one",
    severity="high",
    mandatory=True,
    regulations=("SCW-HDS", "CNIL-SCHREMS-II"),
    remediation=(
        "Pass the stack's Key Manager key (keyId / kmsMasterKeyId). Where the product offers none (the "
        "managed database), record an exception in policies/exceptions.yaml with the justification, an owner "
        "and an expiry date, and mark the code with '# NO-CUSTOMER-KEY:'."
    ),
    rationale="A customer key lets the controller revoke access to data; where none exists, say so and own the risk.",
    check=check,
    scope="stack",
)
