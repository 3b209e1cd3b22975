"""What a cabinet must find: the decision, one answer per option, two tables with two vocabularies, the
summary's parts, gaps named, exceptions grouped."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from reporting.answer import answers
from reporting.diagrams import PRINT_WIDTH
from reporting.facts import Facts
from reporting.model import Report, build
from reporting.render import render


def test_every_option_has_its_answer_on_every_page(
    pages: dict[str, tuple[str, list[str]]], report: Report
) -> None:
    found = answers(report)
    for name, (html, _cited) in pages.items():
        for key, ans in found.items():
            assert f'class="fact answer" data-option="{key}" data-answer="{ans.verdict}"' in html, (name, key)


def test_requirements_and_exposures_use_their_own_vocabularies(
    pages: dict[str, tuple[str, list[str]]], facts: Facts
) -> None:
    for name in ("compare", "compare.fr"):
        html = pages[name][0]
        statuses = re.findall(
            r'class="fact requirement" data-option="\w" data-requirement="[\w-]+" data-status="([\w-]+)"',
            html,
        )
        assert len(statuses) == 3 * len(facts.legal.requirements)
        assert set(statuses) <= {"compliant", "compliant-under-conditions", "not-compliant"}
        exposures = re.findall(
            r'class="fact exposure" data-option="\w" data-law="[\w-]+" data-status="([\w-]+)"', html
        )
        assert len(exposures) == 3 * len(facts.legal.exposures)
        assert set(exposures) <= {"exposed", "exposed-under-conditions", "not-exposed"}
    text = pages["compare"][0] + pages["summary"][0]
    assert "dmissible" not in text and "recevable" not in pages["compare.fr"][0].lower()
    assert "Conforme sous conditions" in pages["compare.fr"][0] and "Exposé" in pages["compare.fr"][0]


def test_summary_has_the_parts_a_cabinet_needs(pages: dict[str, tuple[str, list[str]]], facts: Facts) -> None:
    for name, heads in (
        (
            "summary",
            (
                "The decision asked",
                "Recommendation",
                "Fallback",
                "If nothing is decided",
                "The answer per option",
                "Three facts",
                "Monthly cost",
                "matrix",
                "Sources",
            ),
        ),
        (
            "summary.fr",
            (
                "La décision demandée",
                "Recommandation",
                "Solution de repli",
                "À défaut de décision",
                "La réponse par option",
                "Trois faits",
                "Coût mensuel",
                "Matrice",
                "Sources",
            ),
        ),
    ):
        html = pages[name][0]
        for head in heads:
            assert head in html, (name, head)
        assert len(re.findall(r'class="num score fact"', html)) == 3
        for point in facts.summary.must_know:
            assert point(name.partition(".")[2] or "en").split(" ")[0] in html
        # No resource type names on the cabinet's page.
        assert not re.search(r"\b(aws|scaleway|gcp):[a-z]", html)
        assert not re.search(r"\b\d+ (Bucket|Service|DatabaseInstance|ForwardingRule)\b", html)


def test_the_recommendation_is_on_both_pages(pages: dict[str, tuple[str, list[str]]], facts: Facts) -> None:
    option = facts.decision.decision.recommended.option
    for html, _cited in pages.values():
        assert f'class="fact recommendation" data-option="{option}"' in html


def test_an_incomplete_cost_is_shown_from_its_priced_part(
    pages: dict[str, tuple[str, list[str]]], report: Report
) -> None:
    for name, word in (("summary", "from"), ("summary.fr", "à partir de")):
        html = pages[name][0]
        for column in report.columns:
            cell = re.search(
                rf'class="fact cost-total" data-option="{column.key}" data-complete="(yes|no)">(.*?)</td>',
                html,
                re.S,
            )
            assert cell is not None
            total = column.cost.in_eur(report.facts.exchange_rates)
            assert cell.group(1) == ("yes" if total.complete else "no")
            if not total.complete:
                assert cell.group(2).startswith(word) and "Total" not in cell.group(2)


def test_exceptions_are_grouped_one_entry_per_register_entry(
    pages: dict[str, tuple[str, list[str]]], report: Report
) -> None:
    html = pages["compare"][0]
    for column in report.columns:
        if column.policy is None:
            continue
        entries = {(f["rule_id"], f.get("justification")) for f in column.policy.excepted}
        section = html.split(f"<h3>{column.definition.label.en}</h3>")[-1].split("</table>")[0]
        assert (
            section.count('<tr class="exception">')
            == len(entries) + len({f["rule_id"] for f in column.policy.failed})
            or not entries
        )
    assert "code marker" not in pages["summary"][0]


def test_conseil_detat_ruling_is_stated_as_a_rejection(pages: dict[str, tuple[str, list[str]]]) -> None:
    assert "was rejected" in pages["compare"][0] and "urgency" in pages["compare"][0]
    assert "a été rejetée" in pages["compare.fr"][0]


def test_no_developer_jargon_in_the_full_report(pages: dict[str, tuple[str, list[str]]]) -> None:
    for name in ("compare", "compare.fr"):
        text = re.sub(r"<code[^>]*>.*?</code>|<a [^>]*>.*?</a>|<[^>]+>", " ", pages[name][0], flags=re.S)
        for word in (
            "code marker",
            "deletes this entry",
            "providers.yaml",
            "weights.yaml",
            "exceptions.yaml",
        ):
            assert word not in text, (name, word)


def test_identifiers_do_not_break_mid_word_and_diagrams_share_one_text_size(
    pages: dict[str, tuple[str, list[str]]],
) -> None:
    html = pages["compare"][0]
    assert re.search(r"code\.id \{[^}]*overflow-wrap: normal", html)
    assert '<code class="id">' in html
    widths = set(re.findall(r'<svg[^>]*class="custody"[^>]*viewBox="0 0 ([\d.]+) ', html))
    assert len(widths) == 1, widths  # one width, so every diagram is scaled alike


# A4 width less the 11 mm margins of the print stylesheet, in CSS px (96 per inch).
PRINTABLE_PX = (210 - 2 * 11) / 25.4 * 96


@pytest.mark.parametrize("name", ["compare", "compare.fr"])
def test_every_diagram_prints_unscaled_so_its_text_keeps_one_size(
    pages: dict[str, tuple[str, list[str]]], name: str
) -> None:
    """A drawing wider than the printed page is scaled down to fit (max-width: 100 %), and its text with
    it: option A's key diagram, the widest, printed smaller than B's and C's and than the cost charts.
    Every diagram (key custody and cost) must fit the printable width at its own size, and its text
    classes share one font size."""
    html = pages[name][0]
    assert re.search(r"@page \{ size: A4; margin: 11mm; \}", html)
    svgs = re.findall(
        r'<svg[^>]*class="(custody|chart)"[^>]*width="([\d.]+)"[^>]*viewBox="0 0 ([\d.]+) ', html
    )
    assert {kind for kind, _w, _v in svgs} == {"custody", "chart"}
    for kind, width, view in svgs:
        assert float(width) == float(view), (kind, width, view)  # drawn at 1 user unit per px
        assert float(width) <= PRINT_WIDTH <= PRINTABLE_PX, (kind, width)
    sizes = set(re.findall(r"svg \.(?:s|l)\b[^{]*\{ font: (\d+)px", html))
    assert len(sizes) == 1, sizes


def test_cost_left_out_of_the_matrix_is_said_in_its_row_and_named_per_option(
    pages: dict[str, tuple[str, list[str]]], report: Report
) -> None:
    """Cost at 0 % is a deliberate rule, not a hole: each cell of its row says "not scored", and the
    note names every option whose total is incomplete and the weight cost takes once all are complete."""
    incomplete = [c for c in report.columns if not c.cost.in_eur(report.facts.exchange_rates).complete]
    assert incomplete  # the shipped data: no option has a complete total yet
    for name, (word, pct) in {
        "compare": ("not scored", "10 %"),
        "summary": ("not scored", "10 %"),
        "compare.fr": ("non noté", "10\u00a0%"),
        "summary.fr": ("non noté", "10\u00a0%"),
    }.items():
        html = pages[name][0]
        cells = re.findall(r'<td class="num" data-scored="no">([^<]*)</td>', html)
        assert cells == [word] * len(report.columns), (name, cells)
        note = re.search(r'class="[^"]*cost-withheld[^"]*">(.*?)</(?:p|span)>', html, re.S)
        assert note is not None, name
        text = note.group(1).replace("\u202f", " ").replace("\u00a0", " ")
        named = (
            [
                f"{c.definition.short.fr if name.endswith('.fr') else c.definition.short.en} ("
                for c in incomplete
            ]
            if name.startswith("compare")
            else [", ".join(c.key for c in incomplete) + ")"]
        )
        for option in named:
            assert option in text.replace("&amp;", "&"), (name, option)
        assert pct.replace("\u00a0", " ") in text, name


def test_no_resource_type_name_on_the_summary(
    pages: dict[str, tuple[str, list[str]]], report: Report
) -> None:
    """Every type the previews hold (aws:kms/key:Key, Bucket, ForwardingRule, LogGroup...) is kept off
    the cabinet's page: no full token, no CamelCase type name, and no plain one used as a label
    ("(Bucket)", "3 Bucket")."""
    types = {
        s["type"] for c in report.columns if c.option is not None for s in c.option.states if ":" in s["type"]
    }
    names = {t.rsplit(":", 1)[-1] for t in types}
    assert {"Bucket", "ForwardingRule", "Key"} <= names

    def found(page: str) -> list[str]:
        text = re.sub(r"<a [^>]*>.*?</a>|<[^>]+>", " ", pages[page][0], flags=re.S)
        hits = [token for token in types if token in text]
        for type_name in names:
            if (re.search(r"[a-z][A-Z]", type_name) and re.search(rf"\b{type_name}\b", text)) or re.search(
                rf"\({type_name}\)|\b\d+ {type_name}\b", text
            ):
                hits.append(type_name)
        return hits

    assert found("summary") == [] and found("summary.fr") == []
    assert found("compare")  # the full report's key diagrams name each data store's type: the check sees it


def test_the_same_stacks_give_the_same_pages_whatever_order_the_preview_lists_them(
    previews: dict[str, Any], report: Report
) -> None:
    """A preview lists resources in registration order, which varies between runs: the pages must not
    (diagrams, cost lines and exception lists once changed order from one `make compare` to the next)."""
    reversed_previews = {k: {**d, "steps": list(reversed(d["steps"]))} for k, d in previews.items()}
    policies = {
        c.definition.stack: dataclasses.replace(
            c.policy, failed=list(reversed(c.policy.failed)), excepted=list(reversed(c.policy.excepted))
        )
        for c in report.columns
        if c.policy is not None
    }
    again = build(
        reversed_previews,
        report.facts,
        report.assumptions,
        lambda _d, stack, _r: policies[stack],
        generated="2026-12-02",
    )
    for template in ("report.html.j2", "summary.html.j2"):
        for lang in ("en", "fr"):
            assert render(again, template, lang) == render(report, template, lang), (template, lang)
