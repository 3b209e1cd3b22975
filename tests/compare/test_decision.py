"""Verdicts follow the policy results (fail closed), the matrix recomputes from an edited weights file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from reporting.bom import Assumptions
from reporting.decision import judge, matrix
from reporting.facts import DATA_DIR, Facts, load
from reporting.model import PolicySummary, Report, build, policy_auditor


def column(report: Report, key: str):  # type: ignore[no-untyped-def]
    return next(c for c in report.columns if c.key == key)


def rule(facts: Facts, rule_id: str):  # type: ignore[no-untyped-def]
    return next(r for r in facts.legal.rules if r.id == rule_id)


def test_aws_fails_the_secnumcloud_perimeter_rule(report: Report, facts: Facts) -> None:
    j = judge(rule(facts, "sren-31"), column(report, "A"))
    assert j.verdict == "not-admissible"
    assert j.rule is not None and j.rule.status == "failed" and j.rule.failures > 0


def test_a_failed_perimeter_rule_overrides_an_admissible_verdict(report: Report, facts: Facts) -> None:
    failing = PolicySummary(1, False, [], [], {"BK-PROV-002": [{"rule_id": "BK-PROV-002"}]})
    c = dataclasses.replace(column(report, "C"), policy=failing)
    j = judge(rule(facts, "sren-31"), c)
    assert j.verdict == "not-admissible" and j.overridden


def test_an_unchecked_stack_cannot_be_admissible(report: Report, facts: Facts) -> None:
    c = dataclasses.replace(column(report, "C"), policy=None)
    j = judge(rule(facts, "circ-6519"), c)
    assert j.verdict == "conditional" and j.rule is not None and j.rule.status == "not-run"


def test_a_passing_perimeter_rule_keeps_the_verdict(report: Report, facts: Facts) -> None:
    passing = PolicySummary(1, True, [], [], {"BK-PROV-002": []})
    c = dataclasses.replace(column(report, "C"), policy=passing)
    assert judge(rule(facts, "circ-6519"), c).verdict == "admissible"


def test_matrix_recomputes_from_an_edited_weights_file(tmp_path: Path, previews, report: Report) -> None:  # type: ignore[no-untyped-def]
    before = matrix(report)
    document = yaml.safe_load((DATA_DIR / "facts/weights.yaml").read_text(encoding="utf-8"))
    for criterion in document["criteria"]:
        criterion["weight"] = 1 if criterion["key"] == "availability" else 0
    edited = tmp_path / "weights.yaml"
    edited.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    other = build(previews, load(weights=edited), Assumptions(), policy_auditor(), generated="2026-12-02")
    after = matrix(other)
    assert after.totals != before.totals
    for key, row in after.scores.items():
        assert after.totals[key] == round(100 * (row["availability"].value or 0.0), 1)


def test_cost_is_left_out_while_no_total_is_complete(report: Report) -> None:
    result = matrix(report)
    assert "cost-withheld" in result.notes
    used = {key: weight for key, _label, _why, _given, weight in result.criteria}
    assert used["cost"] == 0.0 and round(sum(used.values())) == 100
