"""Inventory facts the rules are computed from: pure, immutable snapshots.

The store loads these in bulk; the domain never asks for more. A snapshot is always about one
(sku, stock) pair: its source items carry whether their source is enabled and linked to that
stock, so every rule can be evaluated without further lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from gateway.domain.options import OptionValue

EMPTY: Mapping[str, OptionValue] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class SourceItemState:
    """One source item as seen from one stock."""

    source_code: str
    quantity: Decimal
    in_stock: bool
    source_enabled: bool = True
    linked: bool = True
    config: Mapping[str, OptionValue] = field(default_factory=lambda: EMPTY)

    @property
    def counts(self) -> bool:
        """On an enabled source linked to the stock: the item assigns the SKU to the stock."""
        return self.linked and self.source_enabled

    @property
    def contributes(self) -> bool:
        """Counts and is in stock: its quantity is part of the physical quantity."""
        return self.counts and self.in_stock


@dataclass(frozen=True, slots=True)
class ConfigChain:
    """Option values set at the levels above the source items, for one (sku, stock)."""

    product: Mapping[str, OptionValue] = field(default_factory=lambda: EMPTY)
    stock: Mapping[str, OptionValue] = field(default_factory=lambda: EMPTY)
    global_config: Mapping[str, OptionValue] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True, slots=True)
class StockSnapshot:
    """Everything needed to answer availability for one (sku, stock).

    ``reserved`` is the signed sum of the reservations (negative while orders are open).
    """

    sku: str
    stock_id: int
    source_items: tuple[SourceItemState, ...] = ()
    reserved: Decimal = Decimal(0)
    chain: ConfigChain = field(default_factory=ConfigChain)

    @property
    def is_assigned(self) -> bool:
        """docs/rules.md §1: at least one source item on an enabled source linked to the stock."""
        return any(item.counts for item in self.source_items)

    @property
    def any_in_stock(self) -> bool:
        return any(item.contributes for item in self.source_items)

    @property
    def physical(self) -> Decimal:
        """Σ quantity of in-stock items on enabled linked sources."""
        return sum((i.quantity for i in self.source_items if i.contributes), Decimal(0))
