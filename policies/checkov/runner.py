"""Runs checkov from its own pinned environment over exported Terraform-plan files."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CHECKS_DIR = Path(__file__).resolve().parent / "checks"
SKIP_LIST = Path(__file__).resolve().parent / "skipped_checks.yaml"


@dataclass
class CheckovRun:
    available: bool
    returncode: int = 0
    seconds: float = 0.0
    failed: int = 0
    passed: int = 0
    junit: Path | None = None
    sarif: Path | None = None
    #: (check id, resource address, file) of every failed check.
    failures: list[tuple[str, str, str]] | None = None

    def describe(self) -> str:
        if not self.available:
            return "not run (.venv-checkov missing: run scripts/bootstrap.sh)"
        return f"{self.passed} passed, {self.failed} failed checks in {self.seconds:.1f}s (reports in {self.junit})"

    def summary(self) -> dict[str, str]:
        return {"result": self.describe()}


def skipped_checks() -> list[str]:
    import yaml

    document = yaml.safe_load(SKIP_LIST.read_text()) or {}
    return [entry["id"] for entry in document.get("skipped", [])]


def run(plans: Path, out: Path) -> CheckovRun:
    """One checkov invocation over every plan in ``plans``; JUnit and SARIF land in ``out``."""
    if not CHECKOV.exists():
        return CheckovRun(available=False)
    out.mkdir(parents=True, exist_ok=True)
    command = [
        str(CHECKOV), "--directory", str(plans), "--framework", "terraform_plan", "--skip-download",
        "--external-checks-dir", str(CHECKS_DIR), "--quiet", "--compact",
        "--output", "junitxml", "--output", "sarif", "--output", "json", "--output-file-path", str(out),
    ]  # fmt: skip
    skipped = skipped_checks()
    if skipped:
        command += ["--skip-check", ",".join(skipped)]
    started = time.perf_counter()
    env = {**os.environ, "BOOKING_CHECKOV_PLANS": str(plans.resolve())}
    completed = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, env=env)  # noqa: S603
    seconds = time.perf_counter() - started
    outcome = CheckovRun(
        True,
        completed.returncode,
        seconds,
        junit=out / "results_junitxml.xml",
        sarif=out / "results_sarif.sarif",
    )
    outcome.failures = []
    report = out / "results_json.json"
    if report.exists():
        data = json.loads(report.read_text())
        for entry in data if isinstance(data, list) else [data]:
            results = entry.get("results", {})
            outcome.passed += len(results.get("passed_checks", []))
            for check in results.get("failed_checks", []):
                outcome.failures.append((check["check_id"], check["resource"], check["file_path"]))
        outcome.failed = len(outcome.failures)
    elif completed.returncode not in (0, 1):
        raise RuntimeError(f"checkov failed ({completed.returncode}): {completed.stderr[-2000:]}")
    return outcome
