"""Renders the full report and the one-page summary from Jinja2 templates, in English or French.

Every factual text goes through ``cite``: it numbers the sources in order of first use, so the Sources
list holds exactly what the page cites, and the tests can check that nothing is left uncited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from reporting.analysis import CATEGORIES
from reporting.cost import RangeLine
from reporting.decision import exit_figures, judge, matrix
from reporting.diagrams import bars, custody_layout
from reporting.facts import Text
from reporting.i18n import item, ui
from reporting.model import Column, Report

TEMPLATES = Path(__file__).resolve().parent / "templates"
SYMBOLS = {"EUR": "€", "USD": "$"}


class Citations:
    """Source numbers in order of first citation on one page."""

    def __init__(self) -> None:
        self.order: list[str] = []

    def __call__(self, ids: tuple[str, ...] | list[str]) -> list[tuple[str, int]]:
        out = []
        for ident in dict.fromkeys(ids):
            if ident not in self.order:
                self.order.append(ident)
            out.append((ident, self.order.index(ident) + 1))
        return out


def num(value: float, lang: str = "en", digits: int = 0) -> str:
    """A number with the language's grouping and decimal marks (5,000,000.0 / 5 000 000,0)."""
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\u202f").replace(".", ",") if lang == "fr" else text


def money(amount: float | None, currency: str, lang: str = "en") -> str:
    if amount is None:
        return ui("not_priced", lang)
    text = f"{amount:,.2f}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
        return f"{text}\u00a0{SYMBOLS.get(currency, currency)}"
    return f"{SYMBOLS.get(currency, currency + ' ')}{text}"


def money_range(low: float | None, high: float | None, currency: str, lang: str) -> str:
    if low is None or high is None:
        return ui("not_priced", lang)
    if low == high:
        return money(low, currency, lang)
    return f"{money(low, currency, lang)} - {money(high, currency, lang)}"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(ui=ui, num=num, money=money, money_range=money_range, CATEGORIES=CATEGORIES)
    return env


def _text(value: Text | str, lang: str) -> str:
    return value(lang) if isinstance(value, Text) else value


def _label(value: Text | str, lang: str) -> str:
    """A cost line's name: its own translation, or the bill-of-materials item translated by phrase."""
    return value(lang) if isinstance(value, Text) else item(value, lang)


def context(report: Report, lang: str) -> dict[str, Any]:
    rules = report.facts.legal.rules
    judgements = {(r.id, c.key): judge(r, c) for r in rules for c in report.columns}
    return {
        "r": report,
        "lang": lang,
        "t": lambda value: _text(value, lang) if value is not None else "",
        "label": lambda value: _label(value, lang),
        "cite": Citations(),
        "cols": report.columns,
        "rules": rules,
        "judgements": judgements,
        "matrix": matrix(report),
        "exits": {c.key: exit_figures(report, c) for c in report.columns},
        "custody": {c.key: _custody(c, lang) for c in report.columns if c.custody is not None},
        "charts": {c.key: _chart(c.cost.lines, lang) for c in report.columns},
        "scaleway_lb": _lb_types(report),
        "a": report.assumptions,
    }


def _custody(c: Column, lang: str) -> Any:
    assert c.custody is not None
    label = c.custody.store if c.custody.store != "none" else "Provider key service"
    return custody_layout(c.custody, label, (ui("key_store", lang), ui("key", lang), ui("store", lang)))


def _chart(lines: list[RangeLine], lang: str) -> list[tuple[str, Any]]:
    """One chart per currency: high end per category, every category with an unpriced line marked."""
    charts = []
    for currency in sorted({line.currency for line in lines}):
        per: dict[str, float] = {}
        incomplete: set[str] = set()
        for line in lines:
            if line.currency != currency:
                continue
            per.setdefault(line.category, 0.0)
            if line.high is None:
                incomplete.add(line.category)
            else:
                per[line.category] += line.high
        values = [
            (
                cat + (" *" if cat in incomplete else ""),
                amount,
                money(amount, currency, lang) + (" + ?" if cat in incomplete else ""),
            )
            for cat, amount in per.items()
        ]
        charts.append((currency, bars(values)))
    return charts


def _lb_types(report: Report) -> list[str]:
    return [
        str(s.get("inputs", {}).get("type", "?"))
        for c in report.columns
        if c.option is not None and c.target == "scaleway"
        for s in c.option.of_type("scaleway:loadbalancers/loadBalancer:LoadBalancer")
    ]


def render(report: Report, template: str, lang: str) -> tuple[str, list[str]]:
    """The page's HTML and the source ids it cites, in order."""
    ctx = context(report, lang)
    html = environment().get_template(template).render(**ctx)
    return html, list(ctx["cite"].order)


def render_report(report: Report, lang: str = "en") -> str:
    return render(report, "report.html.j2", lang)[0]


def render_summary(report: Report, lang: str = "en") -> str:
    return render(report, "summary.html.j2", lang)[0]
