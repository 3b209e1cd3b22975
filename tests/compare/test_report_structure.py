"""Structure of the generated report: sections, sources, figures equal to those computed."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from reporting.analysis import CATEGORIES, Assumptions, bill_of_materials, inventory, option_from_preview
from reporting.cost import price_bill
from reporting.facts import Facts
from reporting.report import NOT_AVAILABLE, SECTIONS, Report, money, render_html, total_text

Previews = dict[str, dict[str, Any]]


class Page(HTMLParser):
    """Collects ids, reference links, statement cells and external resources of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[str] = []
        self.external: list[str] = []
        self.cells: list[list[str]] = []
        self._cell: list[str] | None = None
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "a" and "ref" in (a.get("class") or ""):
            href = str(a.get("href"))
            self.refs.append(href)
            if self._cell is not None:
                self._cell.append(href)
        if tag in ("script", "img", "link", "iframe") or (tag == "link" and a.get("href")):
            self.external.append(tag)
        if tag == "td" and a.get("class") == "stmt":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.cells.append(self._cell)
            self._cell = None


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def test_every_section_present(html: str, markdown: str) -> None:
    page = parse(html)
    for key, title in SECTIONS:
        assert key in page.ids
        assert f"<h2>{title}</h2>" in html
        assert f"## {title}" in markdown


def test_self_contained_no_scripts_fonts_or_images(html: str) -> None:
    page = parse(html)
    assert page.external == []
    assert "@import" not in html and "url(" not in html and "@font-face" not in html
    assert page.tags.count("svg") >= 4  # a custody diagram and a cost chart per option


def test_every_statement_cell_cites_a_source_that_resolves(html: str, markdown: str) -> None:
    page = parse(html)
    assert page.cells, "no statement cells"
    for cell in page.cells:
        assert cell, "a statement cell has no source reference"
    for href in page.refs:
        assert href.startswith("#src-") and href[1:] in page.ids
    for anchor in re.findall(r"\]\(#(src-[\w-]+)\)", markdown):
        assert f'<a id="{anchor}"></a>' in markdown


def test_summary_has_one_column_per_option_and_every_row(html: str, report: Report) -> None:
    assert len(report.columns) == 2
    for row in (
        "Where data is stored",
        "Jurisdictions",
        "Who holds the keys",
        "decrypt data at rest",
        "read data in use",
        "Kill switch",
        "Certifications",
        "Policy results",
        "Estimated monthly cost",
        "Reversibility",
    ):
        assert row in html
    assert "CLOUD Act" in html and "FISA" in html
    assert "the booking service stops" in html  # XKS unavailability, said plainly


def test_costs_in_report_equal_computed(
    html: str, markdown: str, report: Report, previews: Previews, facts: Facts
) -> None:
    for column in report.columns:
        option = option_from_preview(column.option.stack, previews[column.option.stack])
        book = facts.price_book(facts.targets[option.target].provider)
        bill = price_bill(option.stack, bill_of_materials(option, Assumptions()), book)
        expected = money(bill.total, book.currency)
        assert column.total == bill.total
        assert f'data-stack="{option.stack}">{expected}</span>' in html
        assert f"{total_text(column)} per month" in markdown
        assert total_text(column).startswith(expected)
        for extra in column.extra_bills:  # the key store: its own bill, its own currency
            assert f'data-stack="{extra.stack}">{money(extra.total, extra.currency)}</span>' in html
            assert f"{money(extra.total, extra.currency)} (French key store {extra.stack})" in total_text(
                column
            )
        amounts = re.findall(rf'class="num amount" data-stack="{option.stack}">([^<]+)<', html)
        assert amounts == [
            ("not priced" if line.amount is None else money(line.amount, book.currency))
            for line in bill.lines
        ]


def test_inventory_counts_equal_preview(html: str, report: Report, previews: Previews) -> None:
    for column in report.columns:
        counts = inventory(option_from_preview(column.option.stack, previews[column.option.stack]))
        for category in CATEGORIES:
            expected = sum(counts[category].values())
            assert (f'data-stack="{column.option.stack}" data-category="{category}">{expected}</b>') in html
        assert sum(sum(c.values()) for c in counts.values()) == len(column.option.cloud_resources)


def test_key_custody_from_preview(report: Report, previews: Previews) -> None:
    aws = next(c for c in report.columns if c.option.target == "aws")
    kms_keys = [s for s in aws.option.states if s["type"] == "aws:kms/key:Key"]
    assert len(aws.custody.keys) == len(kms_keys) == 5
    assert all("HSM in France" in k.where for k in aws.custody.keys)
    database = next(k for k in aws.custody.keys if k.domain == "database")
    assert any("booking-db-postgres" in s for s in database.protects)
    assert "EXTERNAL_KEY_STORE" in aws.custody.store
    scw = next(c for c in report.columns if c.option.target == "scaleway")
    assert any("booking-database-postgres" in s for s in scw.custody.unkeyed)  # provider-managed key


def test_policy_results_match_audit(html: str, report: Report, previews: Previews) -> None:
    try:
        from policies.audit import audit_preview
    except ImportError:
        assert NOT_AVAILABLE in html
        return
    for column in report.columns:
        result = audit_preview(previews[column.option.stack], column.option.stack)
        assert column.policy is not None
        assert column.policy.rules == len(result.rules_evaluated)
        assert len(column.policy.excepted) == len(result.excepted)
        assert len(column.policy.failed) == len(result.failed)
        for finding in result.excepted:
            assert finding.rule_id in html


def test_policy_results_absent_says_so(previews: Previews, facts: Facts) -> None:
    from reporting.report import build

    report = build(previews, facts, Assumptions(), lambda _d, _s: None, generated="2026-11-23")
    html = render_html(report)
    assert html.count(NOT_AVAILABLE) >= 4  # summary cell and policy section, per option
