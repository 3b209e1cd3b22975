"""The per-option answer is derived from the data: flip a provider fact or an audit result in a copy of
the data and the answer follows; the recommendation is refused when it contradicts the answers."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from reporting.answer import DecisionError, answers, check_decision
from reporting.bom import Assumptions
from reporting.facts import DATA_DIR, load
from reporting.model import PolicySummary, Report, build
from scripts.compare import main


def rebuilt(
    tmp_path: Path, previews: dict[str, Any], report: Report, **edits: Callable[[Any], None]
) -> Report:
    """The report rebuilt from a copy of data/ with each named file edited (providers=..., decision=...);
    the audit results are the shipped report's (the policies read their own copy of the facts)."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    for name, change in edits.items():
        path = data / "facts" / f"{name}.yaml"
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(document)
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    policies = {c.definition.stack: c.policy for c in report.columns}
    return build(
        previews, load(data), Assumptions(), lambda _d, stack, _r: policies[stack], generated="2026-12-05"
    )


def verdicts(report: Report) -> dict[str, str]:
    return {key: a.verdict for key, a in answers(report).items()}


def s3ns(document: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in document["providers"].values() if p.get("target") == "s3ns")


def certificate(activities: list[int]) -> dict[str, Any]:
    """An HDS certificate as providers.yaml records it from the ANS list, for these activities."""
    return {
        "status": "certified",
        "detail": "ANS list",
        "sources": ["hds-activities"],
        "activities": activities,
    }


def test_shipped_answers(report: Report) -> None:
    assert verdicts(report) == {"A": "no", "B": "not-yet", "C": "not-yet"}
    gaps = {k: [g.key for g in a.gaps] for k, a in answers(report).items()}
    assert gaps["A"] == ["gap_snc_excluded"]
    assert gaps["B"] == ["gap_snc_in_progress"]
    assert gaps["C"] == ["gap_hds_missing"]


def test_an_hds_certificate_recorded_for_the_activities_makes_c_yes(
    tmp_path: Path, previews: dict[str, Any], report: Report
) -> None:
    def certify(d: dict[str, Any]) -> None:
        s3ns(d)["hds"] = certificate([1, 2, 3, 4, 5, 6])

    assert verdicts(rebuilt(tmp_path, previews, report, providers=certify))["C"] == "yes"


def test_a_certificate_missing_an_activity_is_not_yet(
    tmp_path: Path, previews: dict[str, Any], report: Report
) -> None:
    def partial(d: dict[str, Any]) -> None:
        s3ns(d)["hds"] = certificate([1, 2, 3])

    after = rebuilt(tmp_path, previews, report, providers=partial)
    c = answers(after)["C"]
    assert c.verdict == "not-yet" and [g.key for g in c.gaps] == ["gap_hds_activities"]
    assert dict(c.gaps[0].values)["activities"] == "4, 6"


def test_a_lost_qualification_makes_c_no(tmp_path: Path, previews: dict[str, Any], report: Report) -> None:
    def lose(d: dict[str, Any]) -> None:
        s3ns(d)["secnumcloud"]["status"] = "withdrawn"
        s3ns(d)["hds"] = certificate([1, 2, 3, 4, 5, 6])

    assert verdicts(rebuilt(tmp_path, previews, report, providers=lose))["C"] == "no"


def test_an_unknown_status_is_never_yes(tmp_path: Path, previews: dict[str, Any], report: Report) -> None:
    def odd(d: dict[str, Any]) -> None:
        d["providers"]["scaleway"]["secnumcloud"]["status"] = "announced"

    b = answers(rebuilt(tmp_path, previews, report, providers=odd))["B"]
    assert b.verdict == "not-yet" and b.gaps[0].key == "gap_snc_unknown"


def test_data_that_is_not_sensitive_needs_no_qualification(
    tmp_path: Path, previews: dict[str, Any], report: Report
) -> None:
    def not_sensitive(d: dict[str, Any]) -> None:
        for criterion in d["sensitivity"]["criteria"]:
            criterion["met"] = False

    after = rebuilt(tmp_path, previews, report, decision=not_sensitive)
    assert answers(after)["A"].tests["secnumcloud"].status == "compliant"
    # Scaleway is HDS-certified but the activities of its certificate are not recorded: a condition.
    assert verdicts(after)["B"] == "yes"


def test_a_mandatory_audit_finding_is_not_yet(report: Report) -> None:
    c = next(col for col in report.columns if col.key == "C")
    assert c.policy is not None
    failing = dataclasses.replace(c.policy, passed=False, failed=[{"rule_id": "BK-ENC-001"}])
    changed = dataclasses.replace(
        report,
        columns=[
            dataclasses.replace(col, policy=failing) if col.key == "C" else col for col in report.columns
        ],
    )
    assert [g.key for g in answers(changed)["C"].gaps][-1] == "gap_audit"


def test_a_stack_that_was_not_audited_is_not_yet(report: Report) -> None:
    changed = dataclasses.replace(
        report,
        columns=[dataclasses.replace(col, policy=None) if col.key == "C" else col for col in report.columns],
    )
    keys = [g.key for g in answers(changed)["C"].gaps]
    assert "gap_perimeter_unchecked" in keys and "gap_not_audited" in keys


def test_resources_outside_the_qualified_perimeter_are_not_yet(report: Report) -> None:
    outside = PolicySummary(1, True, [], [], {"BK-PROV-002": [{"rule_id": "BK-PROV-002"}]})
    changed = dataclasses.replace(
        report,
        columns=[
            dataclasses.replace(col, policy=outside) if col.key == "C" else col for col in report.columns
        ],
    )
    assert answers(changed)["C"].tests["secnumcloud"].gaps[0].key == "gap_perimeter"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("recommended", "A", "recommended.option: option A is answered 'no'"),
        ("fallback", "A", "fallback.option: option A is answered 'no'"),
        ("recommended", "Z", "recommended.option: 'Z' is not an option"),
        ("fallback", "C", "fallback.option: must differ"),
    ],
)
def test_a_recommendation_that_contradicts_the_answers_is_refused(
    report: Report, field: str, value: str, expected: str
) -> None:
    d = report.facts.decision
    part = getattr(d.decision, field).model_copy(update={"option": value})
    decision = d.model_copy(update={"decision": d.decision.model_copy(update={field: part})})
    changed = dataclasses.replace(report, facts=report.facts.model_copy(update={"decision": decision}))
    with pytest.raises(DecisionError, match=expected):
        check_decision(changed)


def test_recommending_not_yet_beside_a_yes_is_refused(
    tmp_path: Path, previews: dict[str, Any], report: Report
) -> None:
    def not_sensitive(d: dict[str, Any]) -> None:
        for criterion in d["sensitivity"]["criteria"]:
            criterion["met"] = False

    after = rebuilt(tmp_path, previews, report, decision=not_sensitive)
    with pytest.raises(DecisionError, match="option C is answered 'not-yet' while option\\(s\\) A, B"):
        check_decision(after)


def test_compare_stops_on_a_contradicting_recommendation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / "facts/decision.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["decision"]["recommended"]["option"] = "A"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    code = main(
        [
            "--data",
            str(data),
            "--out",
            str(out),
            "--no-pdf",
            "--stacks",
            "aws-xks-paris,keystore-paris,scaleway-paris,s3ns-secnumcloud",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "recommended.option: option A is answered 'no'" in err[0]
    assert not list(out.glob("*.html"))


def test_a_lost_hds_certificate_makes_b_no(tmp_path: Path, previews: dict[str, Any], report: Report) -> None:
    def lose(d: dict[str, Any]) -> None:
        d["providers"]["scaleway"]["hds"]["status"] = "withdrawn"

    b = answers(rebuilt(tmp_path, previews, report, providers=lose))["B"]
    assert b.verdict == "no"
    assert [g.key for g in b.gaps if g.final] == ["gap_hds_lost"]
