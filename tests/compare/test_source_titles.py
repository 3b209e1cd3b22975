"""Sources an auditor can follow, in French as a French administration writes it: every printed source
shows the document's own title (in its own language, between the page language's quotation marks), and
what the report takes from it (``note``) is given in both languages, the French one with French
typography (no-break space before ; : ? !, « » with no-break spaces inside, no straight double quotes)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from reporting.facts import Facts, FactsError, load_sources
from reporting.render import SHORT_TITLE, cited_title

NBSP = "\u00a0\u202f"


def typography_faults(text: str) -> list[str]:
    """What breaks French typography in ``text``: the offending excerpts (empty when it is clean)."""
    faults = [m.group(0) for m in re.finditer(rf".{{0,12}}[^{NBSP}][;:?!](?=\s|$)", text)]
    faults += [m.group(0) for m in re.finditer(rf".{{0,12}}(?:«[^{NBSP}]|[^{NBSP}]»)", text)]
    faults += [m.group(0) for m in re.finditer(r'.{0,12}"', text)]
    return faults


def sources_list(page: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'<li id="src-([\w-]+)"[^>]*>(.*?)</li>', page, re.S)}


@pytest.mark.parametrize("name", ["compare", "compare.fr", "summary", "summary.fr"])
def test_every_printed_source_shows_its_own_title(
    pages: dict[str, tuple[str, list[str]]], facts: Facts, name: str
) -> None:
    lang = "fr" if name.endswith(".fr") else "en"
    limit = SHORT_TITLE if name.startswith("summary") else None
    items = sources_list(pages[name][0])
    assert items
    public = [key for key in items if facts.sources[key].url.startswith("http")]
    assert public, name
    for key in public:
        source = facts.sources[key]
        shown = cited_title(source.title, lang, limit)
        assert f'<cite class="title">{shown}</cite>' in items[key], (name, key)
        if limit is None and source.note is not None:
            # The full report says, in the page's language, what the report takes from the source.
            assert source.note(lang) in items[key], (name, key)
            assert source.note("en" if lang == "fr" else "fr") not in items[key], (name, key)


def test_a_french_page_without_titles_is_caught(
    pages: dict[str, tuple[str, list[str]]], facts: Facts
) -> None:
    """The check above fails on the French report as it was printed before titles (publisher only)."""
    stripped = re.sub(r'<cite class="title">.*?</cite>\.?', "", pages["compare.fr"][0])
    items = sources_list(stripped)
    key = next(k for k in items if facts.sources[k].url.startswith("http"))
    assert cited_title(facts.sources[key].title, "fr") not in items[key]


def test_short_titles_are_cut_at_a_word_and_marked() -> None:
    title = "Prestataires de services d'informatique en nuage (SecNumCloud)"
    short = cited_title(title, "fr", 40)
    assert short == "«\u00a0Prestataires de services d'informatique\u2026\u00a0»"
    assert cited_title("Reaching for the Cloud", "en", 40) == "\u201cReaching for the Cloud\u201d"


def test_every_note_is_in_both_languages_and_french_notes_follow_french_typography(facts: Facts) -> None:
    noted = {key: s.note for key, s in facts.sources.items() if s.note is not None}
    # The note is optional (a source added without one prints its title alone), but the sources file uses
    # it: a check that found no note at all would check nothing.
    assert len(noted) >= len(facts.sources) // 2
    for key, note in noted.items():
        assert note.en.strip() and note.fr.strip(), key
        assert note.en != note.fr, key
        assert typography_faults(note.fr) == [], (key, typography_faults(note.fr))


@pytest.mark.parametrize(
    "bad",
    [
        "Tarif : 1 € par mois.",
        "Trois règles ; une exception.",
        "Publié le 5 décembre 2026 !",
        "Une offre « de confiance».",
        "Une offre «\u00a0de confiance ».",
        'Une offre "de confiance".',
    ],
)
def test_the_typography_check_catches_each_fault(bad: str) -> None:
    assert typography_faults(bad), bad
    assert (
        typography_faults(
            "Tarif\u00a0: 1\u00a0€ ; offre «\u00a0de confiance\u00a0» ?".replace(" ;", "\u202f;").replace(
                " ?", "\u202f?"
            )
        )
        == []
    )


SOURCE = """sources:
  demo:
    title: "Demo"
    url: https://example.org/demo
    publisher: Example
    retrieved: "2026-12-05 (stored copy)"
"""


@pytest.mark.parametrize(
    ("note", "field"),
    [
        ('    note:\n      en: "What it says."\n', "sources.demo.note.fr"),
        ('    note:\n      fr: "Ce qu\'il dit."\n', "sources.demo.note.en"),
        ('    note:\n      en: "What it says."\n      fr: ""\n', "sources.demo.note.fr"),
        ('    note:\n      en: "a"\n      fr: "b"\n      de: "c"\n', "sources.demo.note.de"),
        ('    note: "What it says."\n', "sources.demo.note"),
        ('    comment: "What it says."\n', "sources.demo.comment"),
    ],
)
def test_a_note_without_both_languages_or_an_unknown_key_is_refused(
    tmp_path: Path, note: str, field: str
) -> None:
    (tmp_path / "facts").mkdir()
    (tmp_path / "facts" / "sources.yaml").write_text(SOURCE + note, encoding="utf-8")
    with pytest.raises(FactsError, match=re.escape(field)):
        load_sources(tmp_path)
    (tmp_path / "facts" / "sources.yaml").write_text(
        SOURCE + '    note:\n      en: "What it says."\n      fr: "Ce qu\'il dit."\n', encoding="utf-8"
    )
    assert load_sources(tmp_path)["demo"].note is not None


def test_a_source_that_is_no_mapping_is_named_with_what_is_allowed(tmp_path: Path) -> None:
    (tmp_path / "facts").mkdir()
    (tmp_path / "facts" / "sources.yaml").write_text('sources:\n  demo: "Demo"\n', encoding="utf-8")
    with pytest.raises(
        FactsError, match=re.escape("sources.demo: must be a mapping with title, url")
    ) as error:
        load_sources(tmp_path)
    assert "optional note {en, fr}" in str(error.value)


def test_a_source_or_note_given_twice_is_refused(tmp_path: Path) -> None:
    """A merge that repeats an id or a note must not silently keep the last one."""
    (tmp_path / "facts").mkdir()
    twice = SOURCE + '    note:\n      en: "a"\n      fr: "b"\n    note:\n      en: "c"\n      fr: "d"\n'
    (tmp_path / "facts" / "sources.yaml").write_text(twice, encoding="utf-8")
    with pytest.raises(FactsError, match="key 'note' given twice"):
        load_sources(tmp_path)
    (tmp_path / "facts" / "sources.yaml").write_text(SOURCE + SOURCE.split("\n", 1)[1], encoding="utf-8")
    with pytest.raises(FactsError, match="key 'demo' given twice"):
        load_sources(tmp_path)
