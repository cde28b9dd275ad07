"""The rule lint: settings that make a product unbuyable or misleading (docs/rules.md §10).

Beyond Magento, which accepts every combination of levels one by one. Nothing here refuses
anything: merchants set the levels independently, so a combination is only *reported*, per
(sku, stock), with the effective settings involved (the engine's provenance says which level
set each) and a suggested fix. Pure: findings come from a snapshot and its effective settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gateway.domain.inheritance import EffectiveSettings
from gateway.domain.lint import quantity_checks, stock_checks
from gateway.domain.lint.findings import Finding, Findings, LintCode
from gateway.domain.model import ConfigChain, StockSnapshot

__all__ = ["Finding", "LintCode", "Resolver", "customer_groups", "is_sold", "lint",
           "lint_snapshot"]


def customer_groups(chain: ConfigChain) -> list[str]:
    """Every customer group that has its own minimum at some level, sorted."""
    groups: set[str] = set()
    for values in (chain.product, chain.stock, chain.global_config):
        by_group = values.get("min_sale_qty_by_group")
        if isinstance(by_group, Mapping):
            groups.update(by_group)
    return sorted(groups)


def is_sold(snapshot: StockSnapshot) -> bool:
    """The stock sells the SKU: it has a source item on one of the stock's sources (enabled
    or not). Only such (sku, stock) pairs are linted: other stocks simply do not carry it."""
    return any(item.linked for item in snapshot.source_items)


def lint(snapshot: StockSnapshot, settings: EffectiveSettings,
         by_group: Mapping[str, EffectiveSettings] | None = None) -> list[Finding]:
    """Every finding of docs/rules.md §10 for the snapshot's (sku, stock), in :class:`LintCode`
    order; empty when the stock does not sell the SKU.

    ``settings`` are the engine's effective settings for all customer groups; ``by_group``
    those for each group with its own minimum (see :func:`customer_groups`), so that a
    group's minimum is checked too.
    """
    if not is_sold(snapshot):
        return []
    found = Findings(snapshot.sku, snapshot.stock_id)
    stock_checks.sources(snapshot, found)
    minimums = list(quantity_checks.minimums(settings, by_group or {}))
    quantity_checks.min_above_max(minimums, settings, found)
    quantity_checks.steps(minimums, settings, snapshot.chain, found)
    quantity_checks.fractions(minimums, settings, found)
    if settings.manage_stock:
        stock_checks.notify(snapshot, settings, found)
        stock_checks.backorders(settings, found)
    return found.items


#: Resolves a snapshot's effective settings for one customer group (None: all groups).
Resolver = Callable[[StockSnapshot, str | None], EffectiveSettings]


def lint_snapshot(snapshot: StockSnapshot, settings_for: Resolver) -> list[Finding]:
    """:func:`lint` with the settings of every group the snapshot's chain names, resolved
    through ``settings_for`` (the engine, or a memoised front of it)."""
    if not is_sold(snapshot):
        return []
    groups = customer_groups(snapshot.chain)
    return lint(snapshot, settings_for(snapshot, None),
                {g: settings_for(snapshot, g) for g in groups})

