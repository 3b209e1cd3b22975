"""The pages in headless Chromium: no sideways scroll at 1280 and 760 px, no diagram label cut, no
console error, the one-page summary prints on exactly one A4 page; screenshots kept for review."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reporting.pdf import page_count, print_pdf
from tests.compare.cdp import CHROMIUM, Browser
from tests.compare.conftest import REPORTS

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (bootstrap installs it)")

# Every label of a diagram box must sit inside its box; every chart value inside the drawing.
CLIPPED = """
(() => {
  const out = [];
  for (const g of document.querySelectorAll('svg g.node')) {
    const rect = g.querySelector('rect.box');
    const svg = g.ownerSVGElement.getBoundingClientRect();
    for (const t of g.querySelectorAll('text')) {
      const b = t.getBoundingClientRect();
      if (rect) {
        const r = rect.getBoundingClientRect();
        if (b.left < r.left - 0.5 || b.right > r.right + 0.5 || b.top < r.top - 0.5 || b.bottom > r.bottom + 0.5)
          out.push(t.textContent);
      }
      if (b.right > svg.right + 0.5 || b.left < svg.left - 0.5) out.push(t.textContent);
    }
  }
  return out;
})()
"""
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def written(pages: dict[str, tuple[str, list[str]]]) -> dict[str, Path]:
    REPORTS.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, (html, _cited) in pages.items():
        path = REPORTS / f"test-{name}.html"
        path.write_text(html, encoding="utf-8")
        out[name] = path
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = Browser()
    yield b
    b.close()


@pytest.mark.parametrize("width", [1280, 760])
@pytest.mark.parametrize("name", ["compare", "compare.fr", "summary", "summary.fr"])
def test_page_fits_and_labels_are_whole(
    browser: Browser, written: dict[str, Path], name: str, width: int
) -> None:
    browser.open(written[name], width)
    assert browser.evaluate(SIDEWAYS) <= 0, f"{name} scrolls sideways at {width} px"
    assert browser.evaluate(CLIPPED) == []
    assert browser.evaluate("document.querySelectorAll('svg g.node').length") > (
        0 if name.startswith("compare") else -1
    )
    assert browser.console_errors() == []
    shot = REPORTS / f"{name}-{width}.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["summary", "summary.fr"])
def test_summary_prints_on_one_a4_page(written: dict[str, Path], tmp_path: Path, name: str) -> None:
    pdf = tmp_path / f"{name}.pdf"
    print_pdf(written[name], pdf)
    assert page_count(pdf) == 1


def test_no_section_heading_alone_at_a_page_foot(written: dict[str, Path], tmp_path: Path) -> None:
    """Headings keep with what follows: no printed page ends on a numbered section title."""
    import re
    import shutil
    import subprocess

    pdf = tmp_path / "compare.pdf"
    print_pdf(written["compare"], pdf)
    pdftotext = shutil.which("pdftotext")
    assert pdftotext is not None
    for page in range(1, page_count(pdf) + 1):
        text = subprocess.run(
            [pdftotext, "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        assert lines, f"page {page} is empty"
        assert not re.fullmatch(r"\d{1,2}\. [A-Z][^.\[]*", lines[-1]), (
            f"page {page} ends on heading {lines[-1]!r}"
        )
