"""Stock events for back offices: a (sku, stock) crossing into or out of stock, or into low stock.

Like the stock webhooks of other commerce platforms, but derived from the availability rules:
a write's events compare each touched pair's answer before the write with its answer after it
(the transaction's start and end, never an intermediate state).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from gateway.domain.facts import StockFacts, availability_of


class StockEventKind(StrEnum):
    OUT_OF_STOCK = "OUT_OF_STOCK"  # was salable, is not any more
    BACK_IN_STOCK = "BACK_IN_STOCK"  # was not salable, is again
    LOW_STOCK = "LOW_STOCK"  # fell below its notify quantity (docs/rules.md §5 low_stock)


@dataclass(frozen=True, slots=True)
class StockState:
    """What events are about, for one (sku, stock)."""

    is_salable: bool
    low_stock: bool
    salable_qty: Decimal | None


@dataclass(frozen=True, slots=True)
class StockEvent:
    """One crossing, as recorded by the write that caused it (``sequence`` orders them)."""

    sequence: int
    sku: str
    stock_id: int
    kind: StockEventKind
    salable_qty: Decimal | None  # after the write (null when stock is not managed)


def state_of(facts: StockFacts) -> StockState:
    """The state of a facts row, as a storefront would be told (for all customer groups)."""
    answer = availability_of(facts)
    return StockState(answer.is_salable, answer.low_stock, answer.salable_qty)


def crossings(before: StockState | None, after: StockState | None) -> list[StockEventKind]:
    """The events between two states of one pair. A pair that appears or disappears (a new
    or deleted product) crosses nothing: events are about stock, not the catalog."""
    if before is None or after is None:
        return []
    found = []
    if before.is_salable and not after.is_salable:
        found.append(StockEventKind.OUT_OF_STOCK)
    elif after.is_salable and not before.is_salable:
        found.append(StockEventKind.BACK_IN_STOCK)
    if after.low_stock and not before.low_stock:
        found.append(StockEventKind.LOW_STOCK)
    return found
