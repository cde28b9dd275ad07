"""Order types and their mapping from order outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import strawberry

from gateway import metrics
from gateway.api.common import CartLineResult, cart_line
from gateway.api.enums import Level, OrderErrorCode, OrderStatus
from gateway.domain.cart import LineResult
from gateway.domain.errors import DomainError
from gateway.domain.orders import Order, ShipmentLine
from gateway.domain.quantity import ZERO
from gateway.domain.sourcing import Selection
from gateway.services.orders import LowStockRow, OrderOutcome, OrderView


@strawberry.type(description="Why an order operation was refused as a whole: a stable code, "
                             "a message, and the argument at fault when there is one.")
class OrderError:
    code: OrderErrorCode
    message: str
    path: str | None


@strawberry.type(description="Quantity taken from a source (negative: returned by a refund).")
class ShipmentItem:
    source_code: str | None
    sku: str
    qty: float


@strawberry.type
class OrderSkuState:
    sku: str
    ordered: float
    shipped: float
    cancelled: float
    returned: float
    open: float = strawberry.field(description="Ordered − shipped − cancelled: still reserved.")
    managed: bool
    backorder_qty: float


@strawberry.type
class OrderReservation:
    sku: str
    stock_id: int
    quantity: float
    event_type: str | None


@strawberry.type
class OrderDetails:
    order_id: str
    channel: str
    stock_id: int
    customer_group: str | None
    status: OrderStatus
    skus: list[OrderSkuState]
    shipments: list[ShipmentItem]
    reservations: list[OrderReservation]


@strawberry.type
class OrderResult:
    ok: bool
    order_id: str
    status: OrderStatus
    lines: list[CartLineResult]
    error: OrderError | None
    replayed: bool = strawberry.field(description="placeOrder answered a replay of the same "
                                                  "orderId: nothing more was reserved.")
    shipments: list[ShipmentItem] = strawberry.field(
        description="What this shipOrder/refundOrder moved, per source.")
    order: OrderDetails | None


@strawberry.type(description="A source item below its effective notify quantity.")
class LowStockItem:
    sku: str
    product_name: str
    source_code: str
    quantity: float
    notify_stock_qty: float
    level: Level
    setting_source_code: str | None


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


def _shipments(lines: tuple[ShipmentLine, ...]) -> list[ShipmentItem]:
    return [ShipmentItem(source_code=line.source_code, sku=line.sku, qty=float(line.qty))
            for line in lines]


def order_details(order: Order, view: OrderView | None = None) -> OrderDetails:
    return OrderDetails(
        order_id=order.order_id, channel=order.channel, stock_id=order.stock_id,
        customer_group=order.customer_group, status=order.status,
        skus=[OrderSkuState(sku=s.sku, ordered=float(s.ordered), shipped=float(s.shipped),
                            cancelled=float(s.cancelled), returned=float(s.returned),
                            open=float(s.open), managed=s.managed,
                            backorder_qty=float(s.backorder_qty)) for s in order.skus],
        shipments=_shipments(order.shipments),
        reservations=[OrderReservation(sku=r.sku, stock_id=r.stock, quantity=float(r.quantity),
                                       event_type=r.metadata.get("event_type"))
                      for r in (view.reservations if view else ())])


class OrderAction(StrEnum):
    """The order mutation an outcome answers (a metrics label)."""

    PLACE = "place"
    CANCEL = "cancel"
    SHIP = "ship"
    REFUND = "refund"


def order_error(error: DomainError) -> OrderError:
    assert isinstance(error.code, OrderErrorCode), error.code
    return OrderError(code=error.code, message=error.message, path=error.path)


def lines_refused(lines: Sequence[LineResult]) -> OrderError | None:
    """LINES_REFUSED naming the first refused line, when any line failed the cart check."""
    refused = [(index, line) for index, line in enumerate(lines) if not line.ok]
    if not refused:
        return None
    index, first = refused[0]
    count = (f"{len(refused)} of {len(lines)} lines were" if len(lines) > 1
             else "The line was")
    return OrderError(code=OrderErrorCode.LINES_REFUSED,
                      message=f"{count} refused, nothing was reserved (lines[].errors says why; "
                              f"first: lines[{index}] {first.sku}: {first.errors[0].message})",
                      path=f"lines[{index}]")


def _count(action: OrderAction, outcome: OrderOutcome, error: OrderError | None) -> None:
    if outcome.ok:
        result = ("replayed" if outcome.replayed else "placed") \
            if action is OrderAction.PLACE else "ok"
    else:
        result = "rejected" if action is OrderAction.PLACE else "refused"
    metrics.order_outcome(action.value, result, error.code.value if error else "")


def order_result(outcome: OrderOutcome, requested: list[float] | None = None, *,
                 action: OrderAction) -> OrderResult:
    """The GraphQL answer of an order mutation (counted in the metrics by ``action``)."""
    order = outcome.order
    lines = []
    for index, line in enumerate(outcome.lines):
        quantity = requested[index] if requested else float(line.quantity or 0)
        reserved = None
        if order is not None and outcome.ok and line.quantity is not None:
            reserved = line.quantity if order.sku(line.sku).reserves else ZERO
        lines.append(cart_line(line, quantity, reserved))
    error = order_error(outcome.error) if outcome.error else None
    if error is None and not outcome.ok:
        error = lines_refused(outcome.lines)
    _count(action, outcome, error)
    return OrderResult(
        ok=outcome.ok, order_id=outcome.order_id, status=outcome.status, lines=lines,
        error=error,
        replayed=outcome.replayed, shipments=_shipments(outcome.shipped),
        order=order_details(order) if order is not None else None)


def low_stock_item(row: LowStockRow) -> LowStockItem:
    return LowStockItem(sku=row.sku, product_name=row.product_name, source_code=row.source_code,
                        quantity=float(row.quantity), notify_stock_qty=float(row.notify_qty),
                        level=row.notify.level, setting_source_code=row.notify.source_code)
