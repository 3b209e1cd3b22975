"""The SARIF log is checked by Microsoft's SARIF Multitool: the official 2.1.0 schema it ships, and its
validation rules (index references, locations with regions, ...). scripts/bootstrap.sh installs the
pinned tool from tools/sarif-multitool/package-lock.json."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from policies.audit import audit_preview
from policies.outputs import reports
from tests.policies.policy_support import ROOT

TOOL_DIR = ROOT / "tools/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux"
# The native binary, not the npm bin.js wrapper: the wrapper runs through a shell, which splits
# arguments on ";".
MULTITOOL = TOOL_DIR / "Sarif.Multitool"
OFFICIAL_SCHEMA = TOOL_DIR / "sarif-2.1.0.json"

MISSING = "the SARIF Multitool is not installed: run scripts/bootstrap.sh (npm ci in tools/sarif-multitool)"


def _multitool_findings(log: dict[str, Any], tmp_path: Path) -> list[str]:
    """Every error and warning the Multitool reports on the log, as 'RULE level: message'.

    Its notes are advice this log does not follow by choice: message ids instead of text, rule ids
    like 'CS2001' rather than our BK-TOPIC-NNN, code snippets, and a reachable $schema URI (it tries
    to fetch it; the tests are offline).
    """
    assert MULTITOOL.is_file(), MISSING
    target = tmp_path / "under-test.sarif"
    target.write_text(json.dumps(log, indent=2))
    output = tmp_path / "validation.sarif"
    run = subprocess.run(
        [str(MULTITOOL), "validate", str(target), "--output", str(output), "--level", "Error;Warning"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0 and output.is_file(), run.stdout + run.stderr
    validation = json.loads(output.read_text())["runs"][0]
    assert validation["invocations"][0]["executionSuccessful"] is True, run.stdout
    return [
        f"{r['ruleId']} {r.get('level', 'warning')}: {r['message'].get('text') or r['message'].get('arguments')}"
        for r in validation["results"]
    ]


def _schema_errors(log: dict[str, Any]) -> list[str]:
    assert OFFICIAL_SCHEMA.is_file(), MISSING
    schema = json.loads(OFFICIAL_SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]


@pytest.fixture
def audit_log(
    aws_document: dict[str, Any], scaleway_document: dict[str, Any], tmp_path: Path
) -> dict[str, Any]:
    """The SARIF log of the two shipped options: AWS read from a preview file (findings point at the
    resource's line), Scaleway from its stack file (findings cover the file)."""
    preview_file = tmp_path / "aws-xks-paris.preview.json"
    preview_file.write_text(json.dumps(aws_document, indent=2))
    results = [
        audit_preview(aws_document, "aws-xks-paris"),
        audit_preview(scaleway_document, "scaleway-paris"),
    ]
    artifacts = {"aws-xks-paris": str(preview_file), "scaleway-paris": "stacks/Pulumi.scaleway-paris.yaml"}
    return reports.sarif(results, artifacts, root=ROOT)


def test_the_audit_log_passes_the_official_schema_with_no_multitool_error_or_warning(
    audit_log: dict[str, Any], tmp_path: Path
) -> None:
    assert sum(len(run["results"]) for run in audit_log["runs"]) > 0, "nothing to validate"
    assert _schema_errors(audit_log) == []
    assert _multitool_findings(audit_log, tmp_path) == []


def test_findings_in_a_stack_file_cover_the_whole_file(audit_log: dict[str, Any]) -> None:
    stack_lines = len((ROOT / "stacks/Pulumi.scaleway-paris.yaml").read_text().splitlines())
    scaleway_run = next(run for run in audit_log["runs"] if run["properties"]["stack"] == "scaleway-paris")
    assert scaleway_run["results"], "the Scaleway option records exceptions: there must be findings"
    for result in scaleway_run["results"]:
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region == {"startLine": 1, "endLine": stack_lines}


def test_a_finding_in_a_preview_file_points_at_its_resource(
    aws_document: dict[str, Any], tmp_path: Path
) -> None:
    for step in aws_document["steps"]:
        if step["newState"]["type"] == "aws:rds/instance:Instance":
            step["newState"]["inputs"]["publiclyAccessible"] = True
            database_urn = step["newState"]["urn"]
    preview_file = tmp_path / "preview.json"
    preview_file.write_text(json.dumps(aws_document, indent=2))
    log = reports.sarif([audit_preview(aws_document, "aws-xks-paris")], {"aws-xks-paris": str(preview_file)})
    lines = preview_file.read_text().splitlines()
    located = [
        r["locations"][0]["physicalLocation"]["region"]
        for r in log["runs"][0]["results"]
        if r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == database_urn
    ]
    assert located, "the public database must be reported"
    assert all(database_urn in lines[region["startLine"] - 1] for region in located)


@pytest.mark.parametrize(
    ("defect", "caught_by"),
    [
        ("dangling-rule-index", "multitool"),
        ("unknown-level", "schema"),
        ("undeclared-property", "schema"),
    ],
)
def test_the_validators_catch_a_broken_log(
    audit_log: dict[str, Any], tmp_path: Path, defect: str, caught_by: str
) -> None:
    """Guards the guard: each defect in an otherwise valid log is reported."""
    broken = copy.deepcopy(audit_log)
    result = next(r for run in broken["runs"] for r in run["results"])
    if defect == "dangling-rule-index":
        result["ruleIndex"] = 999
    elif defect == "unknown-level":
        result["level"] = "fatal"
    else:
        result["severity"] = "high"
    if caught_by == "schema":
        assert _schema_errors(broken)
    else:
        assert any(f.startswith("SARIF1009") for f in _multitool_findings(broken, tmp_path))
