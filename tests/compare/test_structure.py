"""What a ministry must find: every rule for every option, the summary's four parts, gaps named."""

from __future__ import annotations

import re

from reporting.facts import Facts
from reporting.model import Report


def test_every_rule_has_a_verdict_for_every_option(
    pages: dict[str, tuple[str, list[str]]], facts: Facts
) -> None:
    for name in ("compare", "compare.fr", "summary", "summary.fr"):
        html = pages[name][0]
        for rule in facts.legal.rules:
            for option in ("A", "B", "C"):
                cell = re.search(
                    rf'data-option="{option}" (?:data-rule="{rule.id}" )?data-verdict="([a-z-]+)"', html
                )
                assert cell is not None, (name, rule.id, option)
        assert len(re.findall(r'class="fact verdict"', html)) == 3 * len(facts.legal.rules)


def test_summary_has_the_four_parts(pages: dict[str, tuple[str, list[str]]], facts: Facts) -> None:
    for name, heads in (
        ("summary", ("Three things a minister must know", "Verdict per rule", "Monthly cost", "matrix")),
        ("summary.fr", ("Trois choses", "Verdict par règle", "Coût mensuel", "Matrice")),
    ):
        html = pages[name][0]
        for head in heads:
            assert head in html, (name, head)
        assert len(re.findall(r'class="num score"', html)) == 3
        for point in facts.summary.must_know:
            assert point(name.partition(".")[2] or "en") in html.replace("&#39;", "'")


def test_unpriced_material_lines_are_named_next_to_the_figures(
    pages: dict[str, tuple[str, list[str]]], report: Report
) -> None:
    html = pages["summary"][0]
    for column in report.columns:
        cell = re.search(
            rf'class="fact cost-total" data-option="{column.key}" data-complete="(yes|no)">(.*?)</td>',
            html,
            re.S,
        )
        assert cell is not None
        assert cell.group(1) == ("yes" if column.cost.complete else "no")
        for line in column.cost.material_unpriced:
            label = line.label if isinstance(line.label, str) else line.label.en
            assert label.replace("'", "&#39;") in cell.group(2)
        if not column.cost.complete:
            assert "NOT a total" in cell.group(2)


def test_conseil_detat_ruling_is_stated_as_a_rejection(pages: dict[str, tuple[str, list[str]]]) -> None:
    assert "was rejected" in pages["compare"][0] and "urgency" in pages["compare"][0]
    assert "a été rejetée" in pages["compare.fr"][0]
