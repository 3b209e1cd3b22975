"""Every AWS mutant is also caught by the checkov path (one checkov run over all mutant plans)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.checkov import runner as checkov_runner
from policies.inputs.preview import stack_from_preview
from policies.outputs import terraform_plan
from tests.policies.policy_mutants import MUTANTS
from tests.policies.policy_support import preview_document

pytestmark = pytest.mark.skipif(not checkov_runner.CHECKOV.exists(), reason="needs .venv-checkov (bootstrap)")


def test_checkov_catches_every_aws_mutant_and_passes_the_baseline(tmp_path: Path) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    baseline = stack_from_preview(preview_document("aws-xks-paris"), "aws-xks-paris")
    (plans / "baseline.tfplan.json").write_text(json.dumps(terraform_plan.export(baseline)))
    aws = [m for m in MUTANTS if m.stack == "aws-xks-paris"]
    for mutant in aws:
        stack = stack_from_preview(mutant.apply(preview_document(mutant.stack)), mutant.stack)
        (plans / f"{mutant.name}.tfplan.json").write_text(json.dumps(terraform_plan.export(stack)))
    outcome = checkov_runner.run(plans, tmp_path / "out", register=[])
    custom = {(f.stack, f.check_id) for f in outcome.failures if f.check_id.startswith("CKV_BK_")}
    assert not any(name == "baseline" for name, _ in custom), sorted(custom)
    caught = {name for name, _ in custom}
    missed = [m.name for m in aws if m.name not in caught]
    assert not missed, f"checkov missed {missed}"
    assert (tmp_path / "out" / "results_junitxml.xml").is_file() and (
        tmp_path / "out" / "results_sarif.sarif"
    ).is_file()
