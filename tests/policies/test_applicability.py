"""A rule that does not apply is never "pass": on the shipped stacks, in every report, and live.

Each rule says from the stack (what it was read from, its providers, the policy config) whether it
applies; an inapplicable rule is "not applicable: <reason>" in JUnit (<skipped>), findings.json,
the HTML table, SARIF (no result) and OSCAL (no satisfied objective), and the console counts it.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from policies.audit import AuditResult, audit_stack
from policies.inputs.export import stack_from_export
from policies.inputs.preview import stack_from_preview
from policies.model import Resource, Stack
from policies.outputs import oscal, reports
from policies.rules import Rule, Violation, all_rules
from policies.settings import PolicyConfig
from tests.policies.policy_support import ROOT, as_export, preview_document

SHIPPED = ("aws-xks-paris", "keystore-paris", "s3ns-secnumcloud", "scaleway-paris")
NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)
RULES = {r.id: r for r in all_rules()}


def _audit(name: str) -> AuditResult:
    return audit_stack(stack_from_preview(preview_document(name), name))


@pytest.fixture(scope="module")
def shipped() -> dict[str, AuditResult]:
    return {name: _audit(name) for name in SHIPPED}


def _rule(**declared: Any) -> Rule:
    def check(stack: Stack, config: PolicyConfig) -> list[Violation]:
        return [Violation("found", r) for r in stack.of_type("aws:s3/bucket:Bucket") if r.get("public")]

    fields: dict[str, Any] = {
        "id": "BK-TEST-001",
        "title": "Test rule",
        "severity": "low",
        "mandatory": True,
        "regulations": ("HDS-2024",),
        "remediation": "none",
        "check": check,
        "scope": "stack",
    }
    return Rule(**(fields | declared))


def _bucket(name: str, **props: Any) -> Resource:
    return Resource(
        "aws:s3/bucket:Bucket", name, f"urn:pulumi:s::p::aws:s3/bucket:Bucket::{name}", props, "aws"
    )


# -- the model ------------------------------------------------------------------------------------


def test_a_rule_in_todays_shape_applies_to_every_kind_of_stack() -> None:
    rule = _rule()
    for kind in ("preview", "export", "crossguard", "plan", "live", None):
        assert rule.not_applicable(Stack("s", [_bucket("b")], kind=kind), PolicyConfig()) is None


def test_a_stack_of_unknown_kind_gets_every_rule_fail_closed() -> None:
    stack = Stack("s", [_bucket("b")])  # no adapter said what it was read from
    assert all(
        rule.not_applicable(stack, PolicyConfig()) is None
        for rule in all_rules()
        if not rule.providers and rule.applies is None
    )
    assert RULES["BK-LIVE-004"].not_applicable(stack, PolicyConfig()) is None


def test_defaults_come_from_what_the_rule_already_declares() -> None:
    assert RULES["BK-ENC-001"].providers == ("aws",)  # aws_data_stores_use_stack_keys.py
    assert RULES["BK-ENC-002"].providers == ("scaleway",)
    assert RULES["BK-TLS-004"].providers == ("gcp",)
    assert RULES["BK-REGION-001"].providers == ()  # judges every provider
    preview = Stack("s", [_bucket("b")], kind="preview")
    live = Stack("s", [_bucket("b")], kind="live")
    reason = RULES["BK-LIVE-004"].not_applicable(preview, PolicyConfig())
    assert reason == "judges a live account only; this stack was read from a preview"
    assert RULES["BK-LIVE-004"].not_applicable(live, PolicyConfig()) is None


def test_an_unknown_input_kind_is_refused_when_the_rule_is_declared() -> None:
    with pytest.raises(ValueError, match="unknown input kind"):
        _rule(inputs=("previews",))


def test_explicit_applies_gives_its_reason() -> None:
    rule = _rule(
        applies=lambda stack, config: None if config.secnumcloud_only else "SecNumCloud not required"
    )
    stack = Stack("s", [_bucket("b")], kind="preview")
    assert rule.not_applicable(stack, PolicyConfig()) == "SecNumCloud not required"
    assert rule.not_applicable(stack, PolicyConfig(secnumcloud_only=True)) is None


def test_pass_over_no_resource_is_told_apart_from_a_pass_over_resources() -> None:
    rule = _rule()
    empty = audit_stack(Stack("s", [], kind="preview"), rules=[rule], exceptions=[])
    some = audit_stack(Stack("s", [_bucket("a"), _bucket("b")], kind="preview"), rules=[rule], exceptions=[])
    assert empty.outcome("BK-TEST-001").describe() == "pass, 0 resources"  # type: ignore[union-attr]
    assert some.outcome("BK-TEST-001").describe() == "pass, 2 resources"  # type: ignore[union-attr]
    failing = audit_stack(
        Stack("s", [_bucket("a", public=True)], kind="preview"), rules=[rule], exceptions=[]
    )
    assert failing.outcome("BK-TEST-001").status == "fail"  # type: ignore[union-attr]


# -- the shipped stacks ---------------------------------------------------------------------------


#: What cannot apply to each shipped stack (an offline preview): the live rules, the export-only
#: rule, the qualified-perimeter rule where SecNumCloud is not required, other providers' rules.
EXPECTED_NOT_APPLICABLE = {
    "aws-xks-paris": {"BK-ENC-002", "BK-ENC-004", "BK-ENC-005", "BK-KEY-003", "BK-KEY-004", "BK-KEY-005",
                      "BK-TLS-004", "BK-PROV-002"},
    "keystore-paris": {"BK-ACCESS-001", "BK-ENC-001", "BK-ENC-005", "BK-EXP-005", "BK-KEY-001", "BK-KEY-002",
                       "BK-KEY-005", "BK-TLS-002", "BK-TLS-003", "BK-TLS-004", "BK-PROV-002"},
    "s3ns-secnumcloud": {"BK-ACCESS-001", "BK-ENC-001", "BK-ENC-002", "BK-ENC-004", "BK-EXP-005", "BK-KEY-001",
                         "BK-KEY-002", "BK-KEY-003", "BK-KEY-004", "BK-TLS-001", "BK-TLS-003"},
    "scaleway-paris": {"BK-ACCESS-001", "BK-ENC-001", "BK-ENC-005", "BK-EXP-005", "BK-KEY-001", "BK-KEY-002",
                       "BK-KEY-005", "BK-TLS-002", "BK-TLS-003", "BK-TLS-004", "BK-PROV-002"},
}  # fmt: skip
ALWAYS_NOT_APPLICABLE = {
    "BK-LIVE-001",
    "BK-LIVE-002",
    "BK-LIVE-003",
    "BK-LIVE-004",
    "BK-LIVE-005",
    "BK-STATE-001",
}


@pytest.mark.parametrize("name", SHIPPED)
def test_what_cannot_apply_to_a_shipped_stack_is_not_applicable(
    shipped: dict[str, AuditResult], name: str
) -> None:
    result = shipped[name]
    known = {r for r in EXPECTED_NOT_APPLICABLE[name] | ALWAYS_NOT_APPLICABLE if r in RULES}
    assert set(result.not_applicable) >= known
    assert all(reason for reason in result.not_applicable.values())
    assert not set(result.not_applicable) & set(result.rules_evaluated)
    assert {o.rule_id for o in result.outcomes} == set(RULES)


def test_the_perimeter_rule_applies_where_secnumcloud_is_required() -> None:
    stack = stack_from_preview(preview_document("scaleway-paris"), "scaleway-paris")
    required = audit_stack(stack, config=PolicyConfig(secnumcloud_only=True))
    assert required.outcome("BK-PROV-002").status == "fail"  # type: ignore[union-attr]
    assert "BK-PROV-002" in _audit("scaleway-paris").not_applicable


def test_the_export_only_rule_applies_to_an_export() -> None:
    stack = stack_from_export(as_export(preview_document("aws-xks-paris")), "aws-xks-paris")
    result = audit_stack(stack)
    assert "BK-STATE-001" in result.rules_evaluated and "BK-LIVE-001" in result.not_applicable


@pytest.fixture(scope="module")
def written(shipped: dict[str, AuditResult], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    reports.write_all(list(shipped.values()), out)
    return out


def test_junit_skips_every_inapplicable_rule_with_its_reason(
    shipped: dict[str, AuditResult], written: Path
) -> None:
    root = ET.parse(written / "junit.xml").getroot()  # noqa: S314 - our own report
    for suite in root.iter("testsuite"):
        result = shipped[suite.get("name", "").removeprefix("policies.")]
        skipped = {}
        for case in suite.iter("testcase"):
            rule_id = case.get("name", "").split()[0]
            element = case.find("skipped")
            if element is not None:
                skipped[rule_id] = element.get("message")
                assert case.find("failure") is None
        assert skipped == {r: f"not applicable: {why}" for r, why in result.not_applicable.items()}
        assert suite.get("skipped") == str(len(result.not_applicable))
        assert suite.get("tests") == str(len(RULES))


def test_findings_json_has_a_status_per_rule_and_stack(
    shipped: dict[str, AuditResult], written: Path
) -> None:
    document = json.loads((written / "findings.json").read_text())
    for entry in document["stacks"]:
        statuses = {r["rule"]: r for r in entry["rules"]}
        assert set(statuses) == set(RULES)
        for rule_id, reason in shipped[entry["stack"]].not_applicable.items():
            assert statuses[rule_id] == {
                "rule": rule_id,
                "status": "not_applicable",
                "resources": 0,
                "reason": reason,
            }
        assert entry["summary"]["rules"]["not_applicable"] == len(shipped[entry["stack"]].not_applicable)


def test_html_shows_n_a_with_the_reason_and_never_pass(
    shipped: dict[str, AuditResult], written: Path
) -> None:
    page = (written / "index.html").read_text()
    table = page.split("<h2>Rules</h2>", 1)[1].split("</table>", 1)[0]
    order = list(shipped)
    reasons = dict(re.findall(r"<li id='na-(\d+)'>([^<]*)</li>", page))
    for row in re.findall(r"<tr>(.*?)</tr>", table)[1:]:
        rule_id = re.search(r"class='rid'>([^<]+)<", row).group(1)  # type: ignore[union-attr]
        cells = re.findall(r"<td>(.*?)</td>", row)[4:]
        for name, cell in zip(order, cells, strict=True):
            reason = shipped[name].not_applicable.get(rule_id)
            if reason is None:
                continue
            assert "pass" not in cell and "n/a" in cell
            number = re.search(r"#na-(\d+)", cell).group(1)  # type: ignore[union-attr]
            assert reasons[number] == reason.replace("'", "&#x27;").replace('"', "&quot;")


def test_sarif_has_no_result_for_an_inapplicable_rule(shipped: dict[str, AuditResult], written: Path) -> None:
    log = json.loads((written / "results.sarif").read_text())
    for run in log["runs"]:
        result = shipped[run["properties"]["stack"]]
        assert not {r["ruleId"] for r in run["results"]} & set(result.not_applicable)
        listed = {n["ruleId"]: n["reason"] for n in run["properties"]["notApplicable"]}
        assert listed == result.not_applicable
        assert set(result.not_applicable) <= {r["id"] for r in run["tool"]["driver"]["rules"]}


def test_oscal_has_no_satisfied_objective_for_an_inapplicable_rule(shipped: dict[str, AuditResult]) -> None:
    result = shipped["aws-xks-paris"]
    document = oscal.assessment_results([(result.stack, "aws", result.rules_evaluated)], [], NOW, NOW, "run")[
        "assessment-results"
    ]["results"][0]
    judged = {c for rule_id in result.rules_evaluated for c in RULES[rule_id].controls}
    only_not_applicable = {c for rule_id in result.not_applicable for c in RULES[rule_id].controls} - judged
    assert only_not_applicable  # e.g. the Scaleway and S3NS guidance controls
    targets = {f["target"]["target-id"]: f for f in document["findings"]}
    assert not only_not_applicable & set(targets)
    for finding in targets.values():
        assert not set(re.findall(r"BK-[A-Z]+-\d+", finding["description"])) & set(result.not_applicable)


# -- the console ----------------------------------------------------------------------------------


def _audit_script() -> Any:
    spec = importlib.util.spec_from_file_location("audit_script", ROOT / "scripts" / "audit.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_console_prints_one_line_per_register_entry(shipped: dict[str, AuditResult]) -> None:
    results = list(shipped.values())
    table = _audit_script()._table(results)
    entries = {(f.rule_id, f.exception_resource) for r in results for f in r.excepted}
    excepted_lines = [line for line in table.splitlines() if line.lstrip().startswith("EXCEPTED")]
    assert len(excepted_lines) == len(entries) >= 4
    s3ns = next(line for line in excepted_lines if "BK-PROV-001" in line)
    count = sum(
        f.rule_id == "BK-PROV-001" for r in results if r.stack == "s3ns-secnumcloud" for f in r.excepted
    )
    assert (
        count > 1
        and f"{count} finding(s) on s3ns-secnumcloud" in s3ns
        and "owner " in s3ns
        and "expires 2027-03-31" in s3ns
    )
    header = table.splitlines()[0].split()
    assert header[3:7] == ["PASS", "FAIL", "EXCEPTED", "N/A"]
    verbose = _audit_script()._table(results, verbose=True)
    # --verbose adds one line per finding (excepted or advisory) and drops the hint pointing to it.
    assert len(verbose.splitlines()) - len(table.splitlines()) == sum(len(r.findings) for r in results) - 1
