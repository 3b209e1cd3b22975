"""The shipped stacks pass; exceptions apply, expire and fail loudly when malformed; reports are valid."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.audit import audit_export, audit_preview
from policies.exceptions import ExceptionsError, load
from policies.model import SECRET
from policies.outputs import reports
from policies.rules import all_rules
from tests.policies.policy_support import ROOT, preview_document


def test_every_rule_has_its_metadata() -> None:
    rules = all_rules()
    assert len(rules) >= 15
    for rule in rules:
        assert rule.id.startswith("BK-") and rule.title and rule.remediation and rule.regulations
        assert rule.severity in ("critical", "high", "medium", "low")


def test_shipped_stacks_pass(aws_document: dict[str, Any], scaleway_document: dict[str, Any]) -> None:
    for name, document in (("aws-xks-paris", aws_document), ("scaleway-paris", scaleway_document)):
        result = audit_preview(document, name)
        assert result.passed, [f.message for f in result.failed]


def test_scaleway_managed_database_key_is_a_recorded_exception(scaleway_document: dict[str, Any]) -> None:
    result = audit_preview(scaleway_document, "scaleway-paris", today=dt.date(2026, 1, 1))
    excepted = [f for f in result.excepted if f.resource_type == "scaleway:databases/instance:Instance"]
    assert excepted and excepted[0].rule_id == "BK-ENC-004"
    assert excepted[0].owner and excepted[0].justification and excepted[0].expires == "2027-06-30"


def test_expired_exception_fails_again(scaleway_document: dict[str, Any]) -> None:
    result = audit_preview(scaleway_document, "scaleway-paris", today=dt.date(2027, 7, 1))
    assert not result.passed
    failed = [f for f in result.failed if f.rule_id == "BK-ENC-004"]
    assert failed and all("expired on 2027-06-30" in f.message for f in failed)


def test_register_without_the_exception_fails(scaleway_document: dict[str, Any], tmp_path: Path) -> None:
    empty = tmp_path / "exceptions.yaml"
    empty.write_text("exceptions: []\n")
    assert not audit_preview(scaleway_document, "scaleway-paris", exceptions_path=empty).passed


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        (
            {"rule": "BK-ENC-004", "resource": "urn:pulumi:*", "owner": "x", "expires": "2026-01-01"},
            "missing justification",
        ),
        (
            {
                "rule": "ENC4",
                "resource": "urn:pulumi:*",
                "justification": "j",
                "owner": "x",
                "expires": "2026-01-01",
            },
            "not a rule id",
        ),
        (
            {
                "rule": "BK-ENC-999",
                "resource": "urn:pulumi:*",
                "justification": "j",
                "owner": "x",
                "expires": "2026-01-01",
            },
            "does not exist",
        ),
        (
            {
                "rule": "BK-ENC-004",
                "resource": "db",
                "justification": "j",
                "owner": "x",
                "expires": "2026-01-01",
            },
            "URN pattern",
        ),
        (
            {
                "rule": "BK-ENC-004",
                "resource": "urn:pulumi:*",
                "justification": "j",
                "owner": "x",
                "expires": "soon",
            },
            "not a date",
        ),
        (
            {
                "rule": "BK-ENC-004",
                "resource": "urn:pulumi:*",
                "justification": "j",
                "owner": "x",
                "expires": "2026-01-01",
                "by": "me",
            },
            "unknown field",
        ),
    ],
)
def test_malformed_register_is_a_clear_error(tmp_path: Path, entry: dict[str, Any], complaint: str) -> None:
    path = tmp_path / "exceptions.yaml"
    path.write_text(yaml.safe_dump({"exceptions": [entry]}))
    with pytest.raises(ExceptionsError, match=complaint) as error:
        load(path, known_rules=[r.id for r in all_rules()])
    assert "exceptions[0]" in str(error.value)


def test_invalid_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.yaml"
    path.write_text("exceptions: [unclosed\n")
    with pytest.raises(ExceptionsError, match="not valid YAML"):
        load(path)


def _as_export(document: dict[str, Any]) -> dict[str, Any]:
    """The preview as `pulumi stack export` would show the deployed stack (version 3)."""
    resources = []
    for step in document["steps"]:
        state = step["newState"]
        resources.append(
            {
                "urn": state["urn"], "type": state["type"], "custom": state["custom"],
                "id": (state.get("outputs") or {}).get("id", ""), "inputs": state["inputs"],
                "outputs": state.get("outputs") or state["inputs"], "parent": state.get("parent", ""),
                "provider": state.get("provider", ""), "dependencies": state.get("dependencies", []),
            }
        )  # fmt: skip
    return {"version": 3, "deployment": {"manifest": {}, "resources": resources}}


def test_stack_export_audits_like_the_preview(aws_document: dict[str, Any]) -> None:
    export = _as_export(aws_document)
    assert audit_export(export, "aws-xks-paris").passed
    for resource in export["deployment"]["resources"]:
        if resource["type"] == "aws:rds/instance:Instance":
            resource["inputs"]["publiclyAccessible"] = True
            resource["outputs"]["publiclyAccessible"] = True
    result = audit_export(export, "aws-xks-paris")
    assert not result.passed and {f.rule_id for f in result.failed} == {"BK-EXP-002"}


def test_export_secret_envelopes_never_reach_the_model(aws_document: dict[str, Any]) -> None:
    from policies.inputs.export import stack_from_export

    export = _as_export(aws_document)
    envelope = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "AAAA"}
    export["deployment"]["resources"][-1]["outputs"]["password"] = envelope
    stack = stack_from_export(export, "aws-xks-paris")
    assert stack.resources[-1].properties["password"] is SECRET


def test_reports_are_written(scaleway_document: dict[str, Any], tmp_path: Path) -> None:
    result = audit_preview(scaleway_document, "scaleway-paris")
    paths = reports.write_all([result], tmp_path, {"scaleway-paris": "stacks/Pulumi.scaleway-paris.yaml"})
    log = json.loads(paths["sarif"].read_text())  # its validity: test_sarif_official_validation.py
    results = log["runs"][0]["results"]
    assert len(results) == len(result.findings)
    assert all(r["suppressions"][0]["status"] == "accepted" for r in results)
    rule = next(r for r in log["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "BK-ENC-004")
    assert "Scaleway HDS guidance" in rule["help"]["text"]
    assert json.loads(paths["findings"].read_text())["stacks"][0]["passed"] is True
    assert "BK-ENC-004" in paths["html"].read_text() and "<testsuites" in paths["junit"].read_text()


def test_audit_script_writes_every_report_and_exits_on_mandatory_failures(tmp_path: Path) -> None:

    good = tmp_path / "good.json"
    good.write_text(json.dumps(preview_document("aws-xks-paris")))
    bad_document = preview_document("aws-xks-paris")
    for step in bad_document["steps"]:
        if step["newState"]["type"] == "aws:rds/instance:Instance":
            for props in (step["newState"]["inputs"], step["newState"].get("outputs") or {}):
                props["publiclyAccessible"] = True
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_document))
    script = [sys.executable, str(ROOT / "scripts/audit.py"), "--no-checkov"]
    ok = subprocess.run([*script, "--from-preview", str(good), "--out", str(tmp_path / "ok")],
                        capture_output=True, text=True, check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "PASS" in ok.stdout
    for name in ("junit.xml", "results.sarif", "findings.json", "index.html"):
        assert (tmp_path / "ok" / name).is_file()
    failing = subprocess.run([*script, "--from-preview", str(bad), "--out", str(tmp_path / "ko")],
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert failing.returncode == 1 and "BK-EXP-002" in failing.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text("exceptions: nope\n")
    error = subprocess.run([*script, "--from-preview", str(good), "--exceptions", str(broken), "--out", str(tmp_path)],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert error.returncode == 2 and "exceptions" in error.stderr
