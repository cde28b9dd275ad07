"""``stockEvents``: the back-office subscription to stock crossings (token required).

The events come from :class:`~gateway.services.stock_events.StockEventService`: by default
from now, or from ``after`` (the ``sequence`` of the last event a client handled) to resume
without a gap after a disconnect, as long as the events are still kept (the last 100,000).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from gateway.api.context import BACK_OFFICE, Context
from gateway.api.enums import StockEventKind
from gateway.api.limits import check_count, check_skus


@strawberry.type(description="A (sku, stock) crossing out of stock, back in stock or into low "
                             "stock, recorded by the write that caused it.")
class StockEvent:
    sequence: int = strawberry.field(description="Resume after this event with `after`.")
    kind: StockEventKind
    sku: str
    channel: str
    stock_id: int
    salable_qty: float | None = strawberry.field(
        description="After the write; null when stock is not managed.")


@strawberry.type
class StockEventSubscription:
    @strawberry.subscription(permission_classes=BACK_OFFICE, description=(
        "Back office (token). Stock crossings in the channel's stock (of `skus` when given), "
        "from now on, or from just after the event numbered `after`."))
    async def stock_events(self, info: Info[Context, None], channel: str,
                           skus: list[str] | None = None, after: int | None = None,
                           ) -> AsyncGenerator[StockEvent, None]:
        context = info.context
        if skus is not None:
            check_count(skus, context.settings.live_max_skus, "SKUs in one subscription")
            check_skus(skus)
        wanted = frozenset(skus) if skus is not None else None
        async for event in context.services.stock_events.follow(
                channel, wanted, after, poll_interval=context.settings.live_poll_interval):
            yield StockEvent(sequence=event.sequence, kind=event.kind, sku=event.sku,
                             channel=channel, stock_id=event.stock_id,
                             salable_qty=None if event.salable_qty is None
                             else float(event.salable_qty))
