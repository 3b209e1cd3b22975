"""BK-KEY-004 on the shipped key store stack: a network HSM passes, SoftHSM is flagged (advisory)."""

from __future__ import annotations

import json

from policies.audit import audit_preview
from stacks.offline import read_stack_file, run_preview

STACK = "keystore-paris"


def audit_with_hsm_kind(kind: str | None) -> list[tuple[str, bool]]:
    overrides = {}
    if kind is not None:
        keystore = json.loads(read_stack_file(STACK)[0]["booking:keystore"])
        keystore["hsmKind"] = kind
        if kind == "softhsm":
            keystore["hsmModule"] = "/usr/lib/softhsm/libsofthsm2.so"
        overrides["booking:keystore"] = json.dumps(keystore)
    result = audit_preview(run_preview(STACK, overrides=overrides).document, STACK)
    return [(f.rule_id, f.mandatory) for f in result.findings if f.status == "failed"]


def test_shipped_key_store_passes_with_a_network_hsm() -> None:
    assert audit_with_hsm_kind(None) == []


def test_software_hsm_is_flagged_as_advisory_on_every_proxy() -> None:
    failed = audit_with_hsm_kind("softhsm")
    assert failed == [("BK-KEY-004", False), ("BK-KEY-004", False)]
