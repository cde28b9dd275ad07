"""Back-office order resolvers (token): translate arguments and call the order service."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from gateway.api.common import CartLineInput, DestinationInput
from gateway.api.context import BACK_OFFICE, Context
from gateway.api.enums import Algorithm
from gateway.api.limits import requested_lines
from gateway.api.orders.placement import Placement, placed_answer
from gateway.api.orders.types import (
    LowStockItem,
    OrderAction,
    OrderDetails,
    OrderResult,
    SourceSelection,
    low_stock_item,
    order_details,
    order_result,
    source_selection,
)
from gateway.domain.cart import RequestedLine


def _lines(ctx: Context, lines: list[CartLineInput] | None) -> list[RequestedLine] | None:
    return None if lines is None else requested_lines(lines, ctx.settings.max_cart_lines)


@strawberry.type
class OrderQuery:
    @strawberry.field(description="Back office (token).", permission_classes=BACK_OFFICE)
    async def source_selection(
            self, info: Info[Context, None], channel: str, lines: list[CartLineInput],
            algorithm: Algorithm = Algorithm.PRIORITY,
            destination: DestinationInput | None = None) -> SourceSelection:
        ctx = info.context
        selection = await ctx.services.storefront.source_selection(
            channel, requested_lines(lines, ctx.settings.max_cart_lines), algorithm,
            destination.to_domain() if destination is not None else None)
        return source_selection(selection)

    @strawberry.field(description="Back office (token): an order, its reservations and "
                                  "shipments; null when unknown.",
                      permission_classes=BACK_OFFICE)
    async def order(self, info: Info[Context, None], order_id: str) -> OrderDetails | None:
        view = await info.context.services.orders.order(order_id)
        return order_details(view.order, view) if view is not None else None

    @strawberry.field(description="Back office (token): source items below their effective "
                                  "notify quantity.",
                      permission_classes=BACK_OFFICE)
    async def low_stock(
            self, info: Info[Context, None],
            # Named in Python apart from GraphQL: `source` collides with strawberry's own.
            source_code: Annotated[str | None, strawberry.argument(name="source")] = None,
            channel: str | None = None) -> list[LowStockItem]:
        rows = await info.context.services.orders.low_stock(source_code, channel)
        return [low_stock_item(row) for row in rows]


@strawberry.type
class OrderMutation:
    @strawberry.mutation(description="Back office (token): atomic, idempotent by orderId.",
                         permission_classes=BACK_OFFICE)
    async def place_order(self, info: Info[Context, None], order_id: str, channel: str,
                          lines: list[CartLineInput],
                          customer_group: str | None = None) -> OrderResult:
        requested = _lines(info.context, lines) or []
        return await placed_answer(info.context.services, Placement(
            order_id, channel, tuple(requested), customer_group,
            tuple(line.quantity for line in lines)))

    @strawberry.mutation(description="Back office (token): release what is not shipped yet.",
                         permission_classes=BACK_OFFICE)
    async def cancel_order(self, info: Info[Context, None], order_id: str) -> OrderResult:
        return order_result(await info.context.services.orders.cancel_order(order_id),
                            action=OrderAction.CANCEL)

    @strawberry.mutation(description="Back office (token): deduct sources chosen by source "
                                     "selection; all open lines unless `lines` is given.",
                         permission_classes=BACK_OFFICE)
    async def ship_order(
            self, info: Info[Context, None], order_id: str,
            algorithm: Algorithm = Algorithm.PRIORITY,
            destination: DestinationInput | None = None,
            lines: list[CartLineInput] | None = None) -> OrderResult:
        outcome = await info.context.services.orders.ship_order(
            order_id, _lines(info.context, lines), algorithm,
            destination.to_domain() if destination is not None else None)
        return order_result(outcome, action=OrderAction.SHIP)

    @strawberry.mutation(description="Back office (token): shipped quantity returns to its "
                                     "sources, the rest is released; everything unless `lines`.",
                         permission_classes=BACK_OFFICE)
    async def refund_order(self, info: Info[Context, None], order_id: str,
                           lines: list[CartLineInput] | None = None) -> OrderResult:
        return order_result(await info.context.services.orders.refund_order(
            order_id, _lines(info.context, lines)), action=OrderAction.REFUND)
