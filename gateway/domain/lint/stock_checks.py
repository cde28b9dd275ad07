"""Lint checks of the stock side (docs/rules.md §1, §4, §8, §10): disabled-only sources,
a notify quantity within the safety stock, and backorders that ignore or lack a cap."""

from __future__ import annotations

from decimal import Decimal

from gateway.domain.inheritance import EffectiveSettings, Setting, resolve_source_item
from gateway.domain.lint.findings import Findings, LintCode, qty, where
from gateway.domain.model import StockSnapshot
from gateway.domain.options import Backorders
from gateway.domain.quantity import compare


def sources(snapshot: StockSnapshot, found: Findings) -> None:
    """NO_ENABLED_SOURCE: the stock holds the SKU only on disabled sources."""
    if snapshot.is_assigned:
        return
    disabled = sorted(item.source_code for item in snapshot.source_items
                      if item.linked and not item.source_enabled)
    codes = ", ".join(disabled)
    found.add(LintCode.NO_ENABLED_SOURCE,
              f"Stock {snapshot.stock_id} holds this SKU only on disabled sources ({codes}): "
              "it is not assigned there and cannot be sold.", (),
              f"Enable {codes}, or add a source item on an enabled source linked to stock "
              f"{snapshot.stock_id}.")


def notify(snapshot: StockSnapshot, settings: EffectiveSettings, found: Findings) -> None:
    """NOTIFY_AT_OR_BELOW_THRESHOLD, over the items that count (each item's own value)."""
    threshold = settings.adapted_min_qty
    if threshold <= 0:
        # Without safety stock a notify quantity ≤ 0 simply switches the report off.
        return
    offending: list[Setting] = []
    for item in snapshot.source_items:
        if not item.counts:
            continue
        notify = resolve_source_item("notify_stock_qty", item, snapshot.chain)
        assert isinstance(notify.value, Decimal)
        if compare(notify.value, threshold) <= 0 and notify not in offending:
            offending.append(notify)
    if not offending:
        return
    values = ", ".join(sorted({qty(_dec(s)) for s in offending}))
    found.add(LintCode.NOTIFY_AT_OR_BELOW_THRESHOLD,
              f"Notify for Quantity Below ({values}) is at or below the Out-of-Stock Threshold "
              f"({qty(threshold)}): a source item is reported as low only once it holds less "
              "than the safety stock, too late to restock before the product stops selling.",
              (*offending, settings["min_qty"]),
              f"Set notify_stock_qty above {qty(threshold)} "
              + " and ".join(sorted({where(s) for s in offending})) + ".")


def _dec(setting: Setting) -> Decimal:
    assert isinstance(setting.value, Decimal)
    return setting.value


def backorders(settings: EffectiveSettings, found: Findings) -> None:
    """A positive threshold ignored by backorders; notifying backorders without a cap."""
    mode = settings.backorders
    raw = settings.min_qty
    if not mode.enabled:
        return
    involved = (settings["backorders"], settings["min_qty"])
    if raw > 0:
        found.add(LintCode.THRESHOLD_IGNORED_WITH_BACKORDERS,
                  f"The Out-of-Stock Threshold ({qty(raw)}) is ignored because backorders are "
                  f"on ({mode.value}): no safety stock is held back and any quantity can be "
                  "ordered.", involved,
                  f"Turn backorders off to keep {qty(raw)} in reserve, or set a negative "
                  "min_qty to cap backorders.")
    if mode is Backorders.ALLOW_NOTIFY and raw >= 0:
        found.add(LintCode.UNCAPPED_BACKORDER_NOTICE,
                  "Backorders with customer notification and no cap (Out-of-Stock Threshold "
                  f"{qty(raw)} ≥ 0): any quantity can be ordered, and every line beyond the "
                  "stock on hand carries a backorder notice.", involved,
                  "Set a negative min_qty (the most that may be backordered) to cap "
                  "backorders, or use backorders 'allow' to order without notices.")


