"""Availability facts: what a storefront answer needs of one (sku, stock), kept at write time.

The store keeps one row of facts per (product, stock), recomputed with :func:`facts_of` in the
same transaction as every write that changes its inputs, and adds each reservation to its
``reserved``. A read is then :func:`availability_of` on that row: a few decimal comparisons,
no inheritance walk. Everything here is the rules' own code (the engine resolves the settings,
:func:`~gateway.domain.availability.evaluate` decides), so a read from facts answers exactly
what a read through the engine answers (tests compare both on every answer).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from types import MappingProxyType

from gateway.domain.availability import Availability, evaluate
from gateway.domain.inheritance import (
    EffectiveSettings,
    adapt_min_qty,
    resolve_chain,
    unlimited_backorders,
)
from gateway.domain.model import ConfigChain, StockSnapshot
from gateway.domain.options import Backorders
from gateway.domain.quantity import format_qty

#: Bump when what :func:`facts_of` computes changes: stores rebuild every row on open.
FACTS_VERSION = 1


@dataclass(frozen=True, slots=True)
class Rules:
    """The effective settings an availability answer reads, as resolved for all customer
    groups, plus the effective ``min_sale_qty`` of every group some level names."""

    manage_stock: bool
    backorders: Backorders
    min_qty: Decimal
    min_sale_qty: Decimal
    max_sale_qty: Decimal
    qty_increments: Decimal
    is_qty_decimal: bool
    is_decimal_divided: bool
    notify_stock_qty: Decimal
    stock_threshold_qty: Decimal
    show_out_of_stock: bool
    min_sale_qty_by_group: Mapping[str, Decimal]

    @property
    def adapted_min_qty(self) -> Decimal:
        return adapt_min_qty(self.min_qty, self.backorders)

    @property
    def unlimited_backorders(self) -> bool:
        return unlimited_backorders(self.min_qty, self.backorders)

    def for_group(self, customer_group: str | None) -> Rules:
        """The rules a customer group sees (only its minimum can differ)."""
        if customer_group is None or customer_group not in self.min_sale_qty_by_group:
            return self
        return replace(self, min_sale_qty=self.min_sale_qty_by_group[customer_group])


def rules_of(settings: EffectiveSettings, chain: ConfigChain) -> Rules:
    """The rules of ``settings`` (resolved for all groups) and the group minimums of ``chain``."""
    groups: set[str] = set()
    for level in (chain.product, chain.stock, chain.global_config):
        named = level.get("min_sale_qty_by_group")
        if isinstance(named, Mapping):
            groups.update(named)
    by_group = {}
    for group in sorted(groups):
        value = resolve_chain("min_sale_qty", chain, group).value
        assert isinstance(value, Decimal)
        by_group[group] = value
    return Rules(
        manage_stock=settings.manage_stock, backorders=settings.backorders,
        min_qty=settings.min_qty, min_sale_qty=settings.min_sale_qty,
        max_sale_qty=settings.max_sale_qty, qty_increments=settings.qty_increments,
        is_qty_decimal=settings.is_qty_decimal, is_decimal_divided=settings.is_decimal_divided,
        notify_stock_qty=settings.notify_stock_qty,
        stock_threshold_qty=settings.stock_threshold_qty,
        show_out_of_stock=settings.show_out_of_stock,
        min_sale_qty_by_group=MappingProxyType(by_group))


@dataclass(frozen=True, slots=True)
class StockFacts:
    """The facts of one (sku, stock): its quantities and its rules."""

    sku: str
    stock_id: int
    is_assigned: bool
    any_in_stock: bool
    physical: Decimal
    reserved: Decimal
    rules: Rules

    @property
    def floor(self) -> Decimal | None:
        """The lowest the reservation total may reach (physical + reserved − adapted min_qty
        stays ≥ 0), or None when nothing limits it (stock not managed, unlimited backorders).
        """
        if not self.rules.manage_stock or self.rules.unlimited_backorders:
            return None
        return self.rules.adapted_min_qty - self.physical

    @property
    def sellable(self) -> bool:
        """Something may be reserved at all: assigned, and in stock when stock is managed."""
        return self.is_assigned and (self.any_in_stock or not self.rules.manage_stock)


def facts_of(snapshot: StockSnapshot, settings: EffectiveSettings) -> StockFacts:
    """The facts of a snapshot whose settings the engine resolved (for no customer group)."""
    return StockFacts(snapshot.sku, snapshot.stock_id, snapshot.is_assigned,
                      snapshot.any_in_stock, snapshot.physical, snapshot.reserved,
                      rules_of(settings, snapshot.chain))


def availability_of(facts: StockFacts, customer_group: str | None = None) -> Availability:
    """The availability answer of a facts row (the same as the engine's, without provenance)."""
    return evaluate(facts, facts.rules.for_group(customer_group))


def dump_rules(rules: Rules) -> str:
    """Canonical JSON text of ``rules``: equal rules give equal text."""
    return json.dumps({
        "manage_stock": rules.manage_stock, "backorders": rules.backorders.value,
        "min_qty": format_qty(rules.min_qty), "min_sale_qty": format_qty(rules.min_sale_qty),
        "max_sale_qty": format_qty(rules.max_sale_qty),
        "qty_increments": format_qty(rules.qty_increments),
        "is_qty_decimal": rules.is_qty_decimal, "is_decimal_divided": rules.is_decimal_divided,
        "notify_stock_qty": format_qty(rules.notify_stock_qty),
        "stock_threshold_qty": format_qty(rules.stock_threshold_qty),
        "show_out_of_stock": rules.show_out_of_stock,
        "min_sale_qty_by_group": {g: format_qty(q)
                                  for g, q in sorted(rules.min_sale_qty_by_group.items())},
    }, sort_keys=True, separators=(",", ":"))


def load_rules(text: str) -> Rules:
    """The inverse of :func:`dump_rules`."""
    raw = json.loads(text)
    return Rules(
        manage_stock=bool(raw["manage_stock"]), backorders=Backorders(raw["backorders"]),
        min_qty=Decimal(raw["min_qty"]), min_sale_qty=Decimal(raw["min_sale_qty"]),
        max_sale_qty=Decimal(raw["max_sale_qty"]),
        qty_increments=Decimal(raw["qty_increments"]),
        is_qty_decimal=bool(raw["is_qty_decimal"]),
        is_decimal_divided=bool(raw["is_decimal_divided"]),
        notify_stock_qty=Decimal(raw["notify_stock_qty"]),
        stock_threshold_qty=Decimal(raw["stock_threshold_qty"]),
        show_out_of_stock=bool(raw["show_out_of_stock"]),
        min_sale_qty_by_group=MappingProxyType({g: Decimal(q) for g, q in
                                                raw["min_sale_qty_by_group"].items()}))


__all__ = ["FACTS_VERSION", "Rules", "StockFacts", "availability_of", "dump_rules",
           "facts_of", "load_rules", "rules_of"]
