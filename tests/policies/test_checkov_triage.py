"""The exceptions register across both engines, and the gate on untriaged checkov failures."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from policies.audit import audit_stack
from policies.checkov import runner as checkov_runner
from policies.exceptions import ExceptionsError, PolicyException, parse
from policies.exceptions import load as load_register
from policies.inputs.preview import stack_from_preview
from policies.outputs import terraform_plan
from tests.policies.policy_mutants import _set
from tests.policies.policy_support import ROOT, preview_document

SCALEWAY = "scaleway-paris"
DATABASE_URN_END = "scaleway:databases/instance:Instance::booking-database-postgres"


def _plans(tmp_path: Path, stack_name: str) -> tuple[Path, dict[str, Any]]:
    stack = stack_from_preview(preview_document(stack_name), stack_name)
    plans = tmp_path / "plans"
    plans.mkdir()
    plan = terraform_plan.export(stack)
    (plans / f"{stack_name}.tfplan.json").write_text(json.dumps(plan))
    return plans, plan


def _address(plan: dict[str, Any], urn_end: str) -> str:
    resources = plan["planned_values"]["root_module"]["resources"]
    return str(next(r["address"] for r in resources if r["values"]["pulumi_urn"].endswith(urn_end)))


def _report(stack_name: str, failed: list[tuple[str, str]], passed: int = 2) -> dict[str, Any]:
    """checkov's JSON report shape (results + summary) for one plan file."""
    file_path = f"/{stack_name}.tfplan.json"
    return {
        "check_type": "terraform_plan",
        "results": {
            "passed_checks": [{"check_id": "CKV_AWS_1", "resource": "x", "file_path": file_path}] * passed,
            "failed_checks": [
                {"check_id": c, "check_name": "n", "resource": a, "file_path": file_path} for c, a in failed
            ],
            "skipped_checks": [],
        },
        "summary": {"passed": passed, "failed": len(failed), "skipped": 0, "checkov_version": "x"},
    }


def test_a_bk_check_failure_is_excepted_by_the_same_entry_as_the_native_finding(tmp_path: Path) -> None:
    plans, plan = _plans(tmp_path, SCALEWAY)
    register = load_register()
    native = audit_stack(stack_from_preview(preview_document(SCALEWAY), SCALEWAY), exceptions=register)
    finding = next(f for f in native.findings if f.resource_urn.endswith(DATABASE_URN_END))
    assert finding.status == "excepted" and finding.rule_id == "BK-ENC-004"
    address = _address(plan, DATABASE_URN_END)
    failures, counts = checkov_runner.triage(
        _report(SCALEWAY, [("CKV_BK_ENC_004", address)]), plans, register
    )
    (failure,) = failures
    assert failure.status == "excepted"
    assert (failure.justification, failure.owner, failure.expires) == (
        finding.justification,
        finding.owner,
        finding.expires,
    )
    assert counts[SCALEWAY].excepted == 1 and counts[SCALEWAY].passed == 2


def test_an_expired_entry_leaves_the_checkov_failure_untriaged(tmp_path: Path) -> None:
    plans, plan = _plans(tmp_path, SCALEWAY)
    address = _address(plan, DATABASE_URN_END)
    report = _report(SCALEWAY, [("CKV_BK_ENC_004", address)])
    register = load_register()
    later = max(e.expires for e in register) + dt.timedelta(days=1)
    (failure,), counts = checkov_runner.triage(report, plans, register, today=later)
    assert failure.status == "untriaged" and "expired" in (failure.note or "")
    assert counts[SCALEWAY].untriaged == 1


def test_a_built_in_check_id_excepts_only_the_resources_its_pattern_names(tmp_path: Path) -> None:
    plans, plan = _plans(tmp_path, SCALEWAY)
    address = _address(plan, DATABASE_URN_END)
    entry = PolicyException(
        rule="CKV_SCW_1", resource=f"urn:pulumi:*::*::*{DATABASE_URN_END}", justification="because",
        owner="owner@x", expires=dt.date(2099, 1, 1),
    )  # fmt: skip
    other = next(
        r["address"] for r in plan["planned_values"]["root_module"]["resources"] if r["address"] != address
    )
    failures, _ = checkov_runner.triage(
        _report(SCALEWAY, [("CKV_SCW_1", address), ("CKV_SCW_1", other), ("CKV_SCW_2", address)]),
        plans,
        [entry],
    )
    assert [f.status for f in failures] == ["excepted", "untriaged", "untriaged"]


@pytest.mark.parametrize(
    ("rule", "accepted"),
    [("CKV_AWS_91", True), ("CKV2_AWS_28", True), ("CKV_BK_ENC_004", False), ("CKV_AWS", False)],
)
def test_the_register_accepts_built_in_checkov_ids_and_refuses_our_checks_by_checkov_id(
    rule: str, accepted: bool
) -> None:
    document = {
        "exceptions": [
            {
                "rule": rule,
                "resource": "urn:pulumi:*",
                "justification": "j",
                "owner": "o",
                "expires": "2099-01-01",
            }
        ]
    }
    if accepted:
        assert parse(document, "register", known_rules=["BK-ENC-004"])[0].rule == rule
    else:
        with pytest.raises(ExceptionsError, match=r"exceptions\[0\]: rule"):
            parse(document, "register", known_rules=["BK-ENC-004"])


@pytest.mark.skipif(not checkov_runner.CHECKOV.exists(), reason="needs .venv-checkov (bootstrap)")
def test_a_failure_only_checkov_built_ins_catch_fails_the_audit(tmp_path: Path) -> None:
    """Enhanced monitoring off: no project rule sees it, CKV_AWS_118 does, and nothing excepts it."""
    document = preview_document("aws-xks-paris")
    _set("aws:rds/instance:Instance", "monitoringInterval", 0)(document)
    native = audit_stack(stack_from_preview(document, "aws-xks-paris"))
    assert native.passed and not native.failed
    mutant = tmp_path / "aws-xks-paris.json"
    mutant.write_text(json.dumps(document))
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/audit.py"),
            "--from-preview",
            str(mutant),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert completed.returncode == 1, completed.stdout + completed.stderr
    untriaged = [line for line in completed.stdout.splitlines() if line.lstrip().startswith("UNTRIAGED")]
    assert len(untriaged) == 1 and "CKV_AWS_118" in untriaged[0], completed.stdout
    triage = json.loads((tmp_path / "out" / "checkov" / "triage.json").read_text())
    assert triage["untriaged"] == 1 and triage["excepted"] == triage["failed"] - 1


def test_a_cross_check_that_cannot_run_makes_the_audit_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scripts import audit

    monkeypatch.setattr(checkov_runner, "CHECKOV", tmp_path / "no-checkov" / "bin" / "checkov")
    code = audit.main(["--stack", "scaleway-paris", "--out", str(tmp_path / "out")])
    assert code == 3
    assert "checkov did not run" in capsys.readouterr().err
    # The explicit opt-out audits without the cross-check and passes on the compliant stack.
    assert audit.main(["--stack", "scaleway-paris", "--no-checkov", "--out", str(tmp_path / "out2")]) == 0
