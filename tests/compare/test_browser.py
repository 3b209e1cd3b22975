"""Opens the report in Debian's headless chromium: no console errors, a PNG screenshot is written."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.compare import main

REPORTS = Path(__file__).resolve().parents[2] / "reports" / "compare"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_page_opens_without_console_errors_and_screenshot_is_written(tmp_path: Path) -> None:
    assert main(["--out", str(REPORTS)]) == 0
    page = REPORTS / "compare.html"
    screenshot = REPORTS / "compare.png"
    screenshot.unlink(missing_ok=True)
    result = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
            f"--screenshot={screenshot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    errors = [line for line in console if re.search(r"error|uncaught|failed", line, re.IGNORECASE)]
    assert errors == [], "\n".join(errors)
    assert "ERR_FILE_NOT_FOUND" not in result.stderr and "net::ERR" not in result.stderr
    assert screenshot.is_file() and screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 50_000
