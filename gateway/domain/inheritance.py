"""The one inheritance engine: effective option values with their provenance.

Order (docs/rules.md §3): source item → product → stock → global → built-in default. The first
level that sets an option gives its value; the answer also names the source item (for
source-level options) and every lower level whose value it overrode. Source-level options are
aggregated over the items that contribute to the stock (all assigned items if none do). The
adapted ``min_qty`` of §4 lives here too. No other module may re-implement a fallback.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from gateway.domain.model import ConfigChain, SourceItemState
from gateway.domain.options import (
    OPTIONS,
    SOURCE_LEVEL_OPTIONS,
    Backorders,
    Level,
    OptionValue,
    display_value,
)
from gateway.domain.quantity import ZERO, format_qty

_CHAIN_LEVELS = (Level.PRODUCT, Level.STOCK, Level.GLOBAL)


@dataclass(frozen=True, slots=True)
class Setting:
    """An effective value and where it came from."""

    name: str
    value: OptionValue
    level: Level
    source_code: str | None = None
    overrides: tuple[Level, ...] = ()
    note: str | None = None

    @property
    def display(self) -> str:
        return display_value(self.value)


def _level_values(chain: ConfigChain) -> tuple[tuple[Level, Mapping[str, OptionValue]], ...]:
    return ((Level.PRODUCT, chain.product), (Level.STOCK, chain.stock),
            (Level.GLOBAL, chain.global_config))


def _value_at(values: Mapping[str, OptionValue], name: str,
              customer_group: str | None) -> OptionValue | None:
    if not values:
        return None
    if customer_group is not None and name == "min_sale_qty":
        by_group = values.get("min_sale_qty_by_group")
        if isinstance(by_group, Mapping) and customer_group in by_group:
            return by_group[customer_group]
    return values.get(name)


def resolve_chain(name: str, chain: ConfigChain, customer_group: str | None = None) -> Setting:
    """The effective value of ``name`` from product, stock, global and default levels.

    For ``min_sale_qty`` a level's value for the exact customer group wins over that level's
    all-groups value; the first level with either gives the answer.
    """
    found_level: Level | None = None
    found: OptionValue | None = None
    overridden: list[Level] = []
    for level, values in _level_values(chain):
        value = _value_at(values, name, customer_group)
        if value is None:
            continue
        if found_level is None:
            found_level, found = level, value
        else:
            overridden.append(level)
    if found_level is None or found is None:
        return Setting(name, OPTIONS[name].default, Level.DEFAULT)
    overridden.append(Level.DEFAULT)
    return Setting(name, found, found_level, None, tuple(overridden))


def resolve_source_item(name: str, item: SourceItemState, chain: ConfigChain) -> Setting:
    """The effective value of a source-level option for one source item."""
    below = resolve_chain(name, chain)
    if name in item.config:
        lower = tuple(lv for lv in (*_CHAIN_LEVELS, Level.DEFAULT)
                      if lv is Level.DEFAULT or below.level is lv or lv in below.overrides)
        return Setting(name, item.config[name], Level.SOURCE_ITEM, item.source_code, lower)
    return below


def _aggregate(name: str, items: Sequence[SourceItemState], chain: ConfigChain) -> Setting:
    chain_setting = resolve_chain(name, chain)
    if name == "notify_stock_qty" or not items:
        # notify_stock_qty stays per source item (low-stock report); the stock sees the product's.
        return chain_setting
    considered = [i for i in items if i.contributes] or [i for i in items if i.counts]
    if not considered:
        return chain_setting  # not assigned to this stock: no source speaks for it here
    per_item = [resolve_source_item(name, item, chain) for item in considered]
    if name == "backorders":
        winner: OptionValue = max((s.value for s in per_item),
                                  key=lambda v: v.rank if isinstance(v, Backorders) else 0)
    else:  # is_qty_decimal: an order may ship from any contributing item
        winner = all(bool(s.value) for s in per_item)
    decisive = sorted((s for s in per_item if s.value == winner and s.level is Level.SOURCE_ITEM),
                      key=lambda s: s.source_code or "")
    # Without a source-level setting among the winners, every item inherited the chain value.
    return decisive[0] if decisive else chain_setting


@dataclass(frozen=True)
class EffectiveSettings:
    """Every option's effective value for one (sku, stock[, customer group])."""

    settings: Mapping[str, Setting]

    def __getitem__(self, name: str) -> Setting:
        return self.settings[name]

    def __iter__(self) -> Iterator[Setting]:
        return iter(self.settings.values())

    def _qty(self, name: str) -> Decimal:
        value = self.settings[name].value
        assert isinstance(value, Decimal)
        return value

    def _bool(self, name: str) -> bool:
        return bool(self.settings[name].value)

    @property
    def manage_stock(self) -> bool:
        return self._bool("manage_stock")

    @property
    def backorders(self) -> Backorders:
        value = self.settings["backorders"].value
        assert isinstance(value, Backorders)
        return value

    @property
    def min_qty(self) -> Decimal:
        """The raw Out-of-Stock Threshold as configured."""
        return self._qty("min_qty")

    @property
    def adapted_min_qty(self) -> Decimal:
        """docs/rules.md §4: the threshold after the backorders adaptation."""
        return adapt_min_qty(self.min_qty, self.backorders)

    @property
    def unlimited_backorders(self) -> bool:
        """Backorders on with a threshold ≥ 0: any quantity can be ordered."""
        return unlimited_backorders(self.min_qty, self.backorders)

    @property
    def min_sale_qty(self) -> Decimal:
        return self._qty("min_sale_qty")

    @property
    def max_sale_qty(self) -> Decimal:
        return self._qty("max_sale_qty")

    @property
    def is_qty_decimal(self) -> bool:
        return self._bool("is_qty_decimal")

    @property
    def is_decimal_divided(self) -> bool:
        return self._bool("is_decimal_divided")

    @property
    def qty_increments(self) -> Decimal:
        """The step a quantity must be a multiple of; 0 when the check is off."""
        return self._qty("qty_increments")

    @property
    def notify_stock_qty(self) -> Decimal:
        return self._qty("notify_stock_qty")

    @property
    def stock_threshold_qty(self) -> Decimal:
        return self._qty("stock_threshold_qty")

    @property
    def can_subtract(self) -> bool:
        """Placing an order reserves its quantities (docs/rules.md §7)."""
        return self._bool("can_subtract")

    @property
    def can_back_in_stock(self) -> bool:
        """Quantity returned to a source may put it back in stock (docs/rules.md §7)."""
        return self._bool("can_back_in_stock")

    @property
    def show_out_of_stock(self) -> bool:
        """Listings should still display the product when it is out of stock."""
        return self._bool("show_out_of_stock")


def unlimited_backorders(raw: Decimal, backorders: Backorders) -> bool:
    """docs/rules.md §4: backorders on with a threshold ≥ 0 take any quantity."""
    return backorders.enabled and raw >= 0


def adapt_min_qty(raw: Decimal, backorders: Backorders) -> Decimal:
    """docs/rules.md §4: with backorders a threshold ≥ 0 becomes 0 (unlimited) and a negative one
    stays (a backorder cap); without backorders only a positive threshold is kept."""
    if backorders.enabled:
        return raw if raw < 0 else ZERO
    return raw if raw > 0 else ZERO


def _derived(settings: dict[str, Setting]) -> None:
    """Apply the couplings between options, saying why in ``note``."""
    decimal = bool(settings["is_qty_decimal"].value)
    divided = settings["is_decimal_divided"]
    if divided.value and not decimal:
        settings["is_decimal_divided"] = replace(
            divided, value=False, note="forced off: is_qty_decimal is false")

    step = settings["qty_increments"]
    configured = step.value
    assert isinstance(configured, Decimal)
    if not settings["enable_qty_increments"].value:
        settings["qty_increments"] = replace(
            step, value=ZERO, note=f"check off: enable_qty_increments is false "
                                   f"(configured step {format_qty(configured)})")
    else:
        effective = configured if decimal else Decimal(int(configured))
        notes = []
        if effective != configured:
            notes.append(f"truncated from {format_qty(configured)}: decimals are not allowed")
        if effective <= 0:
            effective = ZERO
            notes.append("a step of 0 switches the check off")
        if notes:
            settings["qty_increments"] = replace(step, value=effective, note="; ".join(notes))

    min_qty = settings["min_qty"]
    backorders = settings["backorders"].value
    assert isinstance(min_qty.value, Decimal) and isinstance(backorders, Backorders)
    adapted = adapt_min_qty(min_qty.value, backorders)
    if backorders.enabled and min_qty.value >= 0:
        settings["min_qty"] = replace(min_qty, note="backorders on: unlimited (treated as 0)")
    elif adapted != min_qty.value:
        settings["min_qty"] = replace(min_qty, note="ignored: negative without backorders")


def resolve(chain: ConfigChain, source_items: Sequence[SourceItemState] = (),
            customer_group: str | None = None) -> EffectiveSettings:
    """Effective settings of a (sku, stock) with provenance for every option.

    ``source_items`` are the SKU's items as seen from the stock; source-level options aggregate
    over them (backorders: most permissive; is_qty_decimal: only if all allow it).
    """
    settings: dict[str, Setting] = {}
    for name in OPTIONS:
        if name == "min_sale_qty_by_group":
            continue  # folded into min_sale_qty for the requested customer group
        if name in SOURCE_LEVEL_OPTIONS:
            settings[name] = _aggregate(name, source_items, chain)
        else:
            settings[name] = resolve_chain(name, chain, customer_group)
    _derived(settings)
    return EffectiveSettings(settings)
