"""Prices a bill of materials from the price files: quantity x unit price, minus free tiers.

A line whose price is null in the data file is kept, marked "not priced", and left out of the total;
the report says how many lines that is.
"""

from __future__ import annotations

from dataclasses import dataclass

from reporting.analysis import Quantity
from reporting.facts import Price, PriceBook


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

    @property
    def unverified(self) -> list[CostLine]:
        return [line for line in self.lines if line.priced and line.price.status != "verified"]

    def by_category(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            if line.amount is not None:
                totals[line.quantity.category] = round(
                    totals.get(line.quantity.category, 0.0) + line.amount, 2
                )
        return totals


def free_allowance(quantity: Quantity, price: Price) -> float:
    """The price's monthly free tier in the line's unit (requests are counted in tens of thousands)."""
    return price.free_per_month / 10_000 if quantity.unit == "10k requests" else price.free_per_month


def price_line(quantity: Quantity, price: Price, free: float = 0.0) -> CostLine:
    billable = max(0.0, quantity.quantity - free)
    amount = None if price.price is None else round(billable * price.price, 2)
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
