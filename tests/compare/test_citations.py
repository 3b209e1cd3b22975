"""Every claim cited: no uncited factual sentence, no source listed but never cited, every source dated."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from reporting.facts import Facts

BLOCKS = {"p", "td", "li", "th"}
EXEMPT = {"ui", "source"}  # interface text, and the Sources list itself


class Sentences(HTMLParser):
    """Collects the text of each block element inside <main>: whether it (or its table row) holds a
    source link, and whether it sits in interface text."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, set[str]]] = []
        self.blocks: list[dict[str, Any]] = []
        self.current: list[dict[str, Any]] = []
        self.rows: list[dict[str, bool]] = []
        self.in_main = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        self.open.append((tag, classes))
        if tag == "main":
            self.in_main = True
        if tag == "tr":
            self.rows.append({"ref": False})
        if tag in BLOCKS and self.in_main:
            exempt = any(c & EXEMPT for _t, c in self.open)
            block = {
                "text": [],
                "ref": False,
                "exempt": exempt,
                "row": self.rows[-1] if self.rows and tag in ("td", "th") else None,
            }
            self.current.append(block)
            self.blocks.append(block)
        if tag == "a" and "ref" in classes:
            for block in self.current:
                block["ref"] = True
            if self.rows:
                self.rows[-1]["ref"] = True

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open[-1][0] != tag:
            self.open.pop()
        if self.open:
            self.open.pop()
        if tag in BLOCKS and self.current:
            self.current.pop()
        if tag == "tr" and self.rows:
            self.rows.pop()

    def handle_data(self, data: str) -> None:
        for block in self.current:
            block["text"].append(data)


def uncited(html: str) -> list[str]:
    """Factual sentences (a full stop and at least six words) outside interface text, with no source in
    the element or in its table row."""
    parser = Sentences()
    parser.feed(html)
    out = []
    for block in parser.blocks:
        text = " ".join("".join(block["text"]).split())
        cited = block["ref"] or (block["row"] is not None and block["row"]["ref"])
        if not cited and not block["exempt"] and len(text.split()) >= 6 and re.search(r"\w[.;]( |$)", text):
            out.append(text)
    return out


@pytest.mark.parametrize("name", ["compare", "compare.fr", "summary", "summary.fr"])
def test_no_uncited_factual_sentence(pages: dict[str, tuple[str, list[str]]], name: str) -> None:
    assert uncited(pages[name][0]) == []


def test_detector_finds_an_uncited_sentence(pages: dict[str, tuple[str, list[str]]]) -> None:
    html = pages["compare"][0].replace("</main>", "<p>AWS keeps every key in France at all times.</p></main>")
    assert uncited(html) == ["AWS keeps every key in France at all times."]


@pytest.mark.parametrize("name", ["compare", "compare.fr"])
def test_every_listed_source_is_cited_in_the_full_report(
    pages: dict[str, tuple[str, list[str]]], facts: Facts, name: str
) -> None:
    html, cited = pages[name]
    assert sorted(set(facts.sources) - set(cited)) == []
    listed = re.findall(r'<li id="src-([\w-]+)"', html)
    assert listed == cited  # the Sources list is exactly what the page cites, in order


def test_every_reference_resolves_to_a_listed_source(pages: dict[str, tuple[str, list[str]]]) -> None:
    for html, _cited in pages.values():
        targets = set(re.findall(r'href="#src-([\w-]+)"', html))
        listed = set(re.findall(r'<li id="src-([\w-]+)"', html))
        assert targets <= listed


def test_every_public_source_has_a_retrieval_date(facts: Facts) -> None:
    for key, source in facts.sources.items():
        if source.url.startswith("http"):
            assert re.match(r"^\d{4}-\d{2}-\d{2}", source.retrieved), key
