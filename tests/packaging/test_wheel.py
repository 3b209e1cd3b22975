"""The wheel carries its data, installs outside the checkout, and runs the example and the audit."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import components
from tests.packaging.conftest import ROOT, Installed

EXAMPLE = ROOT / "examples" / "aws-platform"


def _tracked(folder: str) -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", folder], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [line for line in listing.stdout.splitlines() if not line.endswith("__init__.py")]


def test_wheel_ships_every_data_file_and_the_version(installed: Installed) -> None:
    names = set(installed.names())
    data = [p for p in _tracked("data") if p.endswith(".yaml")]
    assert len(data) >= 10, data
    missing = [p for p in data if p not in names]
    assert not missing, f"data files left out of the wheel: {missing}"
    assert "policies/PulumiPolicy.yaml" in names and "policies/exceptions.yaml" in names
    assert f"sovereign_booking-{components.__version__}.dist-info/METADATA" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert entry_points.startswith(f"sovereign_booking-{components.__version__}.dist-info/")
    # Nothing of the local environments, reports or the key store's dev folders.
    assert not [n for n in names if n.startswith((".venv", "reports/", ".xks-dev", "tests/"))]


def test_version_is_semantic_and_in_the_changelog() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", components.__version__), components.__version__
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{components.__version__}]" in changelog, "CHANGELOG.md has no entry for __version__"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == components.__version__, "reinstall (uv sync): the metadata is stale"


def test_installed_package_reads_its_data_from_the_environment(installed: Installed) -> None:
    probe = installed.run(
        installed.python,
        "-c",
        "import components, facts.providers as p, reporting.facts as r; "
        "print(components.__file__); print(p.PROVIDERS_FILE); print(r.DATA_DIR); "
        "print(p.home_region('aws')); print(len(r.load().sources))",
    )
    assert probe.returncode == 0, probe.stderr
    module, providers, data_dir, region, sources = probe.stdout.split()
    site = installed.venv.resolve()
    for path in (module, providers, data_dir):
        assert Path(path).resolve().is_relative_to(site), f"{path} is not from the installed wheel"
    assert region == "eu-west-3"
    assert int(sources) > 10


def test_example_previews_and_passes_the_audit_from_the_wheel(
    installed: Installed, previews: dict[str, Path]
) -> None:
    preview_json = previews["pass"]
    document = json.loads(preview_json.read_text(encoding="utf-8"))
    types = [step["newState"]["type"] for step in document["steps"]]
    # The package's component and the team's own resources, in one graph.
    assert "booking:aws:AwsBookingPlatform" in types
    assert "aws:route53/record:Record" in types and "aws:route53/healthCheck:HealthCheck" in types
    assert len(types) > 100, len(types)
    # The placeholder credential is a secret: never plaintext in the preview.
    assert "PreviewPlaceholder" not in preview_json.read_text(encoding="utf-8")

    out = installed.work / "reports"
    audit = installed.run(
        "sovereign-booking-audit", "--from-preview", preview_json, "--no-checkov", "--out", out
    )
    assert audit.returncode == 0, audit.stdout[-3000:] + audit.stderr
    assert re.search(r"^dev\s+PASS\s+\d+", audit.stdout, re.MULTILINE), audit.stdout
    for report in ("junit.xml", "results.sarif", "findings.json"):
        assert (out / report).is_file(), report


def test_example_mutant_fails_the_audit_from_the_wheel(
    installed: Installed, previews: dict[str, Path]
) -> None:
    """The team adds a bucket of its own without a customer key: the installed rules catch it."""
    audit = installed.run(
        "sovereign-booking-audit",
        "--from-preview",
        previews["finding"],
        "--no-checkov",
        "--out",
        installed.work / "mutant",
    )
    assert audit.returncode == 1, audit.stdout[-3000:] + audit.stderr
    assert "exports" in audit.stdout


def test_preview_of_a_folder_without_a_project_is_bad_input(installed: Installed) -> None:
    result = installed.run("sovereign-booking-preview", "--project", installed.work, "--stack", "dev")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "has no Pulumi.yaml" in result.stderr
    assert "Traceback" not in result.stderr


def test_policy_pack_for_the_installed_environment_serves_the_rules(installed: Installed) -> None:
    pack = installed.work / "policy-pack"
    written = installed.run("sovereign-booking-policy-pack", pack)
    assert written.returncode == 0, written.stderr
    assert written.stdout.strip() == str(pack)
    manifest = (pack / "PulumiPolicy.yaml").read_text(encoding="utf-8")
    assert f"virtualenv: {installed.venv.resolve()}" in manifest
    # The engine starts the pack's entry with that environment's interpreter: it prints its port.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    process = subprocess.Popen(
        [str(installed.python), str(pack / "__main__.py")],
        cwd=pack,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip().isdigit()
    finally:
        process.kill()
        process.wait(timeout=30)
    # A folder holding something else is refused, one line, exit 2.
    refused = installed.run("sovereign-booking-policy-pack", installed.work)
    assert refused.returncode == 2 and "give an empty folder" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_no_module_finds_the_data_files_by_a_path_of_its_own() -> None:
    """Every reader goes through facts.resources (importlib.resources): a path built from ``__file__``
    to ``data/`` would break where the package data is elsewhere (a zip, another layout)."""
    import ast

    offenders = []
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["hatch"]["build"][
        "targets"
    ]["wheel"]["packages"]
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.BinOp)
                    and isinstance(node.op, ast.Div)
                    and isinstance(node.right, ast.Constant)
                    and node.right.value in ("data", "data/facts", "data/prices")
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"read data/ through facts.resources.data_dir(), not a path: {offenders}"


def test_sdist_carries_the_sources_the_examples_and_templates_not_the_tests(tmp_path: Path) -> None:
    import tarfile

    built = subprocess.run(
        ["uv", "build", "--sdist", "--quiet", "--out-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for wanted in ("PulumiPlugin.yaml", "CHANGELOG.md", "examples/aws-platform/Pulumi.yaml",
                   "ci-templates/gitlab-ci.yml", "data/facts/providers.yaml", "stacks/component_provider.py"):  # fmt: skip
        assert wanted in names, wanted
    assert not [n for n in names if n.startswith(("tests/", ".venv", "reports/", "tools/"))]
