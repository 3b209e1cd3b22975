"""OSCAL outputs: every document validates against trestle's OSCAL models; findings trace to controls."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.catalog import Catalog
from trestle.oscal.component import ComponentDefinition
from trestle.oscal.profile import Profile

from policies.audit import AuditResult, audit_stack
from policies.inputs.preview import stack_from_preview
from policies.outputs import oscal
from policies.regulations import CONTROLS, REGULATION_CONTROLS, REGULATIONS, RULE_CONTROLS, controls_of
from policies.rules import all_rules
from tests.policies.policy_mutants import MUTANTS
from tests.policies.policy_support import ROOT, preview_document

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def _results(result: AuditResult, target: str, out: Path) -> dict[str, Any]:
    observed = [
        oscal.Observed(result.stack, "rules", f.rule_id, f.title, f.resource_urn, f.status, f.message,
                       f.justification, f.owner, f.expires)
        for f in result.findings
    ]  # fmt: skip
    document = oscal.assessment_results(
        [(result.stack, target, result.rules_evaluated)], observed, NOW, NOW, "run"
    )
    path = out / "assessment-results.json"
    oscal.write_json(path, document)
    AssessmentResults.oscal_read(path)  # validates the file on disk, as a reader would
    return document["assessment-results"]["results"][0]  # type: ignore[no-any-return]


def test_every_rule_implements_catalog_controls_and_the_mapping_has_no_stale_rule() -> None:
    rules = all_rules()
    assert all(rule.controls and set(rule.controls) <= set(CONTROLS) for rule in rules)
    assert set(RULE_CONTROLS) <= {r.id for r in rules}
    assert {"snc-3.2-19.6", "snc-3.2-10.1", "hds-2024-28-31"} <= set(CONTROLS)


def test_every_regulation_has_fallback_controls_for_rules_not_yet_mapped() -> None:
    assert set(REGULATIONS) <= set(REGULATION_CONTROLS)
    assert all(set(ids) <= set(CONTROLS) for ids in REGULATION_CONTROLS.values())
    assert controls_of("BK-NEW-001", ("HDS-2024", "ANSSI-TLS")) == ("hds-2024-28-31", "anssi-tls-1.2")


def test_the_static_documents_validate_and_profiles_select_catalog_controls(tmp_path: Path) -> None:
    paths = oscal.write_static(tmp_path, ROOT, NOW)
    catalog = Catalog.oscal_read(tmp_path / "catalog.json")
    assert isinstance(catalog, Catalog)
    in_catalog = {c.id for g in catalog.groups or [] for c in getattr(g, "controls", None) or []}
    assert in_catalog == set(CONTROLS)
    for option in oscal.OPTIONS:
        profile = Profile.oscal_read(tmp_path / "profiles" / f"{option.id}.json")
        assert profile is not None
        selected = json.loads((tmp_path / "profiles" / f"{option.id}.json").read_text())["profile"][
            "imports"
        ][0]
        ids = set(selected["include-controls"][0]["with-ids"])
        assert ids and ids <= in_catalog
        assert ("snc-3.2-19.6" in ids) == ("secnumcloud" in option.groups)
    assert ComponentDefinition.oscal_read(tmp_path / "component-definition.json") is not None
    assert len(paths) == 2 + len(oscal.OPTIONS)


def test_each_component_names_the_rules_behind_each_control(tmp_path: Path) -> None:
    oscal.write_static(tmp_path, ROOT, NOW)
    document = json.loads((tmp_path / "component-definition.json").read_text())["component-definition"]
    by_title = {c["title"]: c for c in document["components"]}

    def rules_for(component: str, control: str) -> set[str]:
        requirements = by_title[component]["control-implementations"][0]["implemented-requirements"]
        return {p["value"] for r in requirements if r["control-id"] == control for p in r["props"]}

    assert "BK-ENC-001" in rules_for("AwsBookingPlatform", "snc-3.2-10.1")
    assert "BK-ENC-001" not in rules_for("ScalewayBookingPlatform", "snc-3.2-10.1")
    assert "BK-ENC-004" in rules_for("ScalewayBookingPlatform", "snc-3.2-10.1")
    assert "BK-KEY-004" in rules_for("KeystoreHost", "aws-xks")


def test_exceptions_become_approved_deviations_with_owner_and_deadline(tmp_path: Path) -> None:
    stack = stack_from_preview(preview_document("scaleway-paris"), "scaleway-paris")
    result = _results(audit_stack(stack), "scaleway", tmp_path)
    risks = result["risks"]
    assert risks and all(
        r["status"] == "deviation-approved" and r["deadline"].startswith("2027-") for r in risks
    )
    assert all(any(p["name"] == "owner" and "@" in p["value"] for p in r["props"]) for r in risks)
    findings = {f["target"]["target-id"]: f for f in result["findings"]}
    covered = findings["snc-3.2-10.1"]
    assert covered["target"]["status"]["state"] == "satisfied"
    assert {r["risk-uuid"] for r in covered["related-risks"]} <= {r["uuid"] for r in risks}


@pytest.mark.parametrize(
    "mutant", [m for m in MUTANTS if m.stack == "scaleway-paris"][:3], ids=lambda m: m.name
)
def test_a_failing_rule_makes_its_controls_not_satisfied(tmp_path: Path, mutant: Any) -> None:
    stack = stack_from_preview(mutant.apply(preview_document(mutant.stack)), mutant.stack)
    audit = audit_stack(stack)
    failed = {f.rule_id for f in audit.failed}
    assert mutant.expected_rule in failed
    result = _results(audit, "scaleway", tmp_path)
    states = {f["target"]["target-id"]: f["target"]["status"]["state"] for f in result["findings"]}
    for control in next(r for r in all_rules() if r.id == mutant.expected_rule).controls:
        assert states[control] == "not-satisfied"
    observations = {o["uuid"] for o in result["observations"]}
    not_satisfied = [f for f in result["findings"] if f["target"]["status"]["state"] == "not-satisfied"]
    assert all(
        {o["observation-uuid"] for o in f["related-observations"]} <= observations for f in not_satisfied
    )


def test_an_invalid_document_is_refused_before_writing() -> None:
    with pytest.raises(oscal.OscalError, match="assessment-results"):
        oscal.assessment_results([("s", "aws", ["BK-ENC-001"])], [], NOW, NOW.replace(tzinfo=None), "run")
