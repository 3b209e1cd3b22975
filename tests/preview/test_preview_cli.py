"""scripts/preview.py as a user runs it: a table, `pulumi preview --json`-shaped files, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stacks.offline import PLACEHOLDERS, SECRET_SIG, SECRET_SIG_KEY, run_preview, stack_names

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"aws": "eu-west-3", "scaleway": "fr-par", "keystore": "fr-par"}


def preview_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "preview.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.fixture(scope="module")
def all_stacks(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("preview")
    # From another working directory: the script must not depend on where it is run from.
    return preview_cli("--json", str(out / "json"), cwd=out), out / "json"


def test_previews_every_stack_and_writes_one_json_each(
    all_stacks: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, folder = all_stacks
    assert result.returncode == 0, result.stderr
    assert sorted(p.stem for p in folder.glob("*.json")) == stack_names()
    for stack in ("aws-xks-paris", "scaleway-paris"):
        assert f"{stack}: " in result.stdout
        assert "TYPE" in result.stdout and "REGION" in result.stdout


def test_json_has_the_pulumi_preview_shape(all_stacks: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, folder = all_stacks
    document = json.loads((folder / "aws-xks-paris.json").read_text())
    assert document["config"]["aws:region"] == "eu-west-3"
    assert document["steps"][0]["newState"]["type"] == "pulumi:pulumi:Stack"
    for step in document["steps"]:
        assert step["op"] == "create"
        assert {"urn", "type", "custom", "inputs", "parent", "provider"} <= set(step["newState"])


def test_no_placeholder_secret_in_plaintext_in_any_file(
    all_stacks: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, folder = all_stacks
    texts = [p.read_text() for p in folder.glob("*.json")] + [result.stdout, result.stderr]
    for text in texts:
        for placeholder in PLACEHOLDERS.values():
            assert placeholder not in text
    document = json.loads((folder / "aws-xks-paris.json").read_text())
    store_type = "aws:kms/customKeyStore:CustomKeyStore"
    (store,) = [s["newState"] for s in document["steps"] if s["newState"]["type"] == store_type]
    assert {SECRET_SIG_KEY: SECRET_SIG} in store["inputs"]["xksProxyAuthenticationCredential"].values()


@pytest.mark.parametrize("stack", stack_names())
def test_every_cloud_resource_of_every_stack_is_in_its_allowed_region(stack: str) -> None:
    preview = run_preview(stack)
    target = preview.document["config"]["booking:target"]
    providers = {
        s["urn"]: s["inputs"].get("region")
        for s in preview.states
        if s["type"].startswith("pulumi:providers:")
    }
    for state in preview.states:
        package = state["type"].split(":")[0]
        if package not in ("aws", "scaleway") or not state["custom"]:
            continue
        region = state["inputs"].get("region") or providers.get(state["provider"].rsplit("::", 1)[0])
        zone = state["inputs"].get("zone")
        assert region == ALLOWED[target] or (zone or "").startswith(ALLOWED[target]), state["urn"]


def test_unknown_stack_is_a_usage_error_naming_the_known_ones(tmp_path: Path) -> None:
    result = preview_cli("--stack", "aws-virginia", "--json", str(tmp_path / "x.json"))
    assert result.returncode == 2
    assert "unknown stack 'aws-virginia'" in result.stderr
    assert "aws-xks-paris" in result.stderr
    assert not (tmp_path / "x.json").exists()


def test_invalid_stack_config_fails_and_writes_nothing(tmp_path: Path) -> None:
    bad = ROOT / "stacks" / "Pulumi.test-invalid-region.yaml"
    original = (ROOT / "stacks" / "Pulumi.aws-xks-paris.yaml").read_text()
    bad.write_text(original.replace("booking:region: eu-west-3", "booking:region: us-east-1"))
    try:
        result = preview_cli("--stack", "test-invalid-region", "--json", str(tmp_path / "x.json"))
    finally:
        bad.unlink()
    assert result.returncode == 2  # bad input (the exit-code contract)
    assert "booking:region: must be one of eu-west-3 (got 'us-east-1')" in result.stderr
    assert not (tmp_path / "x.json").exists()
