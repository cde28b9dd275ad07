"""Checking requested quantities: the one check used by cart validation and order placement.

docs/rules.md §6. Min/max apply to the SKU's total across the cart; increments and decimals are
checked per line and on the total. Every failure is reported, in the table's order, with the
setting and level that caused it. An invalid quantity short-circuits the line (nothing else can
be said about it); an unassigned SKU skips the stock checks (7 and 8), and an out-of-stock one
skips 8, whose answer would only repeat it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from gateway.domain.availability import Availability
from gateway.domain.errors import CartIssueCode, DomainError, OrderErrorCode, message
from gateway.domain.inheritance import EffectiveSettings, Setting
from gateway.domain.options import Backorders, Level
from gateway.domain.quantity import (
    ZERO,
    QuantityError,
    compare,
    format_qty,
    is_integral,
    parse_quantity,
)


@dataclass(frozen=True)
class RequestedLine:
    sku: str
    quantity: object  # raw, as received: validated here so every caller gets the same rules


@dataclass(frozen=True)
class Issue:
    code: CartIssueCode
    message: str
    setting: str | None = None
    limit: Decimal | None = None
    level: Level | None = None
    source_code: str | None = None


@dataclass(frozen=True)
class LineResult:
    sku: str
    quantity: Decimal | None  # None when the requested quantity was not a valid number
    errors: tuple[Issue, ...]
    notices: tuple[Issue, ...] = ()
    backorder_qty: Decimal = ZERO
    suggested_qty: Decimal | None = None
    availability: Availability | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_lines(lines: Sequence[RequestedLine]) -> list[tuple[str, Decimal]]:
    """(sku, quantity) per line for operations that refuse a bad line as a whole (shipping,
    refunds, source selection); raises DomainError INVALID_QUANTITY naming the line."""
    parsed = []
    for index, line in enumerate(lines):
        try:
            qty = parse_quantity(line.quantity, allow_negative=False)
        except QuantityError as exc:
            raise DomainError(OrderErrorCode.INVALID_QUANTITY, f"lines[{index}].quantity {exc}",
                              f"lines[{index}].quantity") from None
        if qty <= 0:
            raise DomainError(OrderErrorCode.INVALID_QUANTITY,
                              f"lines[{index}].quantity must be > 0", f"lines[{index}].quantity")
        parsed.append((line.sku, qty))
    return parsed


def _issue(code: CartIssueCode, settings: EffectiveSettings | None, setting: str | None,
           limit: Decimal | None, argument: str | None = None) -> Issue:
    origin = settings[setting] if settings is not None and setting is not None else None
    return Issue(code, message(code, argument), setting, limit,
                 origin.level if origin else None, origin.source_code if origin else None)


def backordered_notice(qty: Decimal, origin: Setting | None = None) -> Issue:
    """The BACKORDERED notice for ``qty`` (``origin``: the backorders setting, when known)."""
    return Issue(CartIssueCode.BACKORDERED, message(CartIssueCode.BACKORDERED, format_qty(qty)),
                 "backorders", qty, origin.level if origin else None,
                 origin.source_code if origin else None)


def is_multiple(quantity: Decimal, step: Decimal) -> bool:
    """``quantity`` is a multiple of ``step``: the remainder counts as zero only when it is
    *strictly* closer than step/10000 to 0 or to the step (docs/rules.md §6, as Magento's
    ``lib/internal/Magento/Framework/Math/Division.php``)."""
    remainder = quantity % step
    tolerance = step / 10000
    return remainder < tolerance or step - remainder < tolerance


def suggest_quantity(quantity: Decimal, availability: Availability) -> Decimal | None:
    """The nearest multiple of the step inside [max(min, step), min(max, salable)], ties up."""
    settings = availability.settings
    step = settings.qty_increments
    if step <= 0:
        return None
    low = max(settings.min_sale_qty, step)
    high: Decimal | None = settings.max_sale_qty if settings.max_sale_qty > 0 else None
    if settings.manage_stock and not settings.unlimited_backorders:
        left = availability.left_to_sell
        high = left if high is None else min(high, left)
    k_min = (low / step).to_integral_value(ROUND_CEILING)
    k_max = (high / step).to_integral_value(ROUND_FLOOR) if high is not None else None
    if k_max is not None and k_max < k_min:
        return None
    below = (quantity / step).to_integral_value(ROUND_FLOOR)
    above = (quantity / step).to_integral_value(ROUND_CEILING)
    best = above if quantity - below * step >= above * step - quantity else below
    best = max(best, k_min)
    if k_max is not None:
        best = min(best, k_max)
    return best * step


def _check_line(qty: Decimal, total: Decimal, before: Decimal,
                availability: Availability) -> LineResult:
    settings = availability.settings
    sku = availability.sku
    errors: list[Issue] = []
    if not availability.is_assigned:
        errors.append(_issue(CartIssueCode.NOT_ASSIGNED_TO_STOCK, None, None, None))
    min_sale = settings.min_sale_qty
    if min_sale > 0 and compare(total, min_sale) < 0:
        errors.append(_issue(CartIssueCode.MIN_SALE_QTY, settings, "min_sale_qty", min_sale,
                             format_qty(min_sale)))
    max_sale = settings.max_sale_qty
    if max_sale > 0 and compare(total, max_sale) > 0:
        errors.append(_issue(CartIssueCode.MAX_SALE_QTY, settings, "max_sale_qty", max_sale))
    step = settings.qty_increments
    suggested: Decimal | None = None
    if step > 0 and not (is_multiple(qty, step) and is_multiple(total, step)):
        errors.append(_issue(CartIssueCode.QTY_INCREMENTS, settings, "qty_increments", step,
                             format_qty(step)))
        suggested = suggest_quantity(qty, availability)
    if not settings.is_qty_decimal and not (is_integral(qty) and is_integral(total)):
        errors.append(_issue(CartIssueCode.DECIMAL_NOT_ALLOWED, settings, "is_qty_decimal", None))

    managed = settings.manage_stock
    backorder_qty = ZERO
    notices: list[Issue] = []
    if availability.is_assigned and managed:
        if not availability.any_in_stock:
            errors.append(_issue(CartIssueCode.OUT_OF_STOCK, settings, "manage_stock", None))
        else:
            left = availability.left_to_sell
            if not settings.unlimited_backorders and compare(left, total) < 0:
                errors.append(_issue(CartIssueCode.INSUFFICIENT_STOCK, settings, "min_qty",
                                     max(left, ZERO)))
            # A refused line backorders nothing: no quantity, no notice promising one.
            if settings.backorders.enabled and not errors:
                on_hand = availability.physical + availability.reserved - before
                backorder_qty = min(max(qty - on_hand, ZERO), qty)
            if backorder_qty > 0 and settings.backorders is Backorders.ALLOW_NOTIFY:
                notices.append(backordered_notice(backorder_qty, settings["backorders"]))
    return LineResult(sku, qty, tuple(errors), tuple(notices), backorder_qty, suggested,
                      availability)


def check_cart(lines: Sequence[RequestedLine],
               availabilities: Mapping[str, Availability | None]) -> tuple[LineResult, ...]:
    """Check every line; ``availabilities`` maps each SKU to its availability (None: unknown).

    Guarantees one result per line, in order, with all failures of that line.
    """
    parsed: list[Decimal | str] = []  # the quantity, or why it is invalid
    totals: dict[str, Decimal] = {}
    for line in lines:
        try:
            qty: Decimal | str = parse_quantity(line.quantity, allow_negative=False)
        except QuantityError as exc:
            qty = exc.reason
        if isinstance(qty, Decimal) and qty <= 0:
            qty = "is zero: it must be greater than 0"
        parsed.append(qty)
        if isinstance(qty, Decimal):
            totals[line.sku] = totals.get(line.sku, ZERO) + qty
    results: list[LineResult] = []
    seen: dict[str, Decimal] = {}
    for line, qty in zip(lines, parsed, strict=True):
        if isinstance(qty, str):
            results.append(LineResult(line.sku, None, (Issue(
                CartIssueCode.INVALID_QUANTITY,
                f"{message(CartIssueCode.INVALID_QUANTITY)} The quantity {qty}."),)))
            continue
        availability = availabilities.get(line.sku)
        if availability is None:
            results.append(LineResult(line.sku, qty, (
                _issue(CartIssueCode.PRODUCT_NOT_FOUND, None, None, None),)))
            continue
        before = seen.get(line.sku, ZERO)
        results.append(_check_line(qty, totals[line.sku], before, availability))
        seen[line.sku] = before + qty
    return tuple(results)
