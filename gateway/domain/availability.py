"""Salable quantity, stock status, "only X left" and low stock for one (sku, stock).

docs/rules.md §5, computed from the quantities of the pair (a :class:`StockSnapshot`, or the
precomputed facts of :mod:`gateway.domain.facts`) and its effective settings (the engine's,
with provenance, or the facts' resolved rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from gateway.domain.inheritance import EffectiveSettings, Setting, resolve, resolve_source_item
from gateway.domain.model import ConfigChain, SourceItemState, StockSnapshot
from gateway.domain.options import Backorders
from gateway.domain.quantity import ZERO, compare


class StockQuantities(Protocol):
    """What the rules read of a (sku, stock) besides its settings."""

    @property
    def sku(self) -> str: ...
    @property
    def stock_id(self) -> int: ...
    @property
    def is_assigned(self) -> bool: ...
    @property
    def any_in_stock(self) -> bool: ...
    @property
    def physical(self) -> Decimal: ...
    @property
    def reserved(self) -> Decimal: ...


class AvailabilityRules(Protocol):
    """The effective settings an availability answer reads (no provenance needed)."""

    @property
    def manage_stock(self) -> bool: ...
    @property
    def backorders(self) -> Backorders: ...
    @property
    def adapted_min_qty(self) -> Decimal: ...
    @property
    def unlimited_backorders(self) -> bool: ...
    @property
    def min_sale_qty(self) -> Decimal: ...
    @property
    def max_sale_qty(self) -> Decimal: ...
    @property
    def qty_increments(self) -> Decimal: ...
    @property
    def is_qty_decimal(self) -> bool: ...
    @property
    def is_decimal_divided(self) -> bool: ...
    @property
    def notify_stock_qty(self) -> Decimal: ...
    @property
    def stock_threshold_qty(self) -> Decimal: ...
    @property
    def show_out_of_stock(self) -> bool: ...


class StockStatus(StrEnum):
    """Whether a SKU can be sold in a stock (Magento's stock status)."""

    IN_STOCK = "IN_STOCK"
    OUT_OF_STOCK = "OUT_OF_STOCK"


@dataclass(frozen=True, slots=True)
class Availability:
    """What a storefront may be told about one SKU in one stock.

    ``salable_qty`` is ``None`` when stock is not managed and 0 when the SKU is not salable;
    ``left_to_sell`` is the unclamped physical + reserved − adapted min_qty used by the checks.
    """

    sku: str
    stock_id: int
    is_assigned: bool
    any_in_stock: bool
    is_salable: bool
    salable_qty: Decimal | None
    left_to_sell: Decimal
    physical: Decimal
    reserved: Decimal
    only_x_left: Decimal | None
    low_stock: bool
    rules: AvailabilityRules

    @property
    def stock_status(self) -> StockStatus:
        return StockStatus.IN_STOCK if self.is_salable else StockStatus.OUT_OF_STOCK

    @property
    def settings(self) -> EffectiveSettings:
        """Every effective setting with its provenance (for explain and cart checks).

        Raises ValueError for an answer computed from precomputed facts, which carry only the
        values: callers that need provenance ask the engine (the service's full read).
        """
        if not isinstance(self.rules, EffectiveSettings):
            raise ValueError(f"the availability of {self.sku} was read without provenance")
        return self.rules


def is_salable(snapshot: StockQuantities, settings: AvailabilityRules) -> bool:
    """docs/rules.md §5 stock status, rules 1-5 in order."""
    if not snapshot.is_assigned:
        return False
    if not settings.manage_stock:
        return True
    if not snapshot.any_in_stock:
        return False  # backorders never rescue a SKU whose items are all out of stock
    if settings.unlimited_backorders:
        return True
    return compare(left_to_sell(snapshot, settings), ZERO) > 0


def left_to_sell(snapshot: StockQuantities, settings: AvailabilityRules) -> Decimal:
    """physical + reserved − adapted min_qty (may be negative)."""
    return snapshot.physical + snapshot.reserved - settings.adapted_min_qty


def evaluate(snapshot: StockQuantities, settings: AvailabilityRules) -> Availability:
    """Availability of the snapshot's SKU under ``settings``."""
    salable = is_salable(snapshot, settings)
    left = left_to_sell(snapshot, settings)
    managed = settings.manage_stock
    salable_qty: Decimal | None = None
    if managed:
        salable_qty = left if salable else ZERO
    only_x_left: Decimal | None = None
    threshold = settings.stock_threshold_qty
    # Under unlimited backorders any quantity can be ordered: "only 3 left" would be false
    # scarcity (Magento's IsSalableQtyAvailableForDisplaying hides it too). A capped backorder
    # (negative threshold) makes the number real, so it shows.
    if (managed and salable_qty is not None and threshold > 0
            and not settings.unlimited_backorders
            and compare(salable_qty, ZERO) > 0 and compare(salable_qty, threshold) <= 0):
        only_x_left = salable_qty
    low_stock = (managed and salable and salable_qty is not None
                 and compare(salable_qty, settings.notify_stock_qty) < 0)
    return Availability(
        sku=snapshot.sku, stock_id=snapshot.stock_id, is_assigned=snapshot.is_assigned,
        any_in_stock=snapshot.any_in_stock, is_salable=salable, salable_qty=salable_qty,
        left_to_sell=left, physical=snapshot.physical, reserved=snapshot.reserved,
        only_x_left=only_x_left, low_stock=low_stock, rules=settings)


def assess(snapshot: StockSnapshot, customer_group: str | None = None) -> Availability:
    """Resolve the snapshot's settings with the one engine, then evaluate availability."""
    return evaluate(snapshot, resolve(snapshot.chain, snapshot.source_items, customer_group))


def low_stock_setting(item: SourceItemState, chain: ConfigChain) -> Setting | None:
    """docs/rules.md §8: the item's effective ``notify_stock_qty`` (source item > product >
    stock > global) when the item is in stock with 0 < quantity < that value; else None."""
    if not item.in_stock or item.quantity <= 0:
        return None
    notify = resolve_source_item("notify_stock_qty", item, chain)
    assert isinstance(notify.value, Decimal)
    return notify if item.quantity < notify.value else None
