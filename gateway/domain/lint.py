"""The rule lint: settings that make a product unbuyable or misleading (docs/rules.md §10).

Beyond Magento, which accepts every combination of levels one by one. Nothing here refuses
anything: merchants set the levels independently, so a combination is only *reported*, per
(sku, stock), with the effective settings involved (the engine's provenance says which level
set each) and a suggested fix. Pure: findings come from a snapshot and its effective settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum

from gateway.domain.cart import is_multiple
from gateway.domain.inheritance import (
    EffectiveSettings,
    Setting,
    resolve_chain,
    resolve_source_item,
)
from gateway.domain.model import ConfigChain, StockSnapshot
from gateway.domain.options import Backorders, Level
from gateway.domain.quantity import compare, format_qty, is_integral


class LintCode(StrEnum):
    """What a finding is about, in the order findings of one SKU are listed."""

    NO_ENABLED_SOURCE = "NO_ENABLED_SOURCE"
    MIN_ABOVE_MAX = "MIN_ABOVE_MAX"
    FRACTIONAL_STEP_WITHOUT_DECIMALS = "FRACTIONAL_STEP_WITHOUT_DECIMALS"
    MIN_NOT_MULTIPLE_OF_STEP = "MIN_NOT_MULTIPLE_OF_STEP"
    MAX_NOT_MULTIPLE_OF_STEP = "MAX_NOT_MULTIPLE_OF_STEP"
    FRACTIONAL_MIN_WITHOUT_DECIMALS = "FRACTIONAL_MIN_WITHOUT_DECIMALS"
    FRACTIONAL_MAX_WITHOUT_DECIMALS = "FRACTIONAL_MAX_WITHOUT_DECIMALS"
    NOTIFY_AT_OR_BELOW_THRESHOLD = "NOTIFY_AT_OR_BELOW_THRESHOLD"
    THRESHOLD_IGNORED_WITH_BACKORDERS = "THRESHOLD_IGNORED_WITH_BACKORDERS"
    UNCAPPED_BACKORDER_NOTICE = "UNCAPPED_BACKORDER_NOTICE"


@dataclass(frozen=True, slots=True)
class Finding:
    """One reported combination: what, why, the settings (with provenance) and a fix."""

    sku: str
    stock_id: int
    code: LintCode
    message: str
    settings: tuple[Setting, ...]
    suggestion: str | None = None


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
    found = _Findings(snapshot.sku, snapshot.stock_id)
    _sources(snapshot, found)
    minimums = list(_minimums(settings, by_group or {}))
    _min_above_max(minimums, settings, found)
    _steps(minimums, settings, snapshot.chain, found)
    _fractions(minimums, settings, found)
    if settings.manage_stock:
        _notify(snapshot, settings, found)
        _backorders(settings, found)
    return found.items


class _Findings:
    def __init__(self, sku: str, stock_id: int) -> None:
        self.sku, self.stock_id = sku, stock_id
        self.items: list[Finding] = []

    def add(self, code: LintCode, message: str, settings: tuple[Setting, ...],
            suggestion: str | None) -> None:
        self.items.append(Finding(self.sku, self.stock_id, code, message, settings, suggestion))


def _q(value: Decimal) -> str:
    return format_qty(value)


def _where(setting: Setting) -> str:
    """Where to change a setting (its level, or its source item), for suggestions."""
    if setting.level is Level.SOURCE_ITEM:
        return f"on source item {setting.source_code}"
    return {Level.PRODUCT: "on the product",
            Level.STOCK: "in the stock's configuration",
            Level.GLOBAL: "in the global configuration (or on the product)",
            }.get(setting.level, "on the product or in the global configuration")


def _sources(snapshot: StockSnapshot, found: _Findings) -> None:
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


@dataclass(frozen=True, slots=True)
class _Minimum:
    """The minimum for all groups (``group`` None) or one group with a value of its own."""

    group: str | None
    setting: Setting

    @property
    def value(self) -> Decimal:
        assert isinstance(self.setting.value, Decimal)
        return self.setting.value

    @property
    def label(self) -> str:
        return "" if self.group is None else f" for customer group {self.group!r}"


def _minimums(settings: EffectiveSettings,
              by_group: Mapping[str, EffectiveSettings]) -> Iterator[_Minimum]:
    base = settings["min_sale_qty"]
    yield _Minimum(None, base)
    for group, group_settings in sorted(by_group.items()):
        setting = group_settings["min_sale_qty"]
        if setting.value != base.value:  # the same number would only repeat a finding
            yield _Minimum(group, replace(setting, note=f"customer group {group}"))


def _min_above_max(minimums: list[_Minimum], settings: EffectiveSettings,
                   found: _Findings) -> None:
    maximum = settings.max_sale_qty
    if maximum <= 0:
        return  # 0 = no maximum
    for m in minimums:
        if compare(m.value, maximum) > 0:
            found.add(LintCode.MIN_ABOVE_MAX,
                      f"The minimum cart quantity{m.label} ({_q(m.value)}) is above the maximum "
                      f"({_q(maximum)}): no quantity can be bought.",
                      (m.setting, settings["max_sale_qty"]),
                      f"Lower min_sale_qty{m.label} to at most {_q(maximum)} "
                      f"{_where(m.setting)}, or raise max_sale_qty to at least {_q(m.value)}.")


def _up(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_CEILING) * step


def _down(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_FLOOR) * step


def _steps(minimums: list[_Minimum], settings: EffectiveSettings, chain: ConfigChain,
           found: _Findings) -> None:
    step_setting = settings["qty_increments"]
    step = settings.qty_increments
    enabled = settings["enable_qty_increments"]
    configured = resolve_chain("qty_increments", chain).value
    assert isinstance(configured, Decimal)
    if (enabled.value and configured > 0 and not is_integral(configured)
            and not settings.is_qty_decimal):
        effect = ("the increments check is off" if step <= 0 else
                  f"customers must buy multiples of {_q(step)}, not {_q(configured)}")
        found.add(LintCode.FRACTIONAL_STEP_WITHOUT_DECIMALS,
                  f"The quantity step {_q(configured)} is fractional but decimals are not "
                  f"allowed: it is cut to {_q(step)}, so {effect}.",
                  (step_setting, settings["is_qty_decimal"], enabled),
                  "Allow decimals (is_qty_decimal) or set qty_increments to a whole number.")
    if step <= 0:
        return
    involved = (step_setting, enabled)
    for m in minimums:
        if m.value > 0 and not is_multiple(m.value, step):
            smallest = _up(m.value, step)
            found.add(LintCode.MIN_NOT_MULTIPLE_OF_STEP,
                      f"The minimum cart quantity{m.label} ({_q(m.value)}) is not a multiple of "
                      f"the step ({_q(step)}): it is refused itself, and the smallest quantity "
                      f"that can be bought is {_q(smallest)}.",
                      (m.setting, *involved),
                      f"Set min_sale_qty{m.label} to {_q(smallest)} {_where(m.setting)}.")
    maximum = settings.max_sale_qty
    if maximum > 0 and not is_multiple(maximum, step):
        largest = _down(maximum, step)
        effect = (f"the largest quantity that can be bought is {_q(largest)}" if largest > 0
                  else "no quantity can be bought")
        found.add(LintCode.MAX_NOT_MULTIPLE_OF_STEP,
                  f"The maximum cart quantity ({_q(maximum)}) is not a multiple of the step "
                  f"({_q(step)}): {effect}.",
                  (settings["max_sale_qty"], *involved),
                  f"Set max_sale_qty to {_q(largest if largest > 0 else step)} "
                  f"{_where(settings['max_sale_qty'])}.")


def _fractions(minimums: list[_Minimum], settings: EffectiveSettings,
               found: _Findings) -> None:
    if settings.is_qty_decimal:
        return
    decimals = settings["is_qty_decimal"]
    for m in minimums:
        if m.value > 0 and not is_integral(m.value):
            smallest = m.value.to_integral_value(ROUND_CEILING)
            found.add(LintCode.FRACTIONAL_MIN_WITHOUT_DECIMALS,
                      f"The minimum cart quantity{m.label} ({_q(m.value)}) is fractional but "
                      f"decimals are not allowed: the smallest quantity that can be bought is "
                      f"{_q(smallest)}.", (m.setting, decimals),
                      f"Set min_sale_qty{m.label} to {_q(smallest)} {_where(m.setting)}, or "
                      "allow decimals (is_qty_decimal).")
    maximum = settings.max_sale_qty
    if maximum > 0 and not is_integral(maximum):
        largest = maximum.to_integral_value(ROUND_FLOOR)
        effect = (f"the largest quantity that can be bought is {_q(largest)}" if largest > 0
                  else "no quantity can be bought")
        found.add(LintCode.FRACTIONAL_MAX_WITHOUT_DECIMALS,
                  f"The maximum cart quantity ({_q(maximum)}) is fractional but decimals are "
                  f"not allowed: {effect}.", (settings["max_sale_qty"], decimals),
                  f"Set max_sale_qty to a whole number {_where(settings['max_sale_qty'])}, or "
                  "allow decimals (is_qty_decimal).")


def _notify(snapshot: StockSnapshot, settings: EffectiveSettings, found: _Findings) -> None:
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
    values = ", ".join(sorted({_q(_dec(s)) for s in offending}))
    found.add(LintCode.NOTIFY_AT_OR_BELOW_THRESHOLD,
              f"Notify for Quantity Below ({values}) is at or below the Out-of-Stock Threshold "
              f"({_q(threshold)}): a source item is reported as low only once it holds less "
              "than the safety stock, too late to restock before the product stops selling.",
              (*offending, settings["min_qty"]),
              f"Set notify_stock_qty above {_q(threshold)} "
              + " and ".join(sorted({_where(s) for s in offending})) + ".")


def _dec(setting: Setting) -> Decimal:
    assert isinstance(setting.value, Decimal)
    return setting.value


def _backorders(settings: EffectiveSettings, found: _Findings) -> None:
    mode = settings.backorders
    raw = settings.min_qty
    if not mode.enabled:
        return
    involved = (settings["backorders"], settings["min_qty"])
    if raw > 0:
        found.add(LintCode.THRESHOLD_IGNORED_WITH_BACKORDERS,
                  f"The Out-of-Stock Threshold ({_q(raw)}) is ignored because backorders are "
                  f"on ({mode.value}): no safety stock is held back and any quantity can be "
                  "ordered.", involved,
                  f"Turn backorders off to keep {_q(raw)} in reserve, or set a negative "
                  "min_qty to cap backorders.")
    if mode is Backorders.ALLOW_NOTIFY and raw >= 0:
        found.add(LintCode.UNCAPPED_BACKORDER_NOTICE,
                  "Backorders with customer notification and no cap (Out-of-Stock Threshold "
                  f"{_q(raw)} ≥ 0): any quantity can be ordered, and every line beyond the "
                  "stock on hand carries a backorder notice.", involved,
                  "Set a negative min_qty (the most that may be backordered) to cap "
                  "backorders, or use backorders 'allow' to order without notices.")


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

