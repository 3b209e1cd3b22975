"""BK-ACCESS-001 on the desired state: the AWS stack's keys are used by its own account only.

A compliant baseline (the offline preview of aws-xks-paris) passes; each mutant changes one thing
(a key policy statement, an added key policy or grant) and must fail. The same rule judges a live
read (tests/verify/test_verify_live_readers.py); its AWS constraints are sourced rows
(data/facts/kms_access.yaml), and a row without its source is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from facts import kms_access
from policies.audit import audit_stack
from policies.inputs.preview import stack_from_preview
from policies.model import UNKNOWN
from tests.policies.policy_mutants import Document, _add, first
from tests.policies.policy_support import preview_document

STACK = "aws-xks-paris"
KEY = "aws:kms/key:Key"
OUTSIDER = "999999999999"


def _failing(document: Document) -> list[str]:
    result = audit_stack(stack_from_preview(document, STACK))
    return [f.message for f in result.findings if f.rule_id == "BK-ACCESS-001" and f.status == "failed"]


def _key_policy(change: Callable[[dict[str, Any]], None]) -> Callable[[Document], None]:
    def edit(document: Document) -> None:
        state = first(document, KEY)
        policy = json.loads(state["inputs"]["policy"])
        change(policy)
        for target in (state.get("inputs"), state.get("outputs")):
            if isinstance(target, dict):
                target["policy"] = json.dumps(policy)

    return edit


def _statement(principal: Any, sid: str = "Added", **extra: Any) -> Callable[[dict[str, Any]], None]:
    def change(policy: dict[str, Any]) -> None:
        statement = {"Sid": sid, "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}
        policy["Statement"].append(
            statement | ({"Principal": principal} if principal is not None else {}) | extra
        )

    return change


def _unknown_policy(document: Document) -> None:
    first(document, KEY)["inputs"]["policy"] = UNKNOWN
    first(document, KEY).pop("outputs", None)


def _key_urn(document: Document) -> str:
    return str(first(document, KEY)["urn"])


def _attached(type_token: str, props: Callable[[Document], dict[str, Any]]) -> Callable[[Document], None]:
    def edit(document: Document) -> None:
        _add(type_token, "added", props(document), dependencies=(KEY,))(document)

    return edit


def test_the_shipped_aws_stack_passes() -> None:
    document = preview_document(STACK)
    assert _failing(document) == []
    outcome = audit_stack(stack_from_preview(document, STACK)).outcome("BK-ACCESS-001")
    assert outcome is not None and outcome.status == "pass" and outcome.resources >= 5


MUTANTS: dict[str, tuple[Callable[[Document], None], str]] = {
    "policy names another account's role": (
        _key_policy(_statement({"AWS": f"arn:aws:iam::{OUTSIDER}:role/analytics"})),
        f"of account {OUTSIDER}, outside the stack's",
    ),
    "policy names another account by id": (_key_policy(_statement({"AWS": OUTSIDER})), OUTSIDER),
    "policy open to everyone": (_key_policy(_statement("*")), "every identity of every AWS account"),
    "policy open to AWS *": (_key_policy(_statement({"AWS": "*"})), "every identity of every AWS account"),
    "policy open to everyone under a condition": (
        _key_policy(_statement("*", Condition={"StringEquals": {"kms:CallerAccount": "123456789012"}})),
        "every identity of every AWS account",
    ),
    "policy with NotPrincipal": (
        _key_policy(_statement(None, NotPrincipal={"AWS": "arn:aws:iam::123456789012:root"})),
        "NotPrincipal",
    ),
    "policy with a federated principal": (
        _key_policy(_statement({"Federated": "cognito-identity.amazonaws.com"})),
        "Federated principal",
    ),
    "policy not known at preview": (_unknown_policy, "cannot be established"),
    "key policy resource naming another account": (
        _attached(
            "aws:kms/keyPolicy:KeyPolicy",
            lambda d: {
                "keyId": first(d, KEY)["outputs"]["keyId"] if first(d, KEY).get("outputs") else _key_urn(d),
                "policy": json.dumps(
                    {"Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:root"},
                                    "Action": "kms:*", "Resource": "*"}]}
                ),
            },
        ),
        OUTSIDER,
    ),
    "grant to another account": (
        _attached(
            "aws:kms/grant:Grant",
            lambda d: {
                "keyId": (first(d, KEY).get("outputs") or {}).get("keyId", ""),
                "granteePrincipal": f"arn:aws:iam::{OUTSIDER}:role/exporter",
                "operations": ["Decrypt"],
            },
        ),
        "grant added",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", MUTANTS)
def test_mutant_fails(name: str) -> None:
    edit, expected = MUTANTS[name]
    document = preview_document(STACK)
    edit(document)
    messages = _failing(document)
    assert messages and any(expected in m for m in messages), messages


def test_a_service_principal_or_a_role_of_the_account_passes() -> None:
    document = preview_document(STACK)
    _key_policy(_statement({"Service": "logs.eu-west-3.amazonaws.com"}))(document)
    account = json.loads(first(document, KEY)["inputs"]["policy"])["Statement"][0]["Principal"]["AWS"].split(
        ":"
    )[4]
    _key_policy(_statement({"AWS": f"arn:aws:iam::{account}:role/booking-api"}, sid="OwnRole"))(document)
    assert _failing(document) == []


def test_an_unsourced_constraint_is_refused_when_the_file_loads(tmp_path: Path) -> None:
    raw = yaml.safe_load(kms_access.KMS_ACCESS_FILE.read_text(encoding="utf-8"))
    del raw["constraints"]["everyone"]["source"]
    path = tmp_path / "kms_access.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(kms_access.KmsAccessFileError, match=r"kms_access.yaml: constraints.everyone.source"):
        kms_access.load(path)


def test_the_sourced_everyone_row_is_what_the_rule_reads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Break the constraint (another value for "everyone") and the "*" mutant is no longer recognised."""
    raw = yaml.safe_load(kms_access.KMS_ACCESS_FILE.read_text(encoding="utf-8"))
    raw["constraints"]["everyone"]["value"] = "nobody"
    path = tmp_path / "kms_access.yaml"
    path.write_text(yaml.safe_dump(raw))
    original = kms_access.load.__wrapped__
    monkeypatch.setattr(kms_access, "load", lambda path=path: original(path))
    document = preview_document(STACK)
    _key_policy(_statement("*"))(document)
    assert not any("every identity" in m for m in _failing(document))
