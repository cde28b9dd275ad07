"""``availabilityChanged``: the storefront subscription (public, like ``availability``).

The first events are the current answer of every watched SKU (one event per known SKU), so a
page can subscribe instead of querying first and never misses a change in between. Then one
event each time a watched SKU's answer changes in a way the selection can see, whichever
process made the change. An unknown SKU sends nothing until it exists; a SKU deleted after
events were sent sends nothing more (the event type is non-null).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from gateway.api.context import Context
from gateway.api.limits import check_count, check_skus
from gateway.api.live.selection import answer_view
from gateway.api.storefront.resolvers import selects
from gateway.api.storefront.types import ProductAvailability, product_availability
from gateway.services.live import AvailabilityHub


def live_hub(context: Context) -> AvailabilityHub:
    """The process's hub, started with the app (see ``gateway.api.app``)."""
    hub: AvailabilityHub = context.request.app.state.live
    return hub


@strawberry.type
class LiveSubscription:
    @strawberry.subscription(description=(
        "Storefront, public. The current availability of each watched SKU first, then an "
        "event each time one of them changes (orders, cancels, shipments, refunds, admin "
        "writes, imports, in any process). Unknown SKUs send nothing until they exist."))
    async def availability_changed(
            self, info: Info[Context, None], channel: str, skus: list[str],
            customer_group: str | None = None) -> AsyncGenerator[ProductAvailability, None]:
        context = info.context
        check_count(skus, context.settings.live_max_skus, "SKUs in one subscription")
        check_skus(skus)
        view = answer_view(info)
        sent: dict[str, tuple[object, ...] | None] = {}
        explain = selects(info.selected_fields, "explain")
        async with live_hub(context).watch(channel, skus, customer_group,
                                           provenance=explain) as watch:
            while True:
                answers = await watch.next_answers()
                for sku in watch.skus:
                    if sku not in answers:
                        continue
                    found = answers[sku]
                    answer = product_availability(channel, found) if found is not None else None
                    seen = view(answer) if answer is not None else None
                    if sent.get(sku) == seen:
                        continue
                    sent[sku] = seen
                    if answer is not None:
                        yield answer
