"""Storefront resolvers: translate arguments, call the storefront service, map the answer."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection

from gateway.api.common import CartLineInput, cart_line
from gateway.api.context import Context
from gateway.api.limits import check_count, check_skus, requested_lines
from gateway.api.storefront.types import CartValidation, ProductAvailability, product_availability


def selects(fields: Sequence[Selection], name: str) -> bool:
    """Whether ``name`` is selected right under ``fields`` (through fragments too)."""
    for field in fields:
        for selection in field.selections:
            if isinstance(selection, SelectedField):
                if selection.name == name:
                    return True
            elif selects([selection], name):  # a fragment: look inside it
                return True
    return False


@strawberry.type
class StorefrontQuery:
    @strawberry.field(description="Storefront, public. One entry per requested SKU, same order; "
                                  "null for an unknown SKU.")
    async def availability(self, info: Info[Context, None], channel: str, skus: list[str],
                           customer_group: str | None = None) -> list[ProductAvailability | None]:
        ctx = info.context
        check_count(skus, ctx.settings.max_skus, "SKUs")
        check_skus(skus)
        found = await ctx.services.storefront.availability(
            channel, skus, customer_group, provenance=selects(info.selected_fields, "explain"))
        return [product_availability(channel, a) if a is not None else None for a in found]


@strawberry.type
class StorefrontMutation:
    @strawberry.mutation(description="Storefront, public, no side effects: the same check order "
                                     "placement uses.")
    async def validate_cart(self, info: Info[Context, None], channel: str,
                            lines: list[CartLineInput],
                            customer_group: str | None = None) -> CartValidation:
        ctx = info.context
        requested = requested_lines(lines, ctx.settings.max_cart_lines)
        result = await ctx.services.storefront.validate_cart(channel, requested, customer_group)
        return CartValidation(ok=result.ok, lines=[
            cart_line(r, line.quantity) for r, line in zip(result.lines, lines, strict=True)])
