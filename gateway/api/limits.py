"""Limits on resolver arguments (list lengths, SKU shape); the HTTP-level limits are in
:mod:`gateway.api.edge`, the query cost in :mod:`gateway.api.cost`."""

from __future__ import annotations

from collections.abc import Sequence

from graphql import GraphQLError

from gateway.api.common import CartLineInput
from gateway.api.errors import ApiErrorCode
from gateway.domain.cart import RequestedLine

MAX_SKU_LENGTH = 64


def too_many(count: int, limit: int, what: str) -> GraphQLError:
    """The LIMIT_EXCEEDED error for a list argument of ``count`` items (at most ``limit``)."""
    return GraphQLError(f"Too many {what}: {count} (at most {limit} per request).",
                        extensions={"code": ApiErrorCode.LIMIT_EXCEEDED.value, "limit": limit})


def check_count(items: Sequence[object], limit: int, what: str) -> None:
    """A GraphQL error (LIMIT_EXCEEDED) when a list argument is longer than its limit."""
    if len(items) > limit:
        raise too_many(len(items), limit, what)


def check_skus(skus: Sequence[str]) -> None:
    """A GraphQL error (BAD_USER_INPUT) for an empty or over-long SKU."""
    for index, sku in enumerate(skus):
        if not sku or len(sku) > MAX_SKU_LENGTH:
            raise GraphQLError(f"SKU #{index} must be 1-{MAX_SKU_LENGTH} characters.",
                               extensions={"code": ApiErrorCode.BAD_USER_INPUT.value})


def requested_lines(lines: Sequence[CartLineInput], limit: int) -> list[RequestedLine]:
    """Cart/order lines checked for count and SKU shape; quantities are checked by the domain."""
    check_count(lines, limit, "lines")
    check_skus([line.sku for line in lines])
    return [line.to_domain() for line in lines]
