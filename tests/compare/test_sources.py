"""Every source an auditor can follow: a real address (a public URL, or a file of this repository), no
proxy host, a dated retrieval, no duplicate, each printed with its URL and readable in the PDF."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from reporting.facts import Facts
from reporting.render import TEMPLATES

ROOT = Path(__file__).resolve().parents[2]
PROXY_MARKERS = ("rproxy", "goskope", "proxy.", "webcache", "translate.goog")


def test_every_source_has_a_followable_address(facts: Facts) -> None:
    for key, source in facts.sources.items():
        if source.url.startswith(("http://", "https://")):
            parts = urlsplit(source.url)
            assert parts.netloc and "." in parts.netloc, key
            assert not any(m in parts.netloc for m in PROXY_MARKERS), (key, parts.netloc)
        else:
            assert (ROOT / source.url).is_file(), (key, source.url)


def test_no_proxy_host_and_no_empty_date_in_a_retrieval_note(facts: Facts) -> None:
    for key, source in facts.sources.items():
        assert not any(m in source.retrieved for m in PROXY_MARKERS), key
        assert "()" not in source.retrieved and "( )" not in source.retrieved, key
        if source.url.startswith("http"):
            assert re.match(r"^20\d\d-\d\d-\d\d", source.retrieved), key


def test_no_duplicate_source(facts: Facts) -> None:
    urls = [s.url for s in facts.sources.values()]
    # Two publishers may title a page alike (EPIC's and the PCLOB's "Executive Order 12333"): a source is
    # its title as one publisher issued it.
    titles = [(s.title, s.publisher) for s in facts.sources.values()]
    assert len(set(urls)) == len(urls), sorted(u for u in urls if urls.count(u) > 1)
    assert len(set(titles)) == len(titles), sorted(t for t in titles if titles.count(t) > 1)


def test_sources_added_for_this_decision_are_dated_2026_12_05(facts: Facts) -> None:
    for key in ("snc-19-6", "hds-activities", "project-failover-bench"):
        assert facts.sources[key].retrieved.startswith("2026-12-05"), key


@pytest.mark.parametrize("name", ["summary", "summary.fr", "compare", "compare.fr"])
def test_every_printed_source_shows_its_url(
    pages: dict[str, tuple[str, list[str]]], facts: Facts, name: str
) -> None:
    html, cited = pages[name]
    items = dict(re.findall(r'<li id="src-([\w-]+)"[^>]*>(.*?)</li>', html, re.S))
    assert list(items) == cited
    for key in cited:
        url = facts.sources[key].url
        shown = f'<a href="{url}">{url}</a>' if url.startswith("http") else f"<code>{url}</code>"
        assert shown.replace("&", "&amp;") in items[key] or shown in items[key], (name, key)
    # The summary names each publisher once per source, without the sources file's annotations.
    if name.startswith("summary"):
        assert "(third party)" not in html and "generated with the report" not in html


def test_summary_sources_print_at_seven_points_or_more() -> None:
    css = (TEMPLATES / "summary.html.j2").read_text(encoding="utf-8")
    printed = css[css.index("@media print") :]
    for selector in ("ol.sources", "body", ".ref"):
        found = re.search(re.escape(selector) + r"\s*\{[^}]*font-size:\s*([\d.]+)px", printed)
        assert found is not None, selector
        assert float(found.group(1)) * 0.75 >= 7.0, (selector, found.group(1))
