"""Prices a bill of materials (quantity x unit price, minus free tiers) and adds the cost of ownership
as monthly ranges. A line without a sourced price stays in the list, marked 'not priced'; an option's
total per currency is shown only when none of its material lines is unpriced. Currencies never add.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reporting.bom import Assumptions, Quantity
from reporting.facts import ExchangeRate, OwnershipLine, Price, PriceBook, Text, Uplift


@dataclass(frozen=True)
class CostLine:
    quantity: Quantity
    price: Price
    billable: float
    amount: float | None

    @property
    def priced(self) -> bool:
        return self.amount is not None


@dataclass(frozen=True)
class Bill:
    stack: str
    currency: str
    lines: list[CostLine]

    @property
    def total(self) -> float:
        return round(sum(line.amount for line in self.lines if line.amount is not None), 2)

    @property
    def unpriced(self) -> list[CostLine]:
        return [line for line in self.lines if not line.priced]

    def by_category(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            if line.amount is not None:
                category = line.quantity.category
                totals[category] = round(totals.get(category, 0.0) + line.amount, 2)
        return totals


def free_allowance(quantity: Quantity, price: Price) -> float:
    """The price's monthly free tier in the line's unit (requests are counted in tens of thousands)."""
    return price.free_per_month / 10_000 if quantity.unit == "10k requests" else price.free_per_month


def price_line(quantity: Quantity, price: Price, free: float = 0.0) -> CostLine:
    billable = max(0.0, quantity.quantity - free)
    # A figure for an offer the provider has since replaced is not a price of today's offer: the line is
    # listed with it, but not priced (fail closed), so no total rests on it.
    amount = None if price.price is None or price.basis == "outdated" else round(billable * price.price, 2)
    return CostLine(quantity, price, billable, amount)


def price_bill(stack: str, quantities: list[Quantity], book: PriceBook) -> Bill:
    """Prices each line; a free tier is per account and month, so it is used up once across the lines."""
    remaining: dict[str, float] = {}
    lines = []
    for quantity in quantities:
        price = book.get(quantity.price_key)
        free = remaining.setdefault(price.key, free_allowance(quantity, price))
        used = min(free, quantity.quantity)
        remaining[price.key] = free - used
        lines.append(price_line(quantity, price, used))
    return Bill(stack, book.currency, lines)


# --- ranges ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RangeLine:
    """One line of the cost of ownership: a monthly low/high (None when not priced), with its basis."""

    label: Text | str
    category: str
    currency: str
    low: float | None
    high: float | None
    basis: str
    sources: tuple[str, ...]
    material: bool
    note: Text | str = ""
    detail: str = ""  # quantity x unit price, at real precision (English units, as the price files say)
    #: The same as numbers, (quantity, unit price) at the low and high ends, for pages in other languages.
    figures: tuple[tuple[float, float | None], ...] = ()

    @property
    def priced(self) -> bool:
        return self.low is not None and self.high is not None


@dataclass
class CostRange:
    """An option's monthly cost as ranges per currency, and the lines that leave it incomplete."""

    lines: list[RangeLine] = field(default_factory=list)

    def totals(self) -> dict[str, tuple[float, float]]:
        sums: dict[str, tuple[float, float]] = {}
        for line in self.lines:
            if line.low is not None and line.high is not None:
                low, high = sums.get(line.currency, (0.0, 0.0))
                sums[line.currency] = (round(low + line.low, 2), round(high + line.high, 2))
        return sums

    @property
    def unpriced(self) -> list[RangeLine]:
        return [line for line in self.lines if not line.priced]

    @property
    def material_unpriced(self) -> list[RangeLine]:
        return [line for line in self.unpriced if line.material]

    @property
    def complete(self) -> bool:
        return not self.material_unpriced

    def in_eur(self, rates: dict[str, ExchangeRate | None]) -> EurTotal:
        """The monthly range in euros: other currencies converted at their sourced rate; a line in a
        currency without one is left out and counted, so the figure is only a floor ("from")."""
        low = high = 0.0
        unconverted = 0
        for line in self.lines:
            if line.low is None or line.high is None:
                continue
            rate = 1.0 if line.currency == "EUR" else (r.per_eur if (r := rates.get(line.currency)) else None)
            if rate is None:
                unconverted += 1
                continue
            low += line.low / rate
            high += line.high / rate
        return EurTotal(round(low, 2), round(high, 2), unconverted, self.complete and not unconverted)


@dataclass(frozen=True)
class EurTotal:
    """An option's monthly cost in euros; ``complete`` False means the figures are a floor ("from")."""

    low: float
    high: float
    unconverted: int
    complete: bool


def bill_range_lines(bill: Bill, uplift: Uplift) -> list[RangeLine]:
    """The bill of materials as range lines: a price stated for this region gives one figure (low =
    high); a price read for another region spans that figure to figure x the sourced regional uplift; a
    range read from the nearest analogues spans quantity x its low end to quantity x its high end."""
    return [_range_line(line, bill.currency, uplift) for line in bill.lines]


def _range_line(line: CostLine, currency: str, uplift: Uplift) -> RangeLine:
    price = line.price
    other_region = price.basis == "other-region"
    if line.amount is None:
        high = None
    elif price.high is not None:
        high = round(line.billable * price.high, 2)
    else:
        high = round(line.amount * (uplift.factor if other_region else 1.0), 2)
    detail = unit_detail(line.billable, line.quantity.unit, price.price, price.unit)
    figures: tuple[tuple[float, float | None], ...] = ((line.billable, price.price),)
    if price.high is not None:
        detail += f" .. {unit_detail(line.billable, line.quantity.unit, price.high, price.unit)}"
        figures += ((line.billable, price.high),)
    return RangeLine(
        line.quantity.item,
        line.quantity.category,
        currency,
        line.amount,
        high,
        price.basis,
        price.sources + (uplift.sources if other_region else ()),
        # Compute, data and network lines carry the service itself: leaving one out changes the answer.
        material=line.quantity.category in ("compute", "data", "network"),
        note=price.note,
        detail=detail,
        figures=figures,
    )


def unit_detail(quantity: float, unit: str, price: float | None, price_unit: str) -> str:
    """'1,460 vCPU-hours x 0.03238 / vCPU-hour': prices at the precision the source gives them."""
    shown = "not priced" if price is None else f"{price:.10f}".rstrip("0").rstrip(".")
    return f"{quantity:,.2f} {unit} x {shown}{' / ' + price_unit if price_unit and price is not None else ''}"


def support_charge(usage: float, minimum: float, tiers: tuple[tuple[float | None, float], ...]) -> float:
    """A tiered support fee: the greater of the minimum or the sum of each usage band x its rate."""
    charge, floor = 0.0, 0.0
    for ceiling, rate in tiers:
        top = usage if ceiling is None else min(usage, ceiling)
        if top > floor:
            charge += (top - floor) * rate
        if ceiling is None or usage <= ceiling:
            break
        floor = ceiling
    return round(max(minimum, charge), 2)


def ownership_lines(
    lines: tuple[OwnershipLine, ...],
    a: Assumptions,
    usage: CostRange,
    stack_quantities: Mapping[str, tuple[float, float]] | None = None,
) -> list[RangeLine]:
    """Ownership lines for one target; support is computed from the target's usage range in its currency.
    A line's quantity is read from ``stack_quantities`` (reporting.bom.option_quantities: what depends on
    the stack) before the load model."""
    known = stack_quantities or {}

    def quantity(name: str, end: str) -> float:
        if name in known:
            return known[name][0 if end == "low" else 1]
        return a.quantity(name, end)

    out: list[RangeLine] = []
    for line in lines:
        low: float | None = None
        high: float | None = None
        detail = ""
        figures: tuple[tuple[float, float | None], ...] = ()
        if line.monthly is not None:
            low, high = line.monthly.low, line.monthly.high
        elif line.unit_price is not None and line.quantity:
            q_low = max(0.0, quantity(line.quantity, "low") - line.free)
            q_high = max(0.0, quantity(line.quantity, "high") - line.free)
            low, high = round(q_low * line.unit_price.low, 2), round(q_high * line.unit_price.high, 2)
            figures = ((q_low, line.unit_price.low), (q_high, line.unit_price.high))
            detail = (
                unit_detail(q_low, line.unit, line.unit_price.low, line.unit)
                if q_low == q_high
                else f"{unit_detail(q_low, line.unit, line.unit_price.low, line.unit)} .. "
                f"{unit_detail(q_high, line.unit, line.unit_price.high, line.unit)}"
            )
        elif line.quantity:
            detail = unit_detail(quantity(line.quantity, "high"), line.unit, None, line.unit)
        elif line.support_tiers is not None:
            spent = [r for r in (*usage.lines, *out) if r.currency == line.currency and r.priced]
            base_low = sum(r.low or 0.0 for r in spent)
            base_high = sum(r.high or 0.0 for r in spent)
            low = support_charge(base_low, line.support_tiers.minimum, line.support_tiers.tiers)
            high = support_charge(base_high, line.support_tiers.minimum, line.support_tiers.tiers)
            detail = f"on {base_low:,.2f} .. {base_high:,.2f} {line.currency} of priced usage"
        if line.basis == "outdated":
            low = high = None  # historical terms of a replaced offer: listed, not priced
        out.append(
            RangeLine(
                line.label,
                line.category,
                line.currency,
                low,
                high,
                line.basis,
                line.sources,
                line.material,
                line.note or "",
                detail,
                figures,
            )
        )
    return out
