"""Renders the full report and the one-page summary from Jinja2 templates, in English or French.

Every factual text goes through ``cite``: it numbers the sources in order of first use, so the Sources
list holds exactly what the page cites, and the tests can check that nothing is left uncited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html as html_lib
import re
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_compact_decimal, format_currency, format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reporting.analysis import CATEGORIES
from reporting.answer import Answer, answers, check_decision, short_name
from reporting.cost import RangeLine
from reporting.decision import exit_figures, matrix
from reporting.diagrams import Diagram, bars, custody_layout
from reporting.facts import ExchangeRate, Text
from reporting.i18n import CURRENCY_NAMES, PUBLISHERS_FR, UI, custody_text, item, ui
from reporting.justifications import french
from reporting.model import Column, Report

TEMPLATES = Path(__file__).resolve().parent / "templates"


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


LOCALES = {"en": "en_GB", "fr": "fr_FR"}


def num(value: float, lang: str = "en", digits: int = 0) -> str:
    """A number in the language's locale (Babel): 5,000,000.0 / 5 000 000,0."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=LOCALES.get(lang, "en_GB"))


def count_words(value: float, lang: str = "en") -> str:
    """A large count in words where the locale has them (Babel): '5 million' / '5 millions'."""
    if value >= 1_000_000 and value % 100_000 == 0:
        return format_compact_decimal(
            value, format_type="long", fraction_digits=1, locale=LOCALES.get(lang, "en_GB")
        )
    return num(value, lang)


def publisher(name: str, lang: str = "en") -> str:
    """The publisher's name without the annotations the sources file adds ('(third party)', a date); an
    institution by its own French name on a French page."""
    short = name.split(" (", maxsplit=1)[0].split(", ", maxsplit=1)[0].strip()
    return PUBLISHERS_FR.get(short, short) if lang == "fr" else short


def counted(n: int, key: str, lang: str) -> str:
    """A count with its noun in the right number: English singular for 1, French for 0 and 1."""
    single = n < 2 if lang == "fr" else n == 1
    return ui(f"{key}_1" if single else key, lang, n=num(n, lang))


def policy_line(policy: Any, lang: str) -> str:
    """An audit's verdict and counts, each noun agreeing with its count."""
    return ui(
        "policy_line",
        lang,
        verdict=ui("passed" if policy.passed else "FAILED", lang),
        rules=counted(policy.rules, "n_rules", lang),
        failed=counted(len(policy.failed), "n_failed", lang),
        excepted=counted(len(policy.excepted), "n_excepted", lang),
        advisory=counted(len(policy.advisory), "n_advisory", lang),
    )


#: Characters of a source's title the one-page summary prints (the full report prints it whole).
SHORT_TITLE = 40

#: Quotation marks around a cited document's title, by report language.
_QUOTES = {"fr": ("\u00ab\u00a0", "\u00a0\u00bb"), "en": ("\u201c", "\u201d")}


def cited_title(title: str, lang: str, limit: int | None = None) -> str:
    """A source's own title between the language's quotation marks (« … » / “…”), in the document's own
    language as a bibliography cites it; with ``limit``, a short title cut at a word and marked '…' (the
    one-page summary), never a rewording."""
    if limit is not None and len(title) > limit:
        cut = title[: limit + 1].rsplit(" ", maxsplit=1)[0] if " " in title[:limit] else title[:limit]
        title = cut.rstrip(" ,;:.\u2013\u2014-(") + "\u2026"
    opening, closing = _QUOTES.get(lang, _QUOTES["en"])
    return f"{opening}{title}{closing}"


def figures(line: RangeLine, lang: str) -> str:
    """A cost line's quantity x unit price in the page's language: the English detail as the price
    files word it, or the bare figures (locale numbers, no English unit names) for other languages."""
    if lang == "en":
        return line.detail
    shown = []
    for quantity, price in dict.fromkeys(line.figures):
        unit = (
            "—" if price is None else format_decimal(price, format="#,##0.00########", locale=LOCALES[lang])
        )
        shown.append(f"{num(quantity, lang, 2)} \u00d7 {unit}")
    return " \u2013 ".join(shown)


def money(amount: float | None, currency: str, lang: str = "en") -> str:
    """An amount with its currency in the language's locale (Babel): €1,460.00 / 1 460,00 €."""
    if amount is None:
        return ui("not_priced", lang)
    return format_currency(amount, currency, locale=LOCALES.get(lang, "en_GB"))


def money_range(low: float | None, high: float | None, currency: str, lang: str) -> str:
    if low is None or high is None:
        return ui("not_priced", lang)
    if low == high:
        return money(low, currency, lang)
    return f"{money(low, currency, lang)} \u2013 {money(high, currency, lang)}"


def long_date(iso: str, lang: str) -> str:
    """'5 December 2026' / '5 décembre 2026' from an ISO date; anything else is returned as read."""
    try:
        day = dt.date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return format_date(day, format="long", locale=LOCALES.get(lang, "en_GB"))


_TAG = re.compile(r"(<[^>]+>)")
#: Elements whose text is printed as written: links, code, styles, and a cited document's own title
#: (<cite>), which keeps its own language's typography (an English title in a French page keeps 'X: y').
_RAW = ("a", "code", "style", "script", "title", "cite")


#: A space between a number and the unit or symbol after it (« 10 % », « 100 Go », « 45 000 $ »).
_UNIT = re.compile(r"(?<=\d) (?=(?:%|€|\$|£|Go|To|Gio|Tio|Ko|Mo|Mbit/s|ms|h)(?!\w))")
#: A space between groups of digits written in a fact's prose (« 82 102 £ »); Babel's own numbers
#: already carry a narrow no-break space.
_GROUP = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")


def french_typography(page: str) -> str:
    """French typography on the text of a rendered page (never inside tags, links, code or styles): a
    no-break space before : and a narrow no-break space before ; ? !, no-break spaces inside « », a
    narrow no-break space between digit groups and a no-break space before a unit or « % »."""
    out: list[str] = []
    raw: list[str] = []
    for part in _TAG.split(page):
        if part.startswith("<"):
            name = part[1:].split()[0].rstrip(">/").lower() if len(part) > 2 else ""
            if name.lstrip("/") in _RAW and not part.endswith("/>"):
                if name.startswith("/"):
                    if raw:
                        raw.pop()
                else:
                    raw.append(name)
            out.append(part)
            continue
        if raw or not part.strip():
            out.append(part)
            continue
        text = html_lib.unescape(part)
        text = re.sub(r"(?<=\S)[ \u00a0\u202f]?:(?=\s|$)", "\u00a0:", text)
        text = re.sub(r"(?<=\S)[ \u00a0\u202f]?([;?!])(?=\s|$)", "\u202f\\1", text)
        text = re.sub(r"«[ \u00a0\u202f]*", "«\u00a0", text)
        text = re.sub(r"[ \u00a0\u202f]*»", "\u00a0»", text)
        text = _GROUP.sub("\u202f", text)
        text = _UNIT.sub("\u00a0", text)
        out.append(html_lib.escape(text, quote=False))
    return "".join(out)


def ident(text: str) -> Markup:
    """An identifier (an e-mail address, a rule id) printed whole: it may wrap only after "@" (and
    after a hyphen, as browsers do), never inside a word (code.id in base.css.j2)."""
    return Markup('<code class="id">{}</code>').format(Markup("@<wbr>").join(str(text).split("@")))


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        UI=UI,
        custody_text=custody_text,
        ident=ident,
        ui=ui,
        num=num,
        figures=figures,
        count_words=count_words,
        publisher=publisher,
        counted=counted,
        policy_line=policy_line,
        cited_title=cited_title,
        SHORT_TITLE=SHORT_TITLE,
        money=money,
        money_range=money_range,
        long_date=long_date,
        CATEGORIES=CATEGORIES,
    )
    return env


def _text(value: Text | str, lang: str) -> str:
    return value(lang) if isinstance(value, Text) else value


def _label(value: Text | str, lang: str) -> str:
    """A cost line's name: its own translation, or the bill-of-materials item translated by phrase."""
    return value(lang) if isinstance(value, Text) else item(value, lang)


def gap_text(gap: Any, lang: str) -> str:
    text = ui(gap.key, lang, **dict(gap.values))
    # French elision before a provider's name: « d'Amazon Web Services », not « de Amazon ».
    return re.sub(r"\bde (?=[AEIOUYÉ])", "d'", text) if lang == "fr" else text


def if_nothing(found: dict[str, Answer], lang: str) -> str:
    """What happens if nothing is decided: derived from the answers, never written by hand."""
    # French spacing before ":" is french_typography's, applied to the whole French page.
    states = ", ".join(f"{key}: {ui(a.verdict, lang).lower()}" for key, a in found.items())
    yes = [k for k, a in found.items() if a.verdict == "yes"]
    if yes:
        return ui("if_nothing_some", lang, yes=", ".join(yes), states=states)
    return ui("if_nothing_none", lang, states=states)


#: Developer references an exceptions register may carry, left out of a ministry's page (the register
#: itself keeps them for engineers).
_DEV_NOTES = (
    re.compile(r"\s*\((?:code marker|data/|docs/|see docs/)[^)]*\)"),
    re.compile(r",? then records it in .*?and deletes this entry"),
)


def plain(text: str) -> str:
    """A register justification without file paths and code markers."""
    for pattern in _DEV_NOTES:
        text = pattern.sub("", text)
    return text


def grouped(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per exceptions-register entry (same rule and justification) with its resource list."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for f in findings:
        excepted = f.get("status") == "excepted"
        # An exception groups by its register entry (rule and justification); a finding groups by rule,
        # whose messages differ per resource: the row shows the rule's title with the resource list.
        text = f.get("justification") if excepted else (f.get("title") or f.get("message"))
        key = (str(f.get("rule_id")), plain(str(text or "")), str(f.get("status")))
        group = groups.setdefault(
            key,
            {
                "rule_id": key[0],
                "title": f.get("title", ""),
                "text": key[1],
                # French text of an exception's justification, when one matches the English as it is.
                "fr": french(key[0], str(f.get("justification")))
                if key[2] == "excepted" and f.get("justification")
                else None,
                "status": key[2],
                "owner": f.get("owner", ""),
                "expires": str(f.get("expires") or ""),
                "resources": [],
            },
        )
        name = str(f.get("resource_urn", "")).rsplit("::", 1)[-1]
        if name not in group["resources"]:
            group["resources"].append(name)
    # Findings come in the preview's order, which varies between runs: findings before exceptions, then
    # by rule and text, each with its resources by name.
    for group in groups.values():
        group["resources"].sort()
    return [groups[key] for key in sorted(groups, key=lambda k: (k[2] == "excepted", k[0], k[1]))]


def context(report: Report, lang: str, found: dict[str, Answer] | None = None) -> dict[str, Any]:
    """Everything a page shows; ``found``: the answers when the caller derived them already (one
    derivation for all pages of a run), else derived here. The recommendation is checked either way."""
    found = found if found is not None else answers(report)
    check_decision(report, found)
    custody = {c.key: _custody(c, lang) for c in report.columns if c.custody is not None}
    # One text size for every diagram: each is drawn in a box as wide as the widest one.
    width = max((d.width for d in custody.values()), default=0.0)
    return {
        "r": report,
        "lang": lang,
        "t": lambda value: _text(value, lang) if value is not None else "",
        "label": lambda value: _label(value, lang),
        "cite": Citations(),
        "cols": report.columns,
        "answers": found,
        "gap": lambda g: gap_text(g, lang),
        "if_nothing": if_nothing(found, lang),
        "short_name": short_name,
        "option_label": lambda key: next(c.definition.label for c in report.columns if c.key == key),
        "requirements": report.facts.legal.requirements,
        "exposures": report.facts.legal.exposures,
        "matrix": matrix(report, found),
        "cost_incomplete": cost_incomplete(report, lang),
        "cost_incomplete_short": cost_incomplete(report, lang, short=True),
        "exits": {c.key: exit_figures(report, c) for c in report.columns},
        "eur": {c.key: c.cost.in_eur(report.facts.exchange_rates) for c in report.columns},
        # The regional uplift as the ownership file states it, never restated in a label.
        "uplift_pct": num(round(100 * (report.facts.uplift.factor - 1)), lang),
        # Each conversion rate used, printed with its date and source beside the euro totals.
        "rates": conversion_notes(report, lang),
        "custody": custody,
        "diagram_width": width,
        "charts": {c.key: _chart(c.cost.lines, lang) for c in report.columns},
        "grouped": grouped,
        "a": report.assumptions,
        "established": long_date(report.generated, lang),
    }


def cost_incomplete(report: Report, lang: str, short: bool = False) -> str:
    """Why cost is not scored, in the page's words: each option whose total is incomplete (on the full
    report with its count of lines not priced), and the weight cost takes once every total is complete."""
    given = {c.key: c.weight for c in report.facts.weights.criteria}
    pct = 100 * given.get("cost", 0.0) / (sum(given.values()) or 1.0)
    shown = num(pct, lang, 1 if pct % 1 else 0)
    if short:
        keys = [c.key for c in report.columns if not c.cost.in_eur(report.facts.exchange_rates).complete]
        return ui("cost_incomplete_short", lang, options=", ".join(keys), pct=shown)
    options = [
        f"{_text(c.definition.short, lang)} ({ui('lines_unpriced', lang, n=len(c.cost.material_unpriced))}"
        + (f"; {ui('unconverted', lang, n=total.unconverted)}" if total.unconverted else "")
        + ")"
        for c in report.columns
        if not (total := c.cost.in_eur(report.facts.exchange_rates)).complete
    ]
    return ui("cost_incomplete", lang, options=", ".join(options), pct=shown)


def _custody(c: Column, lang: str) -> Diagram:
    assert c.custody is not None
    label = c.custody.store if c.custody.store != "none" else "Provider key service"
    custody = dataclasses.replace(
        c.custody,
        store_operator=custody_text(c.custody.store_operator, lang),
        keys=[
            dataclasses.replace(
                k,
                where=custody_text(k.where, lang),
                operator=custody_text(k.operator, lang),
                protects=[custody_text(p, lang) for p in k.protects],
            )
            for k in c.custody.keys
        ],
    )
    return custody_layout(
        custody, custody_text(label, lang), (ui("key_store", lang), ui("key", lang), ui("store", lang))
    )


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
                ui("cat_" + cat, lang) if ("cat_" + cat) in UI else cat,
                amount,
                ("\u2265\u00a0" if cat in incomplete else "") + money(amount, currency, lang),
            )
            for cat, amount in per.items()
            # A category with nothing priced draws no bar: the table lists its lines as not priced.
            if amount > 0 or cat not in incomplete
        ]
        charts.append((currency, bars(values)))
    return charts


def render(
    report: Report, template: str, lang: str, found: dict[str, Answer] | None = None
) -> tuple[str, list[str]]:
    """The page's HTML and the source ids it cites, in order."""
    ctx = context(report, lang, found)
    html = environment().get_template(template).render(**ctx)
    if lang == "fr":
        html = french_typography(html)
    return html, list(ctx["cite"].order)


def render_report(report: Report, lang: str = "en") -> str:
    return render(report, "report.html.j2", lang)[0]


def render_summary(report: Report, lang: str = "en") -> str:
    return render(report, "summary.html.j2", lang)[0]


def conversion_notes(report: Report, lang: str) -> list[tuple[str, tuple[str, ...]]]:
    """One note per reference date: every rate used that day at the precision the source gives, with
    the sources to cite beside it."""
    by_date: dict[str, list[tuple[str, ExchangeRate]]] = {}
    for currency, rate in sorted(report.facts.exchange_rates.items()):
        if rate is not None:
            by_date.setdefault(rate.date, []).append((currency, rate))
    notes = []
    for date, rates in sorted(by_date.items()):
        listed = ", ".join(
            f"{num(rate.per_eur, lang, len(repr(rate.per_eur).partition('.')[2]) or 0)} "
            f"{CURRENCY_NAMES.get(currency, (currency, currency))[lang == 'fr']}"
            for currency, rate in rates
        )
        ids = tuple(dict.fromkeys(i for _, rate in rates for i in rate.sources))
        notes.append((ui("eur_note", lang, date=long_date(date, lang), rates=listed), ids))
    return notes
