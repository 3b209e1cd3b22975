"""Versioned facts (data/facts/*.yaml) and prices (data/prices/*.yaml), loaded and checked.

One place for facts: the comparison report reads them here, and the policies' provider allow-list
can read :func:`provider_allow_list`. Every fact names sources that must exist in
``data/facts/sources.yaml``; a malformed file is a :class:`FactsError` naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from facts import providers as provider_facts

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
STATUSES = ("protected", "partly", "not-protected")
PRICE_BASES = ("provider", "third-party", "other-region", "outdated")


class FactsError(ValueError):
    """A data file is missing, malformed, or cites an unknown source."""


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    url: str
    publisher: str
    retrieved: str


@dataclass(frozen=True)
class Statement:
    text: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    package: str
    engine: bool = False
    legal_seat: Statement | None = None
    jurisdictions: tuple[tuple[str, Statement], ...] = ()
    hds_status: str = "unverified"
    hds: Statement | None = None
    secnumcloud_status: str = "unverified"
    secnumcloud: Statement | None = None


@dataclass(frozen=True)
class Price:
    """One unit price and where it comes from.

    basis says how far the figure can be trusted for this region:
      provider     the provider's own publication (price page, documentation, API response) states it
                   for this region, or states it for every region;
      third-party  a third party states it for this region (e.g. read from the provider's price list);
      other-region a figure for another region, or one whose region is not stated;
      outdated     the provider's own figure for an earlier offer.
    Only "provider" counts as verified in the report.
    """

    key: str
    price: float | None
    unit: str
    basis: str
    source: str
    url: str
    retrieved: str
    note: str = ""
    free_per_month: float = 0.0
    also: tuple[str, ...] = ()  # further sources the note relies on

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source, *self.also)

    @property
    def status(self) -> str:
        return "verified" if self.basis == "provider" else "unverified"

    @property
    def status_label(self) -> str:
        if self.price is None:
            return "no sourced price"
        return {
            "provider": "verified (provider)",
            "third-party": "unverified (third party, this region)",
            "other-region": "unverified (another region)",
            "outdated": "unverified (outdated provider figure)",
        }.get(self.basis, "no price")


@dataclass(frozen=True)
class PriceBook:
    provider: str
    region: str
    currency: str
    prices: dict[str, Price]

    def get(self, key: str) -> Price:
        """The price of ``key``; for a sized item ``base:variant`` (e.g. ``rds-instance-hour:db.m6g.large``)
        a variant absent from the file is a line 'not priced', never another size's price."""
        if key in self.prices:
            return self.prices[key]
        base, _, variant = key.partition(":")
        known = sorted(k.partition(":")[2] for k in self.prices if k.startswith(base + ":"))
        if not variant or not known:
            raise FactsError(f"price {key!r} missing from the {self.provider} {self.region} price file")
        return Price(
            key,
            None,
            self.prices[f"{base}:{known[0]}"].unit,
            "none",
            "project-cost-model",
            "reporting/cost.py",
            "",
            f"No price for {variant!r} in the price file (it prices {', '.join(known)}): not priced.",
        )


@dataclass(frozen=True)
class ThreatCell:
    status: str
    why: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Threat:
    id: str
    title: str
    cells: dict[str, ThreatCell]


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    provider: str
    statements: dict[str, Statement] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    sources: dict[str, Source]
    providers: dict[str, Provider]
    targets: dict[str, Target]
    threats: list[Threat]
    prices: dict[str, PriceBook]

    def price_book(self, provider: str) -> PriceBook:
        if provider not in self.prices:
            raise FactsError(f"no price file for provider {provider!r} in data/prices/")
        return self.prices[provider]


def _read(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise FactsError(f"{path}: cannot read ({error.strerror})") from error
    except yaml.YAMLError as error:
        raise FactsError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(document, dict):
        raise FactsError(f"{path}: must be a YAML mapping")
    return document


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FactsError(f"{where}: must be a mapping")
    return value


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise FactsError(f"{where}: '{key}' must be a non-empty string")
    return value


def _sources(raw: Any, where: str, known: dict[str, Source]) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(s, str) for s in raw):
        raise FactsError(f"{where}: 'sources' must be a non-empty list of source ids")
    unknown = [s for s in raw if s not in known]
    if unknown:
        raise FactsError(
            f"{where}: unknown source id(s) {', '.join(unknown)} (not in data/facts/sources.yaml)"
        )
    return tuple(raw)


def _statement(raw: Any, where: str, known: dict[str, Source], text_key: str = "text") -> Statement:
    raw = _mapping(raw, where)
    return Statement(_text(raw, text_key, where), _sources(raw.get("sources"), where, known))


def load_sources(data_dir: Path) -> dict[str, Source]:
    path = data_dir / "facts" / "sources.yaml"
    raw = _mapping(_read(path).get("sources"), f"{path}: sources")
    sources: dict[str, Source] = {}
    for key, entry in raw.items():
        where = f"{path}: sources.{key}"
        entry = _mapping(entry, where)  # noqa: PLW2901
        sources[key] = Source(
            key,
            _text(entry, "title", where),
            _text(entry, "url", where),
            _text(entry, "publisher", where),
            _text(entry, "retrieved", where),
        )
    return sources


def load_providers(data_dir: Path, sources: dict[str, Source]) -> dict[str, Provider]:
    path = data_dir / "facts" / "providers.yaml"
    raw = _mapping(_read(path).get("providers"), f"{path}: providers")
    providers: dict[str, Provider] = {}
    for key, entry in raw.items():
        where = f"{path}: providers.{key}"
        entry = _mapping(entry, where)  # noqa: PLW2901
        name, package = _text(entry, "name", where), _text(entry, "package", where)
        if entry.get("engine"):
            providers[key] = Provider(key, name, package, engine=True)
            continue
        seat = Statement(
            _text(entry, "legal_seat", where), _sources(entry.get("legal_seat_sources"), where, sources)
        )
        laws = entry.get("jurisdictions")
        if not isinstance(laws, list) or not laws:
            raise FactsError(f"{where}: 'jurisdictions' must be a non-empty list")
        jurisdictions = tuple(
            (
                _text(_mapping(law, f"{where}.jurisdictions"), "law", f"{where}.jurisdictions"),
                _statement(law, f"{where}.jurisdictions", sources, "reach"),
            )
            for law in laws
        )
        hds = _mapping(entry.get("hds"), f"{where}.hds")
        snc = _mapping(entry.get("secnumcloud"), f"{where}.secnumcloud")
        providers[key] = Provider(
            key,
            name,
            package,
            legal_seat=seat,
            jurisdictions=jurisdictions,
            hds_status=_text(hds, "status", f"{where}.hds"),
            hds=_statement(hds, f"{where}.hds", sources, "detail"),
            secnumcloud_status=_text(snc, "status", f"{where}.secnumcloud"),
            secnumcloud=_statement(snc, f"{where}.secnumcloud", sources, "detail"),
        )
    return providers


def load_targets(data_dir: Path, sources: dict[str, Source]) -> dict[str, Target]:
    path = data_dir / "facts" / "options.yaml"
    raw = _mapping(_read(path).get("targets"), f"{path}: targets")
    targets: dict[str, Target] = {}
    for key, entry in raw.items():
        where = f"{path}: targets.{key}"
        entry = _mapping(entry, where)  # noqa: PLW2901
        statements = {
            name: _statement(value, f"{where}.{name}", sources)
            for name, value in entry.items()
            if name not in ("label", "provider")
        }
        targets[key] = Target(key, _text(entry, "label", where), _text(entry, "provider", where), statements)
    return targets


def load_threats(data_dir: Path, sources: dict[str, Source]) -> list[Threat]:
    path = data_dir / "facts" / "threats.yaml"
    raw = _read(path).get("threats")
    if not isinstance(raw, list) or not raw:
        raise FactsError(f"{path}: 'threats' must be a non-empty list")
    threats = []
    for index, entry in enumerate(raw):
        where = f"{path}: threats[{index}]"
        entry = _mapping(entry, where)  # noqa: PLW2901
        cells = {}
        for target, cell in _mapping(entry.get("cells"), f"{where}.cells").items():
            cell_where = f"{where}.cells.{target}"
            cell = _mapping(cell, cell_where)  # noqa: PLW2901
            status = _text(cell, "status", cell_where)
            if status not in STATUSES:
                raise FactsError(f"{cell_where}: status {status!r} is not one of {', '.join(STATUSES)}")
            cells[target] = ThreatCell(
                status, _text(cell, "why", cell_where), _sources(cell.get("sources"), cell_where, sources)
            )
        threats.append(Threat(_text(entry, "id", where), _text(entry, "title", where), cells))
    return threats


def load_price_book(path: Path, sources: dict[str, Source]) -> PriceBook:
    raw = _read(path)
    prices: dict[str, Price] = {}
    for key, entry in _mapping(raw.get("prices"), f"{path}: prices").items():
        where = f"{path}: prices.{key}"
        entry = _mapping(entry, where)  # noqa: PLW2901
        value = entry.get("price")
        if value is not None and (
            not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0
        ):
            raise FactsError(f"{where}: 'price' must be a non-negative number or null, not {value!r}")
        basis = _text(entry, "basis", where)
        if basis not in PRICE_BASES:
            raise FactsError(f"{where}: basis must be one of {', '.join(PRICE_BASES)}, not {basis!r}")
        source = _sources([entry.get("source")], where, sources)[0]
        url = _text(entry, "url", where)
        if url != sources[source].url:
            raise FactsError(f"{where}: url {url!r} differs from source {source!r} ({sources[source].url})")
        prices[key] = Price(
            key,
            float(value) if value is not None else None,
            _text(entry, "unit", where),
            basis,
            source,
            url,
            _text(entry, "retrieved", where),
            str(entry.get("note", "")),
            float(entry.get("free_per_month", 0) or 0),
            _sources(entry["also"], f"{where}.also", sources) if "also" in entry else (),
        )
    return PriceBook(
        _text(raw, "provider", str(path)),
        _text(raw, "region", str(path)),
        _text(raw, "currency", str(path)),
        prices,
    )


def load(data_dir: Path = DATA_DIR) -> Facts:
    """Loads and cross-checks every data file under ``data_dir``."""
    sources = load_sources(data_dir)
    books = [load_price_book(p, sources) for p in sorted((data_dir / "prices").glob("*.yaml"))]
    return Facts(
        sources,
        load_providers(data_dir, sources),
        load_targets(data_dir, sources),
        load_threats(data_dir, sources),
        {book.provider: book for book in books},
    )


def provider_allow_list(*, secnumcloud: bool = False, data_dir: Path = DATA_DIR) -> tuple[str, ...]:
    """Provider packages allowed to host health data, from data/facts/providers.yaml.

    HDS-certified providers (``secnumcloud=False``) or SecNumCloud-qualified ones (``True``), plus the
    engine's own packages, which create nothing in a cloud. For the policies' allow-list.
    """
    load_sources(data_dir)  # the allow-list is only as good as the sources its statuses cite
    return provider_facts.allow_list(secnumcloud=secnumcloud, path=data_dir / "facts" / "providers.yaml")
