"""The federation side of the schema: ``_entities`` (batched, validated) and ``_service``.

``_service { sdl }`` answers the storefront subgraph (:mod:`gateway.api.federation.sdl`).

Strawberry's own ``_entities`` resolves representations one by one and lets a malformed one
(no ``__typename``, not an object, ...) escape as an unexpected error. Here every
representation is checked first (a bad one is a ``BAD_USER_INPUT`` error at its index, the
others still resolve), their count is limited like the SKUs of ``availability``, and all the
products returned share one loader, so their ``availability`` fields cost one store read per
(channel, customer group) however many products the router sends.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.federation.schema import FederationAny
from strawberry.types import Info

from gateway.api.context import Context
from gateway.api.errors import ApiErrorCode, GatewaySchema
from gateway.api.federation.loader import availability_loader
from gateway.api.federation.types import Product
from gateway.api.limits import MAX_SKU_LENGTH, check_count

ENTITY_TYPES = {"Product"}


def _bad_representation(index: int, reason: str) -> GraphQLError:
    return GraphQLError(f"Representation #{index} {reason}.",
                        extensions={"code": ApiErrorCode.BAD_USER_INPUT.value})


def _sku_of(index: int, representation: object) -> str | GraphQLError:
    """The SKU a representation names, or the error saying what is wrong with it."""
    if not isinstance(representation, dict):
        return _bad_representation(index, "must be an object")
    typename = representation.get("__typename")
    if not isinstance(typename, str) or typename not in ENTITY_TYPES:
        return _bad_representation(
            index, "is not a Product (__typename); this subgraph resolves only Product")
    sku = representation.get("sku")
    if not isinstance(sku, str) or not 0 < len(sku) <= MAX_SKU_LENGTH:
        return _bad_representation(index, f"needs a sku of 1-{MAX_SKU_LENGTH} characters")
    return sku


class FederatedGatewaySchema(GatewaySchema, strawberry.federation.Schema):
    """The gateway's schema (error hygiene included) as an Apollo Federation v2 subgraph."""

    def entities_resolver(self, info: Info,
                          representations: list[FederationAny]) -> list[FederationAny]:
        context: Context = info.context
        check_count(representations, context.settings.max_skus, "representations")
        loader = availability_loader(context.services.storefront)
        results: list[Any] = []
        for index, representation in enumerate(representations):
            sku = _sku_of(index, representation)
            results.append(sku if isinstance(sku, GraphQLError) else Product(sku=sku,
                                                                              _loader=loader))
        return results
