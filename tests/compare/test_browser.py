"""The pages in headless Chromium: no sideways scroll at 1280 and 760 px, no diagram label cut, no
console error, the one-page summary prints on exactly one A4 page; screenshots kept for review."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest

from reporting.facts import Facts
from reporting.model import Report
from reporting.pdf import page_count, print_pdf
from tests.compare.cdp import CHROMIUM, SIDEWAYS, Browser
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


@pytest.fixture(scope="module")
def printed(written: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each page printed to A4 PDF once, for the checks on the printed pages."""
    out = tmp_path_factory.mktemp("printed")
    pdfs = {}
    for name, page in written.items():
        pdfs[name] = out / f"{name}.pdf"
        print_pdf(page, pdfs[name])
    return pdfs


@pytest.mark.parametrize("name", ["summary", "summary.fr"])
def test_summary_prints_on_one_a4_page(printed: dict[str, Path], name: str) -> None:
    assert page_count(printed[name]) == 1


# pdftotext -bbox gives each word's box, ascent to descent: 1.164 x the font size for DejaVu Sans.
DEJAVU_BOX = 0.928 + 0.236
WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>|<page width="([\d.]+)"'
)


def printed_words(pdf: Path) -> list[tuple[int, float, float, float, str]]:
    """(page, x, y, font size in pt, word) for every word of the printed PDF, in pdftotext's order."""
    pdftotext = shutil.which("pdftotext")
    assert pdftotext is not None
    out = subprocess.run(
        [pdftotext, "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    words, page = [], 0
    for x, y0, y1, word, new_page in WORD.findall(out):
        if new_page:
            page += 1
            continue
        words.append((page, float(x), float(y0), (float(y1) - float(y0)) / DEJAVU_BOX, unescape(word)))
    return words


@pytest.mark.parametrize("name", ["summary", "summary.fr", "compare", "compare.fr"])
def test_printed_sources_are_seven_points_or_more_with_their_urls(
    printed: dict[str, Path], pages: dict[str, tuple[str, list[str]]], facts: Facts, name: str
) -> None:
    """Read from the PDF itself: every word from the Sources heading to the end (titles, notes,
    publishers, URLs, dates) prints at 7 pt or more, and every cited public source's URL is printed
    whole (a URL may wrap; the summary's list runs in two columns, read left then right)."""
    words = printed_words(printed[name])
    heading = max(
        i
        for i, (*_at, word) in enumerate(words)
        if word == "Sources" and words[i + 1][-1] == "1."  # the heading, then the list's first number
    )
    listed = words[heading + 1 :]
    small = [(round(size, 2), word) for *_at, size, word in listed if size < 6.95]
    assert small == [], small[:10]
    # The summary's right column starts at its items' numbers (the leftmost "N." past the page's middle).
    middle = min(
        (x for _p, x, _y, _s, word in listed if re.fullmatch(r"\d+\.", word) and x > 250), default=595
    )
    in_order = sorted(
        listed, key=lambda w: (w[0], name.startswith("summary") and w[1] >= middle - 0.5, round(w[2]), w[1])
    )
    text = "".join(word for *_at, word in in_order).replace("-", "")
    for key in pages[name][1]:
        url = facts.sources[key].url
        if url.startswith("http"):
            assert url.replace("-", "") in text, (name, key, url)


@pytest.mark.parametrize("name", ["summary", "summary.fr"])
def test_every_word_of_the_summary_prints_at_seven_points_or_more(
    printed: dict[str, Path], name: str
) -> None:
    """The one page a cabinet reads is readable throughout, notes and reference marks included (the
    notes printed at about 6.3 pt before)."""
    small = sorted(
        {(round(size, 2), word) for *_at, size, word in printed_words(printed[name]) if size < 6.95}
    )
    assert small == [], small[:10]


def test_no_section_heading_alone_at_a_page_foot(printed: dict[str, Path]) -> None:
    """Headings keep with what follows: no printed page ends on a numbered section title."""
    pdf = printed["compare"]
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


SEPARATORS = "-_@./"


def split_inside(ident: str, head: str, tail: str) -> bool:
    """True when head + tail is a whole stretch of ident between separators (or its ends): ident printed
    with a line break between head and tail, inside a word."""
    if not head or not tail:
        return False
    joined = head + tail
    start = ident.find(joined)
    while start >= 0:
        end = start + len(joined)
        if (start == 0 or ident[start - 1] in SEPARATORS) and (end == len(ident) or ident[end] in SEPARATORS):
            return True
        start = ident.find(joined, start + 1)
    return False


@pytest.mark.parametrize("name", ["compare", "compare.fr"])
def test_printed_identifiers_do_not_break_mid_word(
    printed: dict[str, Path], pages: dict[str, tuple[str, list[str]]], report: Report, name: str
) -> None:
    """Read from the PDF: no identifier (a rule id or resource name printed as code, or a resource name
    of the previews) is split across two lines inside a word; a break after "-", "_", "@", "/" or "." is
    between words of the identifier and allowed."""
    identifiers = {
        re.sub(r"<wbr>", "", i)
        for i in re.findall(r'<code class="id">((?:[^<]|<wbr>)+)</code>', pages[name][0])
    }
    # The owners of the exceptions register's entries: e-mail addresses, printed beside each entry.
    identifiers |= {
        str(f.get("owner"))
        for c in report.columns
        if c.policy is not None
        for f in c.policy.excepted
        if f.get("owner")
    }
    identifiers |= {
        str(s["urn"]).rsplit("::", 1)[-1]
        for c in report.columns
        if c.option is not None
        for s in c.option.states
        if "::" in str(s.get("urn", ""))
    }
    identifiers = {i for i in identifiers if len(i) > 6}
    words = printed_words(printed[name])
    # A table's cells are read across the row, so a cell's next line is found by place, not by order:
    # a word below (within two lines) that starts at or left of the first word.
    broken = [
        f"{first[-1]}|{second[-1]}"
        for first in words
        if not first[-1].endswith(tuple(SEPARATORS))
        for second in words
        if second[0] == first[0]
        and 0 < second[2] - first[2] <= 3 * first[3]
        and second[1] <= first[1]
        and second[-1][:1].isalnum()
        and any(
            split_inside(ident, first[-1].lstrip("(«“"), second[-1].rstrip(",.;:)»”"))
            for ident in identifiers
        )
    ]
    assert broken == [], broken[:10]
