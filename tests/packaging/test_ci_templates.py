"""The CI templates: valid for GitLab and GitHub (their published schemas, bundled by check-jsonschema),
and their gate logic run for real with the installed wheel and a stand-in `pulumi` (no Pulumi CLI
here) that answers `preview --json` with an offline preview: pass, mandatory finding, broken preview.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.packaging.conftest import ROOT, Installed

TEMPLATES = ROOT / "ci-templates"
GITLAB = TEMPLATES / "gitlab-ci.yml"
GITHUB = TEMPLATES / "github-actions.yml"
CHECK = Path(shutil.which("check-jsonschema") or ROOT / ".venv" / "bin" / "check-jsonschema")

#: A stand-in for the Pulumi CLI: records its calls, checks the policy pack it is handed, and answers
#: `preview --json` with $FAKE_PREVIEW and exit $FAKE_PREVIEW_RC.
FAKE_PULUMI = """#!/bin/sh
echo "$*" >> "$FAKE_CALLS"
if [ "$1" = preview ]; then
  pack=""
  while [ $# -gt 0 ]; do [ "$1" = --policy-pack ] && pack="$2"; shift; done
  grep -q "virtualenv: $FAKE_VENV" "$pack/PulumiPolicy.yaml" || { echo "pack not for this venv" >&2; exit 99; }
  test -f "$pack/__main__.py" || exit 98
  cat "$FAKE_PREVIEW"
  exit "$FAKE_PREVIEW_RC"
fi
exit 0
"""


def _schema_check(builtin: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK), "--builtin-schema", builtin, str(path)], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("builtin", "template"), [("vendor.gitlab-ci", GITLAB), ("vendor.github-workflows", GITHUB)]
)
def test_template_is_valid_for_its_ci(builtin: str, template: Path, tmp_path: Path) -> None:
    result = _schema_check(builtin, template)
    assert result.returncode == 0, result.stdout + result.stderr
    # The same check refuses a broken copy: the validation can fail.
    document = yaml.safe_load(template.read_text(encoding="utf-8"))
    if template is GITLAB:
        document["booking-policy"]["artifacts"]["when"] = "sometimes"
    else:
        document["jobs"]["policy"]["steps"][0]["uses"] = 42
    broken = tmp_path / template.name
    broken.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert _schema_check(builtin, broken).returncode == 1


def test_templates_publish_sarif_and_junit() -> None:
    gitlab = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))["booking-policy"]
    assert gitlab["artifacts"]["reports"]["junit"] == "reports/junit.xml"
    assert gitlab["artifacts"]["when"] == "always"
    assert "reports/results.sarif" in gitlab["artifacts"]["paths"]
    steps = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))["jobs"]["policy"]["steps"]
    sarif = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif"))
    assert sarif["with"]["sarif_file"] == "reports/results.sarif" and "always()" in sarif["if"]


def _job_dir(
    installed: Installed, tmp_path: Path, preview: Path, preview_rc: int
) -> tuple[Path, dict[str, str]]:
    """A job's working folder: the project's venv is the installed wheel's; `pulumi` is the stand-in."""
    job = tmp_path / "job"
    job.mkdir()
    (job / "venv").symlink_to(installed.venv)
    tools = tmp_path / "tools"
    tools.mkdir()
    fake = tools / "pulumi"
    fake.write_text(FAKE_PULUMI, encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(
        PATH=f"{tools}{os.pathsep}{env.get('PATH', '')}",
        FAKE_CALLS=str(tmp_path / "calls"),
        FAKE_VENV=str(installed.venv.resolve()),
        FAKE_PREVIEW=str(preview),
        FAKE_PREVIEW_RC=str(preview_rc),
        PULUMI_BACKEND_URL="file:///nonexistent-state",
    )
    return job, env


def _run_gitlab(job: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    definition = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))["booking-policy"]
    env = {**env, **{k: str(v) for k, v in definition["variables"].items()}}
    # GitLab runs the script lines in one shell with errexit and pipefail.
    script = "set -eo pipefail\n" + "\n".join(definition["script"])
    return subprocess.run(
        ["bash", "-c", script], cwd=job, env=env, capture_output=True, text=True, check=False
    )


_EXPRESSION = re.compile(r"\$\{\{\s*steps\.(\w+)\.outputs\.(\w+)\s*\}\}")


def _run_github(job: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The job's shell steps from the preview on, as the runner runs them (bash -e, GITHUB_OUTPUT)."""
    workflow = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))["jobs"]["policy"]
    env = {**env, "STACK": workflow["env"]["STACK"]}
    outputs: dict[str, dict[str, str]] = {}
    steps = [s for s in workflow["steps"] if "run" in s]
    start = next(i for i, s in enumerate(steps) if s.get("id") == "preview")
    result: subprocess.CompletedProcess[str] | None = None
    for step in steps[start:]:
        output_file = job / f".output-{step.get('id', 'step')}"
        output_file.write_text("", encoding="utf-8")
        step_env = {
            k: _EXPRESSION.sub(lambda m: outputs.get(m[1], {}).get(m[2], ""), str(v))
            for k, v in step.get("env", {}).items()
        }
        result = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=job,
            env={**env, **step_env, "GITHUB_OUTPUT": str(output_file)},
            capture_output=True,
            text=True,
            check=False,
        )
        if "id" in step:
            outputs[step["id"]] = dict(
                line.split("=", 1)
                for line in output_file.read_text(encoding="utf-8").splitlines()
                if "=" in line
            )
    assert result is not None
    return result


@pytest.mark.parametrize("ci", ["gitlab", "github"])
@pytest.mark.parametrize(
    "scenario",
    [("pass", 0, 0), ("finding", 255, 1), ("broken", 255, 2)],
    ids=["pass", "finding", "broken-preview"],
)
def test_gate_fails_on_a_finding_and_on_a_broken_preview(
    installed: Installed, previews: dict[str, Path], tmp_path: Path, ci: str, scenario: tuple[str, int, int]
) -> None:
    """(preview, `pulumi preview` exit, job exit): a mandatory finding fails the job with the audit's 1;
    a preview that is not JSON fails it with 2, never passes."""
    case, preview_rc, job_rc = scenario
    job, env = _job_dir(installed, tmp_path, previews[case], preview_rc)
    result = (_run_gitlab if ci == "gitlab" else _run_github)(job, env)
    assert result.returncode == job_rc, result.stdout[-3000:] + result.stderr[-3000:]
    calls = (tmp_path / "calls").read_text(encoding="utf-8")
    assert "stack select dev" in calls and "preview --json --policy-pack" in calls
    if case != "broken":
        # The reports the templates publish exist, whatever the verdict.
        for report in ("junit.xml", "results.sarif", "index.html", "findings.json"):
            assert (job / "reports" / report).is_file(), report
        findings: Any = json.loads((job / "reports" / "findings.json").read_text(encoding="utf-8"))
        assert findings
