"""Every source an auditor can follow: a real address (a public URL, or a file of this repository), no
proxy host, a dated retrieval, no duplicate, each printed with its URL and readable in the PDF."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from reporting.facts import Facts, Source
from reporting.render import TEMPLATES

ROOT = Path(__file__).resolve().parents[2]
# Hosts that serve someone else's page (web proxies, caches, translation and mirror front-ends): a
# source must be cited at its publisher's own address.
PROXY_MARKERS = ("rproxy", "goskope", "proxy.", "webcache", "translate.goog", "movatter.jp", "appspot.com")


def source_problems(sources: dict[str, Source]) -> list[str]:
    """Every reason a source cannot be followed by an auditor, one line each (empty: all good)."""
    problems = []
    for key, source in sources.items():
        if source.url.startswith(("http://", "https://")):
            host = urlsplit(source.url).netloc.lower()
            if not host or "." not in host:
                problems.append(f"{key}: no host in {source.url}")
            if any(m in host for m in PROXY_MARKERS):
                problems.append(f"{key}: proxy host {host}")
            if not re.match(r"^20\d\d-\d\d-\d\d", source.retrieved):
                problems.append(f"{key}: retrieval not dated: {source.retrieved!r}")
        elif "://" in source.url or not (ROOT / source.url).is_file():
            problems.append(f"{key}: neither an http(s) URL nor a file of this repository: {source.url}")
        if any(m in source.retrieved.lower() for m in PROXY_MARKERS):
            problems.append(f"{key}: proxy host in the retrieval note")
        if re.search(r"\(\s*\)|\(generated\s*\)", source.retrieved):
            problems.append(f"{key}: empty date or note in {source.retrieved!r}")
    urls = [s.url.rstrip("/") for s in sources.values()]
    problems += [f"duplicate URL {u}" for u in sorted({u for u in urls if urls.count(u) > 1})]
    # Two publishers may title a page alike (EPIC's and the PCLOB's "Executive Order 12333"): a source is
    # its title as one publisher issued it.
    titles = [(s.title.casefold(), s.publisher.casefold()) for s in sources.values()]
    problems += [f"duplicate title {t}" for t in sorted({t for t in titles if titles.count(t) > 1})]
    return problems


def test_every_source_can_be_followed(facts: Facts) -> None:
    assert source_problems(facts.sources) == []


def _mutant(facts: Facts, key: str, **changes: str) -> dict[str, Source]:
    sources = dict(facts.sources)
    sources[key] = sources[key].model_copy(update=changes)
    return sources


@pytest.mark.parametrize(
    "changes",
    [
        {"url": "https://www.legifrance.gouv.fr.movatter.jp/jorf/id/JORFTEXT000049563368"},
        {"url": "https://legifrance-mirror.appspot.com/jorf/id/JORFTEXT000049563368"},
        {"url": "https://rproxy.example.org/legifrance/jorf"},
        {"url": "ftp://www.legifrance.gouv.fr/jorf"},
        {"url": "reporting/no_such_file.py"},
        {"retrieved": "2026-12-05 (stored copy via webcache.googleusercontent.com)"},
        {"retrieved": "2026-12-05 (generated )"},
        {"retrieved": "stored copy"},
    ],
)
def test_the_source_check_refuses_a_bad_source(facts: Facts, changes: dict[str, str]) -> None:
    key = next(k for k, s in facts.sources.items() if s.url.startswith("https://"))
    assert source_problems(_mutant(facts, key, **changes)) != []


def test_the_source_check_refuses_duplicates(facts: Facts) -> None:
    first, second = [k for k, s in facts.sources.items() if s.url.startswith("https://")][:2]
    by_url = _mutant(facts, second, url=facts.sources[first].url + "/")
    by_title = _mutant(
        facts, second, title=facts.sources[first].title.upper(), publisher=facts.sources[first].publisher
    )
    assert any("duplicate URL" in p for p in source_problems(by_url))
    assert any("duplicate title" in p for p in source_problems(by_title))


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
