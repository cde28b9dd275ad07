"""Storefront types and their mapping from the domain's availability.

Scalar fields are plain attributes filled when the object is built (a resolver per field
costs several times more); only ``explain`` is computed on demand.
"""

from __future__ import annotations

import strawberry

from gateway.api.common import CartLineResult, EffectiveSetting, explain_settings, qty
from gateway.api.enums import Backorders, StockStatus
from gateway.domain.availability import Availability


@strawberry.type(description="A quantity rule for the add-to-cart control.")
class QuantityRule:
    minimum: float
    maximum: float | None
    increment: float | None
    allows_decimals: bool
    allows_multiple_boxes: bool


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
        description="Set when 0 < salable qty ≤ the 'Only X left' threshold; hidden while "
                    "backorders are unlimited.")
    low_stock: bool
    manage_stock: bool
    backorders: Backorders
    quantity_rule: QuantityRule
    assigned: bool = strawberry.field(description="The SKU has a source item in this stock.")
    display_when_out_of_stock: bool = strawberry.field(
        description="The show_out_of_stock option (\"Display Out of Stock Products\") for "
                    "this stock: whether listings should keep showing the product while it "
                    "is out of stock.")
    _availability: strawberry.Private[Availability]

    @strawberry.field(description="Every option: value, level, source item, what it overrode.")
    def explain(self) -> list[EffectiveSetting]:
        return explain_settings(self._availability)


def product_availability(channel: str, a: Availability) -> ProductAvailability:
    s = a.rules
    step = s.qty_increments
    return ProductAvailability(
        sku=a.sku, channel=channel, stock_id=a.stock_id, stock_status=a.stock_status,
        is_salable=a.is_salable, salable_qty=qty(a.salable_qty), only_x_left=qty(a.only_x_left),
        low_stock=a.low_stock, manage_stock=s.manage_stock, backorders=s.backorders,
        quantity_rule=QuantityRule(
            minimum=float(s.min_sale_qty),
            maximum=float(s.max_sale_qty) if s.max_sale_qty > 0 else None,
            increment=float(step) if step > 0 else None,
            allows_decimals=s.is_qty_decimal, allows_multiple_boxes=s.is_decimal_divided),
        assigned=a.is_assigned, display_when_out_of_stock=s.show_out_of_stock,
        _availability=a)


@strawberry.type
class CartValidation:
    ok: bool
    lines: list[CartLineResult]
