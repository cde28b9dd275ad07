"""Lint checks of the quantity rules (docs/rules.md §6, §10): minimum above maximum, steps
and fractions that make the minimum or the maximum unbuyable. They apply whether or not stock
is managed, since those checks always run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from gateway.domain.cart import is_multiple
from gateway.domain.inheritance import EffectiveSettings, Setting, resolve_chain
from gateway.domain.lint.findings import Findings, LintCode, qty, where
from gateway.domain.model import ConfigChain
from gateway.domain.quantity import compare, is_integral


@dataclass(frozen=True, slots=True)
class Minimum:
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

    @property
    def option(self) -> str:
        """The option to change, as files and the admin API spell it."""
        return "min_sale_qty" if self.group is None else f"min_sale_qty_by_group.{self.group}"


def minimums(settings: EffectiveSettings,
             by_group: Mapping[str, EffectiveSettings]) -> Iterator[Minimum]:
    """The all-groups minimum, then each group's own when it differs (the same number would
    only repeat a finding)."""
    base = settings["min_sale_qty"]
    yield Minimum(None, base)
    for group, group_settings in sorted(by_group.items()):
        setting = group_settings["min_sale_qty"]
        if setting.value != base.value:  # the same number would only repeat a finding
            yield Minimum(group, replace(setting, note=f"customer group {group}"))


def min_above_max(minimums: list[Minimum], settings: EffectiveSettings,
                  found: Findings) -> None:
    """MIN_ABOVE_MAX: a minimum above a maximum (0 = none) leaves nothing to buy."""
    maximum = settings.max_sale_qty
    if maximum <= 0:
        return  # 0 = no maximum
    for m in minimums:
        if compare(m.value, maximum) > 0:
            found.add(LintCode.MIN_ABOVE_MAX,
                      f"The minimum cart quantity{m.label} ({qty(m.value)}) is above the maximum "
                      f"({qty(maximum)}): no quantity can be bought.",
                      (m.setting, settings["max_sale_qty"]),
                      f"Lower {m.option} to at most {qty(maximum)} "
                      f"{where(m.setting)}, or raise max_sale_qty to at least {qty(m.value)}.")


def _up(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_CEILING) * step


def _down(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(ROUND_FLOOR) * step


def steps(minimums: list[Minimum], settings: EffectiveSettings, chain: ConfigChain,
          found: Findings) -> None:
    """A fractional step cut by the lack of decimals; a minimum or maximum that is not a
    multiple of the effective step (same tolerance as the check)."""
    step_setting = settings["qty_increments"]
    step = settings.qty_increments
    enabled = settings["enable_qty_increments"]
    configured = resolve_chain("qty_increments", chain).value
    assert isinstance(configured, Decimal)
    if (enabled.value and configured > 0 and not is_integral(configured)
            and not settings.is_qty_decimal):
        effect = ("the increments check is off" if step <= 0 else
                  f"customers must buy multiples of {qty(step)}, not {qty(configured)}")
        found.add(LintCode.FRACTIONAL_STEP_WITHOUT_DECIMALS,
                  f"The quantity step {qty(configured)} is fractional but decimals are not "
                  f"allowed: it is cut to {qty(step)}, so {effect}.",
                  (step_setting, settings["is_qty_decimal"], enabled),
                  "Allow decimals (is_qty_decimal) or set qty_increments to a whole number.")
    if step <= 0:
        return
    involved = (step_setting, enabled)
    for m in minimums:
        if m.value > 0 and not is_multiple(m.value, step):
            smallest = _up(m.value, step)
            found.add(LintCode.MIN_NOT_MULTIPLE_OF_STEP,
                      f"The minimum cart quantity{m.label} ({qty(m.value)}) is not a multiple of "
                      f"the step ({qty(step)}): it is refused itself, and the smallest quantity "
                      f"that can be bought is {qty(smallest)}.",
                      (m.setting, *involved),
                      f"Set {m.option} to {qty(smallest)} {where(m.setting)}.")
    maximum = settings.max_sale_qty
    if maximum > 0 and not is_multiple(maximum, step):
        largest = _down(maximum, step)
        effect = (f"the largest quantity that can be bought is {qty(largest)}" if largest > 0
                  else "no quantity can be bought")
        found.add(LintCode.MAX_NOT_MULTIPLE_OF_STEP,
                  f"The maximum cart quantity ({qty(maximum)}) is not a multiple of the step "
                  f"({qty(step)}): {effect}.",
                  (settings["max_sale_qty"], *involved),
                  f"Set max_sale_qty to {qty(largest if largest > 0 else step)} "
                  f"{where(settings['max_sale_qty'])}.")


def fractions(minimums: list[Minimum], settings: EffectiveSettings,
              found: Findings) -> None:
    """A fractional minimum or maximum while decimals are not allowed."""
    if settings.is_qty_decimal:
        return
    decimals = settings["is_qty_decimal"]
    for m in minimums:
        if m.value > 0 and not is_integral(m.value):
            smallest = m.value.to_integral_value(ROUND_CEILING)
            found.add(LintCode.FRACTIONAL_MIN_WITHOUT_DECIMALS,
                      f"The minimum cart quantity{m.label} ({qty(m.value)}) is fractional but "
                      f"decimals are not allowed: the smallest quantity that can be bought is "
                      f"{qty(smallest)}.", (m.setting, decimals),
                      f"Set {m.option} to {qty(smallest)} {where(m.setting)}, or "
                      "allow decimals (is_qty_decimal).")
    maximum = settings.max_sale_qty
    if maximum > 0 and not is_integral(maximum):
        largest = maximum.to_integral_value(ROUND_FLOOR)
        effect = (f"the largest quantity that can be bought is {qty(largest)}" if largest > 0
                  else "no quantity can be bought")
        found.add(LintCode.FRACTIONAL_MAX_WITHOUT_DECIMALS,
                  f"The maximum cart quantity ({qty(maximum)}) is fractional but decimals are "
                  f"not allowed: {effect}.", (settings["max_sale_qty"], decimals),
                  f"Set max_sale_qty to a whole number {where(settings['max_sale_qty'])}, or "
                  "allow decimals (is_qty_decimal).")


