# ruff: noqa: PLR0911 - table-like rule logic reads better whole
"""BK-KEY-001: every key protecting data lives in an external key store (XKS)."""

from __future__ import annotations

from collections.abc import Iterator

from facts.tokens import CUSTOM_KEY_STORE, KMS_KEY
from policies.model import Resource, Stack, is_known
from policies.rules import Rule, Violation
from policies.rules._keys.aws import aws_protections
from policies.settings import PolicyConfig


def key_store_of(stack: Stack, key: Resource) -> Resource | None:
    store_id = key.get("customKeyStoreId")
    if not store_id:
        return None
    found = stack.references(store_id, CUSTOM_KEY_STORE, ("customKeyStoreId",))
    if found is None:
        # In a preview the store's id is not among its inputs: the key's dependency names it.
        stores = stack.dependencies_of(key, CUSTOM_KEY_STORE)
        found = stores[0] if len(stores) == 1 else None
    return found


def key_problem(stack: Stack, key: Resource) -> str:
    """Why a key is not an XKS key of the stack, or '' when it is."""
    if key.type != KMS_KEY:
        return f"{key.type} keys cannot live in an external key store"
    store_id = key.get("customKeyStoreId")
    if not store_id:
        return (
            "the key has origin AWS_KMS (no custom key store): its key material is generated and held by AWS"
        )
    store = key_store_of(stack, key)
    if store is None:
        if isinstance(store_id, str) and is_known(store_id):
            return f"custom key store {store_id} is not a key store of this stack"
        return "its custom key store cannot be found in this stack"
    store_type = store.get("customKeyStoreType", default="AWS_CLOUDHSM")  # the API's default type
    if store_type != "EXTERNAL_KEY_STORE":
        return f"its custom key store {store.name} is of type {store_type}, not EXTERNAL_KEY_STORE"
    if not key.get("xksKeyId"):
        return "the key names no external key (xksKeyId) in the external key manager"
    return ""


def check(stack: Stack, config: PolicyConfig) -> Iterator[Violation]:
    del config
    protected: dict[str, tuple[Resource, list[str]]] = {}
    for protection in aws_protections(stack):
        if protection.resolution is None:
            continue
        for key in protection.resolution.keys:
            entry = protected.setdefault(key.urn, (key, []))
            entry[1].append(f"{protection.resource.name} ({protection.protects})")
    for key, users in protected.values():
        problem = key_problem(stack, key)
        if problem:
            shown = ", ".join(sorted(set(users))[:5]) + (" …" if len(set(users)) > 5 else "")
            yield Violation(f"{problem}; it protects {shown}", key)


RULE = Rule(
    id="BK-KEY-001",
    title="Every key protecting data is in an external key store backed by the French HSM",
    severity="critical",
    mandatory=True,
    regulations=("AWS-XKS", "CNIL-SCHREMS-II", "SNC-3.2-19"),
    remediation=(
        "Create the key with customKeyStoreId set to the stack's EXTERNAL_KEY_STORE custom key store and "
        "xksKeyId naming the key in the French HSM; never use AWS_KMS-origin or CloudHSM-store keys for health "
        "data. Note: XKS keys cannot rotate automatically; rotate them in the external key manager."
    ),
    rationale=(
        "With XKS the key material never leaves the HSM in France and disconnecting the proxy stops AWS from "
        "decrypting: the argument the Conseil d'État accepted in 2021."
    ),
    check=check,
    scope="stack",
    providers=("aws",),
)
