"""What the rule lint reports (docs/rules.md §10): codes, findings, and the wording helpers
the checks share."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from gateway.domain.inheritance import Setting
from gateway.domain.options import Level
from gateway.domain.quantity import format_qty


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


class Findings:
    """The findings of one (sku, stock), in the order they are added."""

    def __init__(self, sku: str, stock_id: int) -> None:
        self.sku, self.stock_id = sku, stock_id
        self.items: list[Finding] = []

    def add(self, code: LintCode, message: str, settings: tuple[Setting, ...],
            suggestion: str | None) -> None:
        self.items.append(Finding(self.sku, self.stock_id, code, message, settings, suggestion))


def qty(value: Decimal) -> str:
    """A quantity as people write it, in messages."""
    return format_qty(value)


def where(setting: Setting) -> str:
    """Where to change a setting (its level, or its source item), for suggestions."""
    if setting.level is Level.SOURCE_ITEM:
        return f"on source item {setting.source_code}"
    return {Level.PRODUCT: "on the product",
            Level.STOCK: "in the stock's configuration",
            Level.GLOBAL: "in the global configuration (or on the product)",
            }.get(setting.level, "on the product or in the global configuration")
