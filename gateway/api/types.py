"""Strawberry types and their mapping from domain results.

Scalar fields are plain attributes filled when the object is built (a resolver per field
costs several times more); only ``explain`` is computed on demand.
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

import strawberry

from gateway.domain.availability import Availability
from gateway.domain.cart import Issue, LineResult
from gateway.domain.errors import CartIssueCode as DomainCartIssueCode
from gateway.domain.options import Level
from gateway.domain.sourcing import Algorithm, Selection

SettingLevel = strawberry.enum(Level, name="SettingLevel",
                               description="Where an effective setting came from.")
CartIssueCode = strawberry.enum(DomainCartIssueCode, name="CartIssueCode")


@strawberry.enum
class StockStatus(Enum):
    IN_STOCK = "IN_STOCK"
    OUT_OF_STOCK = "OUT_OF_STOCK"


@strawberry.enum
class Backorders(Enum):
    NO = "no"
    ALLOW = "allow"
    ALLOW_NOTIFY = "allow_notify"


@strawberry.enum
class SourceSelectionAlgorithm(Enum):
    PRIORITY = "priority"
    DISTANCE = "distance"

    def to_domain(self) -> Algorithm:
        return Algorithm(self.value)


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@strawberry.type(description="A quantity rule for the add-to-cart control.")
class QuantityRule:
    minimum: float
    maximum: float | None
    increment: float | None
    allows_decimals: bool
    allows_multiple_boxes: bool


@strawberry.type(description="An effective option value and where it came from.")
class EffectiveSetting:
    name: str
    value: str
    level: SettingLevel  # type: ignore[valid-type]
    source_code: str | None
    overrides: list[SettingLevel]  # type: ignore[valid-type]
    note: str | None


@strawberry.type
class ProductAvailability:
    sku: str
    channel: str
    stock_id: int
    stock_status: StockStatus
    is_salable: bool
    salable_qty: float | None = strawberry.field(
        description="Null when stock is not managed; 0 when not salable.")
    only_x_left: float | None = strawberry.field(
        description="Set when 0 < salable qty ≤ the 'Only X left' threshold.")
    low_stock: bool
    manage_stock: bool
    backorders: Backorders
    quantity_rule: QuantityRule
    assigned: bool = strawberry.field(description="The SKU has a source item in this stock.")
    _availability: strawberry.Private[Availability]

    @strawberry.field(description="Every option: value, level, source item, what it overrode.")
    def explain(self) -> list[EffectiveSetting]:
        return explain_settings(self._availability)


def explain_settings(availability: Availability) -> list[EffectiveSetting]:
    return [EffectiveSetting(name=s.name, value=s.display, level=s.level,
                             source_code=s.source_code, overrides=list(s.overrides), note=s.note)
            for s in availability.settings]


def product_availability(channel: str, a: Availability) -> ProductAvailability:
    s = a.settings
    step = s.qty_increments
    return ProductAvailability(
        sku=a.sku, channel=channel, stock_id=a.stock_id,
        stock_status=StockStatus.IN_STOCK if a.is_salable else StockStatus.OUT_OF_STOCK,
        is_salable=a.is_salable, salable_qty=_f(a.salable_qty), only_x_left=_f(a.only_x_left),
        low_stock=a.low_stock, manage_stock=s.manage_stock,
        backorders=Backorders(s.backorders.value),
        quantity_rule=QuantityRule(
            minimum=float(s.min_sale_qty),
            maximum=float(s.max_sale_qty) if s.max_sale_qty > 0 else None,
            increment=float(step) if step > 0 else None,
            allows_decimals=s.is_qty_decimal, allows_multiple_boxes=s.is_decimal_divided),
        assigned=a.is_assigned, _availability=a)


@strawberry.input
class CartLineInput:
    sku: str
    quantity: float


@strawberry.input
class DestinationInput:
    latitude: float | None = None
    longitude: float | None = None
    country: str | None = None
    postcode: str | None = None


@strawberry.type
class CartIssue:
    code: CartIssueCode  # type: ignore[valid-type]
    message: str
    setting: str | None
    limit: float | None
    level: SettingLevel | None  # type: ignore[valid-type]
    source_code: str | None


@strawberry.type
class CartLineResult:
    sku: str
    quantity: float
    ok: bool
    errors: list[CartIssue]
    notices: list[CartIssue]
    backorder_qty: float
    suggested_qty: float | None
    reserved_qty: float | None = strawberry.field(
        default=None, description="placeOrder: what this line reserved (0 when unmanaged).")


@strawberry.type
class CartValidation:
    ok: bool
    lines: list[CartLineResult]


def _issue(issue: Issue) -> CartIssue:
    return CartIssue(code=issue.code, message=issue.message, setting=issue.setting,
                     limit=_f(issue.limit), level=issue.level, source_code=issue.source_code)


def cart_line(result: LineResult, requested: float,
              reserved: Decimal | None = None) -> CartLineResult:
    return CartLineResult(
        sku=result.sku, quantity=requested, ok=result.ok,
        errors=[_issue(i) for i in result.errors], notices=[_issue(i) for i in result.notices],
        backorder_qty=float(result.backorder_qty), suggested_qty=_f(result.suggested_qty),
        reserved_qty=_f(reserved))


@strawberry.type
class SourceSelectionItem:
    source_code: str
    sku: str
    qty_to_deduct: float
    qty_available: float


@strawberry.type
class SourceSelection:
    shippable: bool
    items: list[SourceSelectionItem]


def source_selection(selection: Selection) -> SourceSelection:
    return SourceSelection(shippable=selection.shippable, items=[
        SourceSelectionItem(source_code=i.source_code, sku=i.sku,
                            qty_to_deduct=float(i.qty_to_deduct),
                            qty_available=float(i.qty_available))
        for i in selection.items])


@strawberry.type
class ImportProblem:
    path: str
    message: str


@strawberry.type
class ImportResult:
    ok: bool
    errors: list[ImportProblem]
