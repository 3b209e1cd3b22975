"""French as a French administration writes it: typography, locale formats through Babel, every French
string from the French catalogue (no English fallback), and sovereignty said."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from reporting.i18n import UI, item
from reporting.render import french_typography, long_date, money, num


class Text(HTMLParser):
    """The text a reader sees: outside tags, links, code, styles, cited titles and (unless asked for)
    the sources list."""

    SKIP = frozenset({"style", "script", "a", "code", "title", "cite"})

    def __init__(self, sources: bool = False) -> None:
        super().__init__()
        self.sources = sources
        self.stack: list[str] = []
        self.skip_sources = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)
        if tag == "ol" and "sources" in (dict(attrs).get("class") or "") and not self.sources:
            self.skip_sources += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "ol" and self.skip_sources:
            self.skip_sources -= 1
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if not self.skip_sources and not (self.SKIP & set(self.stack)):
            self.parts.append(data)


def visible(html: str, sources: bool = False) -> str:
    parser = Text(sources)
    parser.feed(html)
    # One text node per line: cells side by side never read as one number ("0,206 268,64").
    return "\n".join(parser.parts)


#: Names as their owners spell them, English words included: a French page prints them as they are.
PROPER_NAMES = (
    "Business Support",
    "Service Networking",
    "Service Usage",
    "Cloud Load Balancing",
    "Load Balancer FAQ",
    "Serverless Containers",
    "Object Storage",
    "Cloud Storage",
    "Health Data Hub",
    "Privacy Shield",
    "Data Privacy Framework",
    "European Sovereign Cloud",
    "Privacy and Civil Liberties Oversight Board",
    "Executive Order",
    "FISA Court",
    "Trusted Cloud by S3NS",
    "Cloud de Confiance by S3NS",
    "Cloud Billing Catalog",
    "AWS Price List",
    "People of Internet",
    "Cost Nimbus",
    "DEV Community",
    "IT for Business",
    "Cornell Law School",
    "Brookings Institution",
    "Managed Database",
    "Standard Multi-AZ",
    "S3 Standard",
    "Cloud Storage Standard",
    "US East",
    "EU Cloud Patterns",
)

#: English words and builder phrases that never belong in a French page's own text (outside <code>,
#: cited titles, quotations in « » and the names above).
ENGLISH = (
    "the",
    "and",
    "of",
    "for",
    "with",
    "from",
    "not",
    "only",
    "by",
    "per",
    "is",
    "to",
    "storage",
    "requests",
    "gateways",
    "keys",
    "policies",
    "retained",
    "subnets",
    "addresses",
    "firewall",
    "networking",
    "enabling",
    "regional",
    "software",
    "minScale",
    "min instances",
    "HA",
    "Support",
    "provider-documentation",
    "on-call",
    "egress",
    "priced",
    "month",
    "hour",
    "text",
    "forum",
    "notice",
    "contributors",
    "Central Bank",
    "Official Journal",
)


def english_left(text: str) -> list[str]:
    """English words of ``text`` once quotations and proper names are set aside, with some context."""
    text = re.sub(r"«[^»]*»", " ", text)
    for name in PROPER_NAMES:
        text = text.replace(name, " ")
    found = []
    for word in ENGLISH:
        found += [
            text[max(0, m.start() - 30) : m.end() + 30]
            for m in re.finditer(rf"(?<![\w/-])(?<!\w\.){re.escape(word)}(?![\w/-]|\.\w)", text)
        ]
    return found


#: French typography the page must never miss: a plain space inside a number, before « % » or a unit,
#: before ; : ? ! or inside « »; an English multiplication or decimal point in a quantity.
TYPOGRAPHY = {
    "space in a number": re.compile(r"\d \d{3}(?!\d)"),
    "space before a unit": re.compile(r"\d (?:%|€|\$|£|Go|To|Gio|Tio|Ko|Mbit/s|ms)(?!\w)"),
    "space before ; ? !": re.compile(r"[^\u202f\u00a0][;?!](?=\s|$)"),
    "space before :": re.compile(r"[^\u00a0\u202f]:(?=\s|$)"),
    "space inside « »": re.compile(r"« | »"),
    "English multiplication": re.compile(r"\d x \d|(?<![\w/])x\d"),
    "decimal point in a quantity": re.compile(r"\b\d+\.\d+ (?:vCPU|Go|Gio|To|€|\$)"),
}


def typography_faults(text: str) -> list[str]:
    return [
        f"{name}: {text[max(0, m.start() - 25) : m.end() + 10]!r}"
        for name, pattern in TYPOGRAPHY.items()
        for m in pattern.finditer(text.replace("http:", "").replace("https:", ""))
    ]


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


@pytest.mark.parametrize("name", ["summary.fr", "compare.fr"])
def test_no_english_on_a_french_page(pages: dict[str, tuple[str, list[str]]], name: str) -> None:
    assert english_left(visible(pages[name][0], sources=True)) == []


@pytest.mark.parametrize("name", ["summary.fr", "compare.fr"])
def test_french_typography_everywhere(pages: dict[str, tuple[str, list[str]]], name: str) -> None:
    assert typography_faults(visible(pages[name][0], sources=True)) == []


@pytest.mark.parametrize(
    "broken",
    [
        "NAT gateways",
        "Cloud Run : 2 x 1 Gio (min instances)",
        "Service Networking (private services access for Cloud SQL)",
        "Preuve : provider-documentation",
        "Support",
        "European Central Bank",
        "RDS gp3 storage 100 Go",
    ],
)
def test_the_english_check_fails_on_english(broken: str) -> None:
    assert english_left(f"Le poste {broken} est chiffré.")


def test_the_english_check_spares_names_quotations_and_code() -> None:
    page = (
        "<p>Offre AWS Business Support, Service Networking\u00a0; la page dit «\u00a0free for up to 100 GB\u00a0»"
        ' <code>the-bucket</code> <cite class="title">«\u00a0Cloud KMS pricing\u00a0»</cite>.</p>'
    )
    assert english_left(visible(page, sources=True)) == []


@pytest.mark.parametrize(
    "broken",
    [
        "un organisme a payé 82 102\u00a0£",
        "soit 10 % du total",
        "100 Go par mois",
        "de 45\u202f000 $ par boîtier",
        "Note : voir",
        "Note\u00a0: voir ; puis",
        "la réponse « oui\u00a0»",
        "2 x 0,5 vCPU",
        "2 \u00d7 0.25 vCPU",
    ],
)
def test_the_typography_check_fails_on_each_fault(broken: str) -> None:
    assert typography_faults(broken)


def test_the_typography_check_passes_babel_and_the_page_filter() -> None:
    text = (
        f"{money(1460, 'EUR', 'fr')}, {num(5_000_000, 'fr')} rendez-vous, le {long_date('2026-12-05', 'fr')}"
    )
    assert typography_faults(visible(french_typography(f"<p>{text} ; 10 % de 100 Go : « oui »</p>"))) == []


def test_bill_items_read_in_french() -> None:
    assert item("Fargate web: 2 x 0.25 vCPU", "fr") == "Fargate web: 2 \u00d7 0,25 vCPU"
    assert item("NAT gateways x3", "fr") == "passerelles NAT \u00d7 3"
    assert item("Cloud SQL db-custom-2-8192 HA (regional): 8 GB RAM", "fr") == (
        "Cloud SQL db-custom-2-8192 en haute disponibilité (régionale): 8 Go de mémoire vive"
    )
    assert item("Container api: 2 x 1 vCPU (minScale)", "fr") == (
        "conteneur api: 2 \u00d7 1 vCPU (nombre minimal d'instances)"
    )
    assert item("RDS gp3 storage 100 GB", "fr") == "stockage RDS gp3 de 100 Go"
    assert item("NAT gateways x3", "en") == "NAT gateways x3"
