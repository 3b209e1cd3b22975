"""Versioned facts (data/facts/*.yaml) and prices (data/prices/*.yaml), loaded as pydantic models.

One place for facts: the comparison report reads them here. Every statement names sources that must
exist in ``data/facts/sources.yaml``; a malformed file is a :class:`FactsError` whose message is one
line naming the file and the field.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from facts.resources import data_dir

#: The shipped data files (package data, found through importlib.resources: see facts.resources).
DATA_DIR = data_dir()
Basis = Literal["provider", "third-party", "other-region", "analogue", "outdated", "none"]
ThreatStatus = Literal["protected", "conditional", "partly", "not-protected"]
Exposure = Literal["exposed", "exposed-under-conditions", "not-exposed"]
Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")
_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}")


class FactsError(ValueError):
    """A data file is missing, malformed, or cites an unknown source."""


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Model):
    """A sentence in both report languages."""

    en: str = Field(min_length=1)
    fr: str = Field(min_length=1)

    def __call__(self, lang: str) -> str:
        return self.fr if lang == "fr" else self.en


class Cited(Text):
    """A factual statement in both languages with the sources it rests on."""

    sources: tuple[str, ...] = Field(min_length=1)


class Source(Model):
    """A cited document. ``title`` is the document's own title in its own language (a French document
    keeps its French title in the English report, as a bibliography cites it); ``note`` says, in both
    report languages, what the source says that the report relies on."""

    title: str = Field(min_length=1)
    url: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    retrieved: str = Field(min_length=1)
    note: Text | None = None

    @field_validator("retrieved")
    @classmethod
    def _dated(cls, value: str) -> str:
        # A public source says when it was read; only this project's own outputs are "generated".
        if not _DATED.match(value) and value != "generated with the report":
            raise ValueError("must start with a YYYY-MM-DD retrieval date")
        return value


class ProviderStatus(Model):
    model_config = ConfigDict(extra="allow", frozen=True)
    status: str
    detail: str
    sources: tuple[str, ...] = Field(min_length=1)


class PerimeterRow(Model):
    model_config = ConfigDict(extra="allow", frozen=True)
    service: str
    #: The French report names the service in French: a row without it fails when the file loads.
    service_fr: str = Field(min_length=1)
    evidence: str
    sources: tuple[str, ...] = Field(min_length=1)
    types: tuple[str, ...] = ()


class Provider(Model):
    """A provider as data/facts/providers.yaml states it (owned with the policies' allow-lists; read
    here, never copied): extra keys are kept so the file can grow without breaking the report."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str
    package: str
    engine: bool = False
    legal_seat: str = ""
    legal_seat_sources: tuple[str, ...] = ()
    hds: ProviderStatus | None = None
    secnumcloud: ProviderStatus | None = None
    perimeter: tuple[PerimeterRow, ...] = ()


class OptionDef(Model):
    key: str
    target: str
    stack: str
    label: Text
    short: Text
    companion_stacks: tuple[str, ...] = ()


class FailoverMeasure(Model):
    """A measured zone failover of the key store (scripts/bench_failover.py), with its date and load."""

    measured: str
    requests: int = Field(ge=1)
    failed_after_kill: int = Field(ge=0)
    over_kms_timeout: int = Field(ge=0)
    longest_gap_ms: float = Field(ge=0)
    max_latency_ms: float = Field(ge=0)
    sources: tuple[str, ...] = Field(min_length=1)


class TargetFacts(Model):
    provider: str
    keystore_failover: FailoverMeasure | None = None
    decrypt_at_rest: Cited | None = None
    read_in_use: Cited | None = None
    kill_switch: Cited | None = None
    foreign_cut: Cited | None = None
    xks_limits: Cited | None = None
    dependencies: Cited | None = None
    reversibility: Cited | None = None
    #: How the option's prices were obtained when that is not the provider's own list (shown above its bill).
    pricing: Cited | None = None


class OptionsFile(Model):
    options: tuple[OptionDef, ...] = Field(min_length=1)
    targets: dict[str, TargetFacts]


class ThreatCell(Cited):
    status: ThreatStatus


class Threat(Model):
    id: str
    title: Text
    cells: dict[str, ThreatCell]


class ThreatsFile(Model):
    threats: tuple[Threat, ...] = Field(min_length=1)


class Requirement(Model):
    """A legal requirement; its status per option is derived (reporting/answer.py), never written."""

    id: str
    test: Literal["secnumcloud", "hds"]
    title: Text
    applies_when: Cited


class ExposureCell(Cited):
    status: Exposure
    condition: Text | None = None


class ExposureLaw(Model):
    """A foreign law that can reach the data: exposed / exposed under conditions / not exposed."""

    id: str
    title: Text
    applies_when: Cited
    cells: dict[str, ExposureCell]


class ContextFact(Cited):
    id: str


class LegalFile(Model):
    requirements: tuple[Requirement, ...] = Field(min_length=1)
    exposures: tuple[ExposureLaw, ...] = Field(min_length=1)
    context: tuple[ContextFact, ...] = ()


class SensitivityCriterion(Cited):
    id: str
    met: bool


class Sensitivity(Model):
    data: Cited
    criteria: tuple[SensitivityCriterion, ...] = Field(min_length=1)


class HdsActivities(Model):
    used: dict[str, tuple[int, ...]]
    sources: tuple[str, ...] = Field(min_length=1)

    @field_validator("used")
    @classmethod
    def _six(cls, value: dict[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
        for target, activities in value.items():
            if not activities or any(a not in range(1, 7) for a in activities):
                raise ValueError(f"{target}: HDS activities are numbered 1 to 6 (got {list(activities)})")
        return value


class Recommended(Model):
    option: str
    why: Cited
    conditions: tuple[Cited, ...] = ()


class Fallback(Model):
    option: str
    when: Cited


class Decision(Model):
    asked: Text
    recommended: Recommended
    fallback: Fallback


class DecisionFile(Model):
    question: Text
    sensitivity: Sensitivity
    hds_activities: HdsActivities
    decision: Decision


class ExitTarget(Model):
    keys: Cited
    swipo: Cited
    standard_formats: bool
    swipo_declared: bool
    extra_custody_to_unwind: bool


class ExitFile(Model):
    rules: dict[str, Cited]
    targets: dict[str, ExitTarget]


CriterionKey = Literal["jurisdiction", "custody", "availability", "exit", "cost"]


class Criterion(Model):
    """One weighted criterion; how its 0-1 score is computed from the facts is fixed in
    reporting/decision.py (one derivation per key, each fact feeding one criterion only)."""

    key: CriterionKey
    weight: float = Field(ge=0)
    label: Text
    why: Text


class WeightsFile(Model):
    exposure_scores: dict[Exposure, float]
    criteria: tuple[Criterion, ...] = Field(min_length=1)

    @field_validator("exposure_scores")
    @classmethod
    def _one_scale(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != {"exposed", "exposed-under-conditions", "not-exposed"}:
            raise ValueError("must score exposed, exposed-under-conditions and not-exposed")
        if any(not 0.0 <= v <= 1.0 for v in value.values()):
            raise ValueError("scores are on the one 0-1 scale")
        return value

    @field_validator("criteria")
    @classmethod
    def _unique(cls, value: tuple[Criterion, ...]) -> tuple[Criterion, ...]:
        keys = [c.key for c in value]
        if len(set(keys)) != len(keys):
            raise ValueError(f"each criterion once (got {keys})")
        return value


class SummaryFile(Model):
    must_know: tuple[Cited, ...] = Field(min_length=1, max_length=3)


class Range(Model):
    low: float = Field(ge=0)
    high: float = Field(ge=0)


class SupportTiers(Model):
    minimum: float = Field(ge=0)
    tiers: tuple[tuple[float | None, float], ...] = Field(min_length=1)


class OwnershipLine(Model):
    key: str
    category: str
    label: Text
    currency: str
    monthly: Range | None = None
    unit_price: Range | None = None
    unit: str = ""
    quantity: str = ""
    free: float = 0.0
    support_tiers: SupportTiers | None = None
    basis: Basis
    material: bool
    sources: tuple[str, ...] = Field(min_length=1)
    note: Text | None = None


class Uplift(Model):
    factor: float = Field(ge=1)
    sources: tuple[str, ...] = Field(min_length=1)


class ExchangeRate(Model):
    """Units of a currency per euro on a date, from a source (ECB reference rate)."""

    per_eur: float = Field(gt=0)
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    sources: tuple[str, ...] = Field(min_length=1)


class OwnershipFile(Model):
    #: currency -> rate; None: no sourced rate, the currency's lines stay unconverted (not priced in EUR).
    exchange_rates: dict[str, ExchangeRate | None] = {}
    #: Cost categories every option is costed on (all or none).
    scope: tuple[str, ...] = ()
    other_region_uplift: Uplift
    lines: dict[str, tuple[OwnershipLine, ...]]


class Price(Model):
    """One unit price and where it comes from (basis: see data/prices/*.yaml headers)."""

    key: str = ""
    price: float | None = Field(default=None, ge=0)
    unit: str
    basis: Basis
    source: str
    url: str
    retrieved: str
    note: str = ""
    free_per_month: float = 0.0
    also: tuple[str, ...] = ()
    #: With basis "analogue": the high end of a range read from the nearest analogues (another region or
    #: architecture) when no figure for this exact item and region was found; ``price`` is the low end.
    high: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _range_only_from_analogues(self) -> Price:
        # A range is a claim about where the real price lies: it needs both ends and the analogue basis,
        # so a single figure can never be widened silently, nor a range be passed off as one price.
        if (self.basis == "analogue") != (self.high is not None):
            raise ValueError("high: a range (high) is given with basis 'analogue', and only then")
        if self.high is not None and (self.price is None or self.high < self.price):
            raise ValueError("high: must be at least price (the low end of the range)")
        return self

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source, *self.also)

    @property
    def verified(self) -> bool:
        return self.basis == "provider"


class PriceBook(Model):
    provider: str
    region: str
    currency: str
    prices: dict[str, Price]

    def get(self, key: str) -> Price:
        """The price of ``key``; a size absent from the file (``base:variant``) is 'not priced', never
        another size's price; a key absent from the file is 'not priced' too."""
        if key in self.prices:
            return self.prices[key]
        return Price(
            key=key,
            price=None,
            unit="",
            basis="none",
            source="project-cost-model",
            url="reporting/cost.py",
            retrieved="generated with the report",
            note=f"No price for {key!r} in the {self.provider} price file: not priced.",
        )


class Facts(Model):
    sources: dict[str, Source]
    providers: dict[str, Provider]
    options: tuple[OptionDef, ...]
    targets: dict[str, TargetFacts]
    threats: tuple[Threat, ...]
    legal: LegalFile
    exit: ExitFile
    weights: WeightsFile
    summary: SummaryFile
    decision: DecisionFile
    ownership: dict[str, tuple[OwnershipLine, ...]]
    uplift: Uplift
    prices: dict[str, PriceBook]
    exchange_rates: dict[str, ExchangeRate | None] = {}
    scope: tuple[str, ...] = ()

    def price_book(self, provider: str) -> PriceBook:
        """The provider's price book; a provider without a price file gets an empty one (every line 'not
        priced'), so a new option still renders."""
        return self.prices.get(provider) or PriceBook(provider=provider, region="", currency="EUR", prices={})


M = TypeVar("M", bound=BaseModel)


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping: PyYAML would keep the last one
    silently, so a source id (or a note) merged twice would replace the first without a word."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} given twice in one mapping (line {key_node.start_mark.line + 1})",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _read(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (safe loader)
    except OSError as error:
        raise FactsError(f"{path}: cannot read ({error.strerror})") from error
    except yaml.YAMLError as error:
        raise FactsError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from error


def _parse(model: type[M], path: Path, document: Any | None = None, prefix: str = "") -> M:
    raw = _read(path) if document is None else document
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join([*([prefix] if prefix else []), *(str(p) for p in first["loc"])]) or "(top level)"
        raise FactsError(f"{path}: {where}: {first['msg']}") from error


def _cited_ids(value: Any) -> list[tuple[str, str]]:
    """Every (field path, source id) a document cites, found by walking its 'sources'/'source'/'also'."""
    found: list[tuple[str, str]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if key in ("sources", "also", "legal_seat_sources") and isinstance(item, list):
                    found.extend((f"{where}{key}", str(s)) for s in item)
                elif key == "source" and isinstance(item, str):
                    found.append((f"{where}{key}", item))
                else:
                    walk(item, f"{where}{key}.")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{where}{index}.")

    walk(value, "")
    return found


def load_sources(data_dir: Path = DATA_DIR) -> dict[str, Source]:
    """Every source of ``data/facts/sources.yaml`` by id, each with a dated retrieval."""
    sources_path = data_dir / "facts" / "sources.yaml"
    document = _read(sources_path)
    if not isinstance(document, dict) or not isinstance(document.get("sources"), dict):
        raise FactsError(f"{sources_path}: sources: must be a mapping of source ids")
    return {
        key: _parse(Source, sources_path, value, f"sources.{key}")
        if isinstance(value, dict)
        else _bad(sources_path, key)
        for key, value in document["sources"].items()
    }


def load(data_dir: Path = DATA_DIR, weights: Path | None = None) -> Facts:
    """Loads and cross-checks every data file; ``weights`` replaces data/facts/weights.yaml."""
    facts_dir = data_dir / "facts"
    sources_path = facts_dir / "sources.yaml"
    sources = load_sources(data_dir)
    paths = {
        "options": facts_dir / "options.yaml",
        "threats": facts_dir / "threats.yaml",
        "legal": facts_dir / "legal.yaml",
        "exit": facts_dir / "exit.yaml",
        "summary": facts_dir / "summary.yaml",
        "decision": facts_dir / "decision.yaml",
        "weights": weights or facts_dir / "weights.yaml",
        "ownership": data_dir / "prices" / "ownership.yaml",
        "providers": facts_dir / "providers.yaml",
    }
    docs = {name: _read(path) for name, path in paths.items()}
    price_paths = sorted(p for p in (data_dir / "prices").glob("*.yaml") if p.name != "ownership.yaml")
    docs.update({f"price:{p.name}": _read(p) for p in price_paths})
    for name, document in docs.items():
        path = paths.get(name) or data_dir / "prices" / name.split(":", 1)[1]
        for where, ident in _cited_ids(document):
            if ident not in sources:
                raise FactsError(f"{path}: {where}: unknown source id {ident!r} (not in {sources_path})")
    options = _parse(OptionsFile, paths["options"], docs["options"])
    providers_doc = docs["providers"] if isinstance(docs["providers"], dict) else {}
    providers = {
        key: _parse(Provider, paths["providers"], value, f"providers.{key}")
        for key, value in (providers_doc.get("providers") or {}).items()
        if isinstance(value, dict)
    }
    books = {}
    for path in price_paths:
        raw = docs[f"price:{path.name}"]
        if isinstance(raw, dict) and isinstance(raw.get("prices"), dict):
            raw = {
                **raw,
                "prices": {k: {**v, "key": k} for k, v in raw["prices"].items() if isinstance(v, dict)},
            }
        book = _parse(PriceBook, path, raw)
        for key, price in book.prices.items():
            if price.url != sources[price.source].url:
                raise FactsError(f"{path}: prices.{key}.url: differs from source {price.source!r}")
        books[book.provider] = book
    ownership = _parse(OwnershipFile, paths["ownership"], docs["ownership"])
    return Facts(
        sources=sources,
        providers=providers,
        options=options.options,
        targets=options.targets,
        threats=_parse(ThreatsFile, paths["threats"], docs["threats"]).threats,
        legal=_parse(LegalFile, paths["legal"], docs["legal"]),
        exit=_parse(ExitFile, paths["exit"], docs["exit"]),
        weights=_parse(WeightsFile, paths["weights"], docs["weights"]),
        summary=_parse(SummaryFile, paths["summary"], docs["summary"]),
        decision=_parse(DecisionFile, paths["decision"], docs["decision"]),
        ownership=ownership.lines,
        uplift=ownership.other_region_uplift,
        exchange_rates=ownership.exchange_rates,
        scope=ownership.scope,
        prices=books,
    )


def _bad(path: Path, key: str) -> Source:
    raise FactsError(
        f"{path}: sources.{key}: must be a mapping with title, url, publisher, retrieved and an optional note {{en, fr}}"
    )
