"""Prints HTML to PDF with headless Chromium and counts pages with poppler's pdfinfo."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)


class PdfError(RuntimeError):
    """Chromium or pdfinfo is missing or failed."""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise PdfError("chromium is not installed (scripts/bootstrap.sh installs it)")
    return found


def print_pdf(html: Path, pdf: Path, timeout: float = 120.0) -> None:
    with tempfile.TemporaryDirectory(prefix="compare-chromium-") as profile:
        result = subprocess.run(  # noqa: S603 (fixed flags, our own file)
            [
                chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--print-to-pdf={pdf}",
                html.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if result.returncode != 0 or not pdf.is_file():
        raise PdfError(f"chromium could not print {html} (exit {result.returncode})")


def page_count(pdf: Path) -> int:
    tool = shutil.which("pdfinfo")
    if not tool:
        raise PdfError("pdfinfo is not installed (Debian package poppler-utils)")
    result = subprocess.run(  # noqa: S603 (pdfinfo on our own file)
        [tool, str(pdf)], capture_output=True, text=True, timeout=30, check=False
    )
    found = re.search(r"^Pages:\s+(\d+)", result.stdout, re.MULTILINE)
    if result.returncode != 0 or not found:
        raise PdfError(f"pdfinfo could not read {pdf}")
    return int(found.group(1))
