"""French as a French administration writes it: typography, locale formats through Babel, every French
string from the French catalogue (no English fallback), and sovereignty said."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from reporting.i18n import UI
from reporting.render import french_typography, long_date, money, num


class Text(HTMLParser):
    """The text a reader sees: outside tags, links, code, styles and the sources list."""

    SKIP = frozenset({"style", "script", "a", "code", "title"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.skip_sources = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)
        if tag == "ol" and "sources" in (dict(attrs).get("class") or ""):
            self.skip_sources += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "ol" and self.skip_sources:
            self.skip_sources -= 1
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if not self.skip_sources and not (self.SKIP & set(self.stack)):
            self.parts.append(data)


def visible(html: str) -> str:
    parser = Text()
    parser.feed(html)
    return " ".join(parser.parts)


@pytest.mark.parametrize("name", ["summary.fr", "compare.fr"])
def test_no_break_space_before_double_punctuation(pages: dict[str, tuple[str, list[str]]], name: str) -> None:
    text = visible(pages[name][0])
    assert not re.search(r"[^\u00a0\u202f]:(\s|$)", text.replace("http:", "").replace("https:", "")), (
        re.findall(r".{20}[^\u00a0\u202f]:\s", text)[:3]
    )
    assert not re.search(r"[^\u202f][;?!](\s|$)", text), re.findall(r".{20}[^\u202f][;?!]\s", text)[:3]
    assert "« " not in text and " »" not in text


def test_typography_leaves_links_and_entities_alone() -> None:
    page = '<p>Note: voir <a href="https://x.fr/a?b=1;c">https://x.fr/a?b=1;c</a> &amp; « ici » !</p>'
    out = french_typography(page)
    assert 'href="https://x.fr/a?b=1;c">https://x.fr/a?b=1;c</a>' in out
    assert "Note\u00a0:" in out and "&amp;" in out and "«\u00a0ici\u00a0»" in out and "\u202f!" in out


def test_numbers_dates_and_money_come_from_the_locale() -> None:
    assert num(5_000_000, "fr") == "5\u202f000\u202f000"
    assert num(1460.5, "fr", 2) == "1\u202f460,50"
    assert money(1460, "EUR", "fr") == "1\u202f460,00\u00a0€"
    assert long_date("2026-12-05", "fr") == "5 décembre 2026"
    assert long_date("2026-12-05", "en") == "5 December 2026"


def test_every_interface_string_has_its_own_french() -> None:
    same = {key for key, (en, fr) in UI.items() if en == fr}
    # Words that are the same in both languages.
    assert same <= {
        "conditions",
        "condition",
        "s_sources",
        "option",
        "policy",
        "cat_support",
        "rank_n",
        "justification",
    }, same


@pytest.mark.parametrize("name", ["summary.fr"])
def test_no_english_fallback_on_the_french_summary(
    pages: dict[str, tuple[str, list[str]]], name: str
) -> None:
    text = visible(pages[name][0])
    english = {en for en, fr in UI.values() if en != fr and len(en) > 12}
    assert [e for e in english if e in text] == []
    for word in (" the ", " and ", " not ", " from ", " lines ", "priced", " of the "):
        assert word not in text, word


@pytest.mark.parametrize("name", ["summary.fr", "compare.fr"])
def test_sovereignty_is_said(pages: dict[str, tuple[str, list[str]]], name: str) -> None:
    assert "souveraineté" in pages[name][0].lower() or "souverain" in pages[name][0].lower()
    assert "2026-12-05" not in visible(pages[name][0])


def test_french_vocabulary(pages: dict[str, tuple[str, list[str]]]) -> None:
    text = visible(pages["compare.fr"][0]) + visible(pages["summary.fr"][0])
    for avoided in (
        "interrupteur",
        "la pile",
        "Recevab",
        "recevable",
        "Charge :",
        "Généré le",
        " GB ",
        "1,460.00",
    ):
        assert avoided not in text, avoided
    assert "de Amazon" not in text and "d'Amazon Web Services" in text
    assert "coupe-circuit" in text and "hébergement" in text.lower() and "environnement" in text
