"""Builds the comparison from previews, policy results and facts; renders HTML and Markdown.

The HTML is one self-contained file (inline CSS and SVG, no scripts, fonts or images). Every
statement carries references ``[n]`` that resolve to the Sources section.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

from reporting.analysis import (
    CATEGORIES,
    Assumptions,
    Custody,
    Option,
    bill_of_materials,
    custody,
    inventory,
    option_from_preview,
)
from reporting.cost import Bill, price_bill
from reporting.facts import Facts, Statement

SECTIONS = (
    ("summary", "1. Summary"),
    ("threats", "2. Threat scenarios"),
    ("custody", "3. Key custody"),
    ("inventory", "4. Inventory"),
    ("policies", "5. Policy results"),
    ("cost", "6. Cost"),
    ("sources", "7. Sources"),
)
STATUS_LABEL = {"protected": "Protected", "partly": "Partly", "not-protected": "Not protected"}
NOT_AVAILABLE = "policy results not available"


@dataclass
class PolicySummary:
    rules: int
    passed: bool
    failed: list[dict[str, Any]]
    excepted: list[dict[str, Any]]


@dataclass
class Column:
    """One option as shown side by side: its main stack, plus the key store stack for Option A."""

    option: Option
    bill: Bill
    custody: Custody
    inventory: dict[str, Any]
    policy: PolicySummary | None
    extra_bills: list[Bill] = field(default_factory=list)

    @property
    def total(self) -> float:
        """The option's own priced total, in its provider's currency (the key store is separate)."""
        return self.bill.total

    def totals(self) -> dict[str, float]:
        """Priced totals per currency: bills in different currencies are never added together."""
        sums: dict[str, float] = {}
        for bill in self.bills:
            sums[bill.currency] = round(sums.get(bill.currency, 0.0) + bill.total, 2)
        return sums

    @property
    def bills(self) -> list[Bill]:
        return [self.bill, *self.extra_bills]

    @property
    def unpriced_items(self) -> list[str]:
        """Bill-of-materials lines with no sourced price, across the option's bills."""
        return [line.quantity.item for bill in self.bills for line in bill.unpriced]


@dataclass
class Report:
    columns: list[Column]
    facts: Facts
    assumptions: Assumptions
    generated: str
    keystore_stacks: list[str]


Auditor = Callable[[Mapping[str, Any], str], PolicySummary | None]


def policy_auditor() -> Auditor:
    """The policies' audit API if present, else an auditor that reports "not available"."""
    try:
        from policies.audit import audit_preview
    except ImportError:
        return lambda _document, _stack: None

    def audit(document: Mapping[str, Any], stack: str) -> PolicySummary | None:
        result = audit_preview(document, stack)
        return PolicySummary(
            len(result.rules_evaluated),
            bool(result.passed),
            [f.to_dict() for f in result.findings if f.status == "failed"],
            [f.to_dict() for f in result.findings if f.status == "excepted"],
        )

    return audit


def build(
    previews: Mapping[str, Mapping[str, Any]],
    facts: Facts,
    assumptions: Assumptions,
    auditor: Auditor,
    generated: str | None = None,
) -> Report:
    options = [option_from_preview(stack, document) for stack, document in previews.items()]
    keystores = [o for o in options if o.target == "keystore"]
    columns = []
    for option in options:
        if option.target == "keystore":
            continue
        book = facts.price_book(facts.targets[option.target].provider)
        extra = []
        if option.target == "aws":
            for ks in keystores:
                ks_book = facts.price_book(facts.targets["keystore"].provider)
                extra.append(price_bill(ks.stack, bill_of_materials(ks, assumptions), ks_book))
        columns.append(
            Column(
                option,
                price_bill(option.stack, bill_of_materials(option, assumptions), book),
                custody(option),
                inventory(option),
                auditor(previews[option.stack], option.stack),
                extra,
            )
        )
    return Report(
        columns, facts, assumptions, generated or dt.date.today().isoformat(), [k.stack for k in keystores]
    )


# --- shared helpers ---------------------------------------------------------------------------


def source_numbers(facts: Facts) -> dict[str, int]:
    return {key: index for index, key in enumerate(facts.sources, start=1)}


def money(amount: float, currency: str) -> str:
    symbol = {"EUR": "€", "USD": "$"}.get(currency, currency + " ")
    return f"{symbol}{amount:,.2f}"


def summary_rows(report: Report) -> list[tuple[str, list[tuple[str, tuple[str, ...]]]]]:
    """Rows of the summary table: label, and per column (text, source ids)."""
    facts = report.facts
    rows: list[tuple[str, list[tuple[str, tuple[str, ...]]]]] = []

    def row(label: str, cell: Callable[[Column], tuple[str, tuple[str, ...]]]) -> None:
        rows.append((label, [cell(c) for c in report.columns]))

    def provider(c: Column) -> Any:
        return facts.providers[facts.targets[c.option.target].provider]

    def statement(c: Column, key: str) -> tuple[str, tuple[str, ...]]:
        s: Statement | None = facts.targets[c.option.target].statements.get(key)
        return (s.text, s.sources) if s else ("unverified", ("project-preview",))

    row(
        "Where data is stored and processed",
        lambda c: (
            f"{provider(c).name}, region {c.option.region()} only "
            f"({len(c.option.cloud_resources)} cloud resources in "
            f"the preview); provider seat: {provider(c).legal_seat.text}",
            ("project-preview", *provider(c).legal_seat.sources),
        ),
    )
    row(
        "Jurisdictions that can compel the provider",
        lambda c: (
            "; ".join(f"{law}: {s.text}" for law, s in provider(c).jurisdictions),
            tuple(dict.fromkeys(src for _law, s in provider(c).jurisdictions for src in s.sources)),
        ),
    )
    row(
        "Who holds the keys, and where",
        lambda c: (
            "; ".join(sorted({f"{k.operator} — {k.where.split(' (')[0]}" for k in c.custody.keys}))
            + f" ({len(c.custody.keys)} keys)",
            ("project-preview",),
        ),
    )
    row("Who can decrypt data at rest", lambda c: statement(c, "decrypt_at_rest"))
    row("Who can read data in use", lambda c: statement(c, "read_in_use"))
    row("Kill switch", lambda c: statement(c, "kill_switch"))
    row(
        "Certifications",
        lambda c: (
            f"HDS: {provider(c).hds_status} ({provider(c).hds.text}). "
            f"SecNumCloud: {provider(c).secnumcloud_status} "
            f"({provider(c).secnumcloud.text})",
            (*provider(c).hds.sources, *provider(c).secnumcloud.sources),
        ),
    )
    row("Policy results", lambda c: (policy_text(c), ("project-policies",)))
    row(
        "Estimated monthly cost",
        lambda c: (
            cost_text(c),
            tuple(
                dict.fromkeys(
                    [
                        "project-cost-model",
                        *(src for b in c.bills for line in b.lines for src in line.price.sources),
                    ]
                )
            ),
        ),
    )
    row("Reversibility", lambda c: statement(c, "reversibility"))
    return rows


def policy_text(c: Column) -> str:
    if c.policy is None:
        return NOT_AVAILABLE
    verdict = "passed" if c.policy.passed else "FAILED"
    return (
        f"{verdict}: {c.policy.rules} rules evaluated, {len(c.policy.failed)} failed, "
        f"{len(c.policy.excepted)} recorded exceptions"
    )


def total_text(c: Column) -> str:
    """'$X' or '$X + €Y (French key store)': one figure per bill, never summed across currencies."""
    parts = [money(c.bill.total, c.bill.currency)]
    parts += [f"{money(b.total, b.currency)} (French key store {b.stack})" for b in c.extra_bills]
    return " + ".join(parts)


def cost_text(c: Column) -> str:
    unpriced = c.unpriced_items
    priced = sum(1 for b in c.bills for line in b.lines if line.priced)
    unverified = sum(len(b.unverified) for b in c.bills)
    text = f"{total_text(c)} per month for the priced lines"
    if unpriced:
        text += f"; NOT included, no sourced price: {'; '.join(unpriced)}"
    if unverified:
        text += (
            f"; {unverified} of {priced} priced lines use unverified prices (third party or another region)"
        )
    if c.option.target == "aws" and not c.extra_bills:
        text += "; the French key store (XKS proxy + HSM) has no preview and is not priced"
    return text


def comparability(cols: list[Column]) -> list[str]:
    """Sentences saying which categories a total leaves out, so that no one compares a partial bill
    with a complete one without being told."""
    notes = []
    for c in cols:
        for bill in c.bills:
            missing: dict[str, list[str]] = {}
            for line in bill.unpriced:
                missing.setdefault(line.quantity.category, []).append(line.quantity.item)
            for category, items in missing.items():
                notes.append(
                    f"{bill.stack}: the {category} total leaves out {len(items)} line(s) with no sourced "
                    f"price ({'; '.join(items)})."
                )
    return notes


def _comparability_html(cols: list[Column]) -> str:
    notes = comparability(cols)
    if not notes:
        return "<p>Every line of every bill is priced.</p>"
    return '<ul class="warn">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>"


def _comparability_md(cols: list[Column]) -> list[str]:
    notes = comparability(cols)
    return [*(f"- **{_md(n)}**" for n in notes), ""] if notes else ["Every line of every bill is priced.", ""]


# --- SVG -------------------------------------------------------------------------------------

PALETTE = {
    "compute": "#4c78a8",
    "data": "#f58518",
    "network": "#54a24b",
    "keys": "#b279a2",
    "logging": "#9d755d",
    "identity": "#bab0ac",
    "other": "#72b7b2",
}


def cost_chart(c: Column, bill: Bill) -> str:
    """Bars per category for one bill (one currency)."""
    totals = bill.by_category()
    cats = [cat for cat in CATEGORIES if cat in totals]
    width, bar_h, left = 460, 22, 90
    height = 30 + bar_h * max(1, len(cats)) + 10
    top = max(totals.values(), default=0.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Monthly cost by category, {escape(bill.stack)}">',
        f'<text x="0" y="16" class="t">{escape(bill.stack)}: priced monthly cost by category '
        f"({escape(bill.currency)})</text>",
    ]
    for i, cat in enumerate(cats):
        y = 26 + i * bar_h
        w = (width - left - 110) * totals[cat] / top
        parts.append(f'<text x="0" y="{y + 15}" class="l">{cat}</text>')
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{bar_h - 6}" fill="{PALETTE[cat]}"/>'
        )
        parts.append(
            f'<text x="{left + w + 6:.1f}" y="{y + 15}" class="l">'
            f"{escape(money(totals[cat], bill.currency))}</text>"
        )
    if not cats:
        parts.append('<text x="0" y="44" class="l">No priced line</text>')
    parts.append("</svg>")
    return "".join(parts)


def custody_diagram(c: Column) -> str:
    keys = c.custody.keys
    stores = [s for k in keys for s in k.protects]
    rows = max(len(keys), len(stores), 1)
    row_h, width = 34, 1100
    height = 40 + rows * row_h + 20
    x_store, x_key, x_data = 10, 320, 700
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="custody" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Key custody, {escape(c.option.stack)}">',
        f'<text x="{x_store}" y="16" class="t">Key store / operator</text>',
        f'<text x="{x_key}" y="16" class="t">Key (where its material lives)</text>',
        f'<text x="{x_data}" y="16" class="t">Data store it protects</text>',
    ]
    store_label = c.custody.store if c.custody.store != "none" else "Provider key service"
    operator = c.custody.store_operator or (keys[0].operator if keys else "—")
    sy = 30 + (rows * row_h) / 2 - 24
    parts.append(f'<rect x="{x_store}" y="{sy:.0f}" width="280" height="48" rx="6" class="box store"/>')
    parts.append(f'<text x="{x_store + 8}" y="{sy + 20:.0f}" class="s">{escape(store_label[:44])}</text>')
    parts.append(f'<text x="{x_store + 8}" y="{sy + 38:.0f}" class="s">{escape(operator[:44])}</text>')
    data_index = 0
    for i, key in enumerate(keys):
        ky = 30 + i * row_h * max(1, len(stores)) / max(1, len(keys))
        parts.append(
            f'<line x1="{x_store + 280}" y1="{sy + 24:.0f}" x2="{x_key}" y2="{ky + 13:.0f}" class="edge"/>'
        )
        parts.append(f'<rect x="{x_key}" y="{ky:.0f}" width="340" height="26" rx="4" class="box key"/>')
        parts.append(
            f'<text x="{x_key + 6}" y="{ky + 17:.0f}" class="s">{escape(key.name)} — '
            f"{escape(key.where.split(' (')[0][:28])}</text>"
        )
        for store in key.protects:
            dy = 30 + data_index * row_h
            data_index += 1
            parts.append(
                f'<line x1="{x_key + 340}" y1="{ky + 13:.0f}" x2="{x_data}" y2="{dy + 13}" class="edge"/>'
            )
            parts.append(f'<rect x="{x_data}" y="{dy}" width="390" height="26" rx="4" class="box data"/>')
            parts.append(f'<text x="{x_data + 6}" y="{dy + 17}" class="s">{escape(store[:60])}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- HTML ------------------------------------------------------------------------------------

CSS = """
@page { size: A4; margin: 12mm; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
  margin: 24px auto; max-width: 1180px; font-size: 14px; line-height: 1.4; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { border-bottom: 2px solid #2b4c7e; padding-bottom: 2px; margin-top: 28px; }
h3 { margin: 14px 0 6px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 14px; page-break-inside: auto; }
th, td { border: 1px solid #c8ccd2; padding: 5px 7px; vertical-align: top; text-align: left; }
th { background: #eef1f6; } tr { page-break-inside: avoid; }
td.num { text-align: right; white-space: nowrap; }
.ref { font-size: 11px; color: #2b4c7e; text-decoration: none; white-space: nowrap; }
.st { font-weight: 600; padding: 1px 6px; border-radius: 3px; white-space: nowrap; }
.st-protected { background: #d8f0d8; }
.st-partly { background: #fff0c2; }
.st-not-protected { background: #f8d4d4; }
.note { color: #555; font-size: 12px; }
.warn { background: #fff6e0; border-left: 4px solid #e0a000; padding: 6px 10px; }
svg .t { font: 600 13px sans-serif; } svg .l, svg .s { font: 12px sans-serif; }
svg .box { stroke: #555; stroke-width: 1; }
svg .store { fill: #fde7c8; }
svg .key { fill: #eadcf0; }
svg .data { fill: #dbe8f5; }
svg .edge { stroke: #777; stroke-width: 1.2; fill: none; }
.chart, .custody { max-width: 100%; height: auto; }
@media print { body { margin: 0; max-width: none; font-size: 10.5px; } h2 { page-break-after: avoid; }
  section { page-break-inside: auto; } .custody { width: 100%; } }
"""


def _refs_html(ids: tuple[str, ...], numbers: dict[str, int]) -> str:
    return " ".join(f'<a class="ref" href="#src-{escape(i)}">[{numbers[i]}]</a>' for i in ids)


def render_html(report: Report) -> str:  # noqa: PLR0912, PLR0915 (one linear page)
    numbers = source_numbers(report.facts)
    cols = report.columns
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Hosting options for health data — side-by-side comparison</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Hosting options for citizens' health data — side-by-side comparison</h1>",
        f'<p class="note">Generated {escape(report.generated)} from the offline previews of '
        f"{escape(', '.join(c.option.stack for c in cols))}"
        f"{' and ' + escape(', '.join(report.keystore_stacks)) if report.keystore_stacks else ''}, "
        f"the policy audit and the versioned facts in data/. Load: "
        f"{report.assumptions.appointments_per_month:,} appointments per month.</p>",
        "<nav><b>Contents:</b> "
        + " · ".join(f'<a href="#{k}">{escape(t)}</a>' for k, t in SECTIONS)
        + "</nav>",
    ]
    head = "".join(
        f"<th>{escape(report.facts.targets[c.option.target].label)}<br>"
        f'<span class="note">stack {escape(c.option.stack)}</span></th>'
        for c in cols
    )

    out.append('<section id="summary"><h2>1. Summary</h2><table><tr><th></th>' + head + "</tr>")
    for label, cells in summary_rows(report):
        out.append(
            f"<tr><th>{escape(label)}</th>"
            + "".join(
                f'<td class="stmt">{escape(text)} {_refs_html(ids, numbers)}</td>' for text, ids in cells
            )
            + "</tr>"
        )
    out.append("</table></section>")

    out.append(
        '<section id="threats"><h2>2. Threat scenarios</h2><table><tr><th>Scenario</th>' + head + "</tr>"
    )
    for threat in report.facts.threats:
        out.append(f"<tr><th>{escape(threat.title)}</th>")
        for c in cols:
            cell = threat.cells.get(c.option.target)
            if cell is None:
                out.append(
                    '<td class="stmt">unverified: no assessment for this target '
                    f"{_refs_html(('project-preview',), numbers)}</td>"
                )
                continue
            out.append(
                f'<td class="stmt"><span class="st st-{cell.status}">{STATUS_LABEL[cell.status]}</span> '
                f"{escape(cell.why)} {_refs_html(cell.sources, numbers)}</td>"
            )
        out.append("</tr>")
    out.append("</table></section>")

    out.append(
        '<section id="custody"><h2>3. Key custody</h2><p class="note">Generated from each preview: '
        "keys, where their material lives, who operates them, and the data stores whose inputs "
        "reference them.</p>"
    )
    for c in cols:
        out.append(f"<h3>{escape(report.facts.targets[c.option.target].label)}</h3>{custody_diagram(c)}")
        if c.custody.unkeyed:
            out.append(
                '<p class="note">Data stores encrypted without a key of the stack (provider-managed): '
                + escape(", ".join(c.custody.unkeyed))
                + "</p>"
            )
    out.append("</section>")

    out.append('<section id="inventory"><h2>4. Inventory</h2><table><tr><th>Category</th>' + head + "</tr>")
    for cat in CATEGORIES:
        out.append(f"<tr><th>{cat}</th>")
        for c in cols:
            counter = c.inventory[cat]
            detail = ", ".join(f"{n} {t.rsplit(':', 1)[-1]}" for t, n in sorted(counter.items()))
            out.append(
                f'<td><b class="count" data-stack="{escape(c.option.stack)}" data-category="{cat}">'
                f"{sum(counter.values())}</b> {escape(detail)}</td>"
            )
        out.append("</tr>")
    out.append("</table></section>")

    out.append('<section id="policies"><h2>5. Policy results</h2>')
    for c in cols:
        out.append(f"<h3>{escape(report.facts.targets[c.option.target].label)}</h3>")
        out.append(
            f'<p class="policy" data-stack="{escape(c.option.stack)}">{escape(policy_text(c))} '
            f"{_refs_html(('project-policies',), numbers)}</p>"
        )
        if c.policy is None:
            continue
        rows = [(f, "failed") for f in c.policy.failed] + [(f, "excepted") for f in c.policy.excepted]
        if rows:
            out.append(
                "<table><tr><th>Rule</th><th>Status</th><th>Resource</th><th>Regulation</th>"
                "<th>Justification / message</th><th>Owner, expires</th></tr>"
            )
            for f, status in rows:
                out.append(
                    f"<tr><td>{escape(f['rule_id'])}<br>{escape(f['title'])}</td><td>{status}</td>"
                    f"<td>{escape(f['resource_urn'].rsplit('::', 1)[-1])}</td>"
                    f"<td>{escape(f['regulation'])}</td>"
                    f"<td>{escape(f.get('justification') or f['message'])}</td>"
                    f"<td>{escape(f.get('owner', ''))} {escape(f.get('expires', ''))}</td></tr>"
                )
            out.append("</table>")
    out.append("</section>")

    out.append(
        '<section id="cost"><h2>6. Cost</h2><p class="warn">Each bill is in its provider\'s '
        "currency; no exchange rate is applied and currencies are never added. Lines whose price could "
        "not be read from a public source are listed as <b>not priced</b> and left out of the total, so "
        "totals are not comparable while one side has such a line. <b>verified</b> prices are the "
        "provider's own; <b>unverified</b> ones come from a third party, another region or an outdated "
        "offer (each line says which).</p>" + _comparability_html(cols)
    )
    for c in cols:
        out.append(
            f"<h3>{escape(report.facts.targets[c.option.target].label)}: "
            f'<span class="total" data-stack="{escape(c.option.stack)}">'
            f"{escape(money(c.total, c.bill.currency))}</span>"
            + "".join(
                f' + <span class="total" data-stack="{escape(b.stack)}">{escape(money(b.total, b.currency))}</span>'
                f" (French key store {escape(b.stack)})"
                for b in c.extra_bills
            )
            + " per month (priced lines)</h3>"
            + "".join(cost_chart(c, bill) for bill in c.bills)
        )
        out.append(
            "<table><tr><th>Item (from the preview)</th><th>Quantity</th><th>Unit price</th>"
            "<th>Monthly</th><th>Price status</th></tr>"
        )
        for bill in c.bills:
            for line in bill.lines:
                q, p = line.quantity, line.price
                price = (
                    "not priced"
                    if p.price is None
                    else f"{money(p.price, bill.currency).rstrip('0').rstrip('.')} / {p.unit}"
                )
                amount = "not priced" if line.amount is None else money(line.amount, bill.currency)
                out.append(
                    f"<tr><td>{escape(q.item)}<br><span class='note'>{escape(q.basis)}</span></td>"
                    f'<td class="num">{q.quantity:,.2f} {escape(q.unit)}</td><td>{escape(price)}</td>'
                    f'<td class="num amount" data-stack="{escape(bill.stack)}">{escape(amount)}</td>'
                    f"<td>{escape(p.status_label)} {_refs_html(p.sources, numbers)}"
                    + (f"<br><span class='note'>{escape(p.note)}</span>" if p.note else "")
                    + "</td></tr>"
                )
        if c.option.target == "aws" and not c.extra_bills:
            out.append(
                "<tr><td>French key store: XKS proxy and HSM hosting</td><td class='num'>—</td>"
                "<td>not priced</td><td class='num'>not priced</td><td>no keystore stack in stacks/ "
                f"{_refs_html(('project-preview',), numbers)}</td></tr>"
            )
        out.append("</table>")
    out.append("<h3>Assumptions</h3><table>")
    for label, value in report.assumptions.describe():
        out.append(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>")
    out.append("</table></section>")

    out.append('<section id="sources"><h2>7. Sources</h2><ol class="sources">')
    for key, src in report.facts.sources.items():
        url = escape(src.url)
        link = f'<a href="{url}">{url}</a>' if src.url.startswith("http") else f"<code>{url}</code>"
        out.append(
            f'<li id="src-{escape(key)}" value="{numbers[key]}">'
            f"{escape(src.title)}. {escape(src.publisher)}. "
            f"{link}. Retrieved {escape(src.retrieved)}.</li>"
        )
    out.append("</ol></section></body></html>")
    return "\n".join(out)


# --- Markdown --------------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _refs_md(ids: tuple[str, ...], numbers: dict[str, int]) -> str:
    return " ".join(f"[[{numbers[i]}]](#src-{i})" for i in ids)


def render_markdown(report: Report) -> str:  # noqa: PLR0912 (one linear page)
    numbers = source_numbers(report.facts)
    cols = report.columns
    labels = [report.facts.targets[c.option.target].label for c in cols]
    head = "| | " + " | ".join(_md(x) for x in labels) + " |\n|---|" + "---|" * len(cols)
    out = [
        "# Hosting options for citizens' health data — side-by-side comparison",
        "",
        f"Generated {report.generated} from the offline previews of "
        f"{', '.join(c.option.stack for c in cols)}, "
        f"the policy audit and the versioned facts in data/. Load: "
        f"{report.assumptions.appointments_per_month:,} appointments per month.",
        "",
        "## 1. Summary",
        "",
        head,
    ]
    for label, cells in summary_rows(report):
        out.append(
            f"| **{_md(label)}** | " + " | ".join(f"{_md(t)} {_refs_md(i, numbers)}" for t, i in cells) + " |"
        )
    out += ["", "## 2. Threat scenarios", "", head.replace("| |", "| Scenario |", 1)]
    for threat in report.facts.threats:
        texts: list[str] = []
        for c in cols:
            cell = threat.cells.get(c.option.target)
            texts.append(
                f"unverified: no assessment {_refs_md(('project-preview',), numbers)}"
                if cell is None
                else f"**{STATUS_LABEL[cell.status]}** — {_md(cell.why)} {_refs_md(cell.sources, numbers)}"
            )
        out.append(f"| {_md(threat.title)} | " + " | ".join(texts) + " |")
    out += ["", "## 3. Key custody", ""]
    for c, label in zip(cols, labels, strict=True):
        out += [
            f"### {label}",
            "",
            f"Key store: {c.custody.store} — {c.custody.store_operator or 'provider'}",
            "",
            "| Key | Material lives in | Operated by | Protects |",
            "|---|---|---|---|",
        ]
        out += [
            f"| {k.name} | {_md(k.where)} | {_md(k.operator)} | {_md(', '.join(k.protects) or '—')} |"
            for k in c.custody.keys
        ]
        if c.custody.unkeyed:
            out += ["", "Provider-managed encryption (no key of the stack): " + ", ".join(c.custody.unkeyed)]
        out.append("")
    out += ["## 4. Inventory", "", head.replace("| |", "| Category |", 1)]
    for cat in CATEGORIES:
        out.append(f"| {cat} | " + " | ".join(str(sum(c.inventory[cat].values())) for c in cols) + " |")
    out += ["", "## 5. Policy results", ""]
    for c, label in zip(cols, labels, strict=True):
        out += [f"### {label}", "", f"{policy_text(c)} {_refs_md(('project-policies',), numbers)}", ""]
        if c.policy is not None:
            for f in c.policy.failed + c.policy.excepted:
                out.append(
                    f"- **{f['rule_id']}** ({f['status']}) on `{f['resource_urn'].rsplit('::', 1)[-1]}`: "
                    f"{_md(f.get('justification') or f['message'])} — "
                    f"{f.get('owner', '')} {f.get('expires', '')}"
                )
            out.append("")
    out += [
        "## 6. Cost",
        "",
        "Each bill in its provider's currency; no exchange rate applied, currencies never added. "
        "Lines without a sourced price are *not priced* and left out of the total, so totals are not "
        "comparable while one side has such a line.",
        "",
        *_comparability_md(cols),
    ]
    for c, label in zip(cols, labels, strict=True):
        out += [
            f"### {label}: {total_text(c)} per month (priced lines)",
            "",
            "| Item | Quantity | Monthly | Price status |",
            "|---|---|---|---|",
        ]
        for bill in c.bills:
            for line in bill.lines:
                amount = "not priced" if line.amount is None else money(line.amount, bill.currency)
                out.append(
                    f"| {_md(line.quantity.item)} | {line.quantity.quantity:,.2f} {line.quantity.unit} | "
                    f"{amount} | {line.price.status_label} {_refs_md(line.price.sources, numbers)} |"
                )
        out.append("")
    out += ["### Assumptions", ""] + [f"- {k}: {v}" for k, v in report.assumptions.describe()]
    out += ["", "## 7. Sources", ""]
    for key, src in report.facts.sources.items():
        out.append(
            f'{numbers[key]}. <a id="src-{key}"></a>{src.title}. {src.publisher}. {src.url}. '
            f"Retrieved {src.retrieved}."
        )
    return "\n".join(out) + "\n"
