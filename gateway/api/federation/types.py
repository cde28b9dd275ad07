"""The federated ``Product`` entity: the catalog subgraph owns it, this one adds availability."""

from __future__ import annotations

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from gateway.api.context import Context
from gateway.api.federation.loader import AvailabilityKey
from gateway.api.storefront.resolvers import selects
from gateway.api.storefront.types import ProductAvailability, product_availability
from gateway.domain.availability import Availability


@strawberry.federation.type(
    keys=["sku"],
    description="A catalog product, keyed by SKU. This subgraph contributes its availability; "
                "other subgraphs (the catalog) contribute the rest.")
class Product:
    sku: str
    _loader: strawberry.Private[DataLoader[AvailabilityKey, Availability | None]]

    @strawberry.field(description="The storefront availability of this product in a sales "
                                  "channel (as the availability query answers it); null when "
                                  "the SKU is unknown to the inventory.")
    async def availability(self, info: Info[Context, None], channel: str,
                           customer_group: str | None = None) -> ProductAvailability | None:
        explain = selects(info.selected_fields, "explain")
        found = await self._loader.load(AvailabilityKey(channel, customer_group, self.sku,
                                                        explain))
        return product_availability(channel, found) if found is not None else None
