"""The GraphQL schema: resolvers only translate arguments and call the service."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from gateway.api.admin_schema import AdminMutation, AdminQuery
from gateway.api.context import BACK_OFFICE, Context
from gateway.api.errors import GatewaySchema, MaskUnexpectedErrors
from gateway.api.fast_path import FastPathExecutionContext
from gateway.api.limits import check_count, check_skus, requested_lines
from gateway.api.order_schema import OrderMutation, OrderQuery
from gateway.api.types import (
    CartLineInput,
    CartValidation,
    DestinationInput,
    ImportProblem,
    ImportResult,
    ProductAvailability,
    SourceSelection,
    SourceSelectionAlgorithm,
    cart_line,
    product_availability,
    source_selection,
)
from gateway.domain.errors import DomainError
from gateway.domain.sourcing import Destination
from gateway.settings import Settings


def _error(exc: DomainError) -> GraphQLError:
    return GraphQLError(exc.message, extensions={"code": exc.code})


@strawberry.type
class Query(OrderQuery, AdminQuery):
    @strawberry.field(description="Storefront, public. One entry per requested SKU, same order; "
                                  "null for an unknown SKU.")
    async def availability(self, info: Info[Context, None], channel: str, skus: list[str],
                           customer_group: str | None = None) -> list[ProductAvailability | None]:
        ctx = info.context
        check_count(skus, ctx.settings.max_skus, "SKUs")
        check_skus(skus)
        try:
            found = await ctx.service.availability(channel, skus, customer_group)
        except DomainError as exc:
            raise _error(exc) from None
        return [product_availability(channel, a) if a is not None else None for a in found]

    @strawberry.field(description="Back office (token).", permission_classes=BACK_OFFICE)
    async def source_selection(
            self, info: Info[Context, None], channel: str, lines: list[CartLineInput],
            algorithm: SourceSelectionAlgorithm = SourceSelectionAlgorithm.PRIORITY,
            destination: DestinationInput | None = None) -> SourceSelection:
        ctx = info.context
        requested = requested_lines(lines, ctx.settings.max_cart_lines)
        target = Destination(destination.latitude, destination.longitude, destination.country,
                             destination.postcode) if destination is not None else None
        try:
            selection = await ctx.service.source_selection(
                channel, requested, algorithm.to_domain(), target)
        except DomainError as exc:
            raise _error(exc) from None
        return source_selection(selection)


@strawberry.type
class Mutation(OrderMutation, AdminMutation):
    @strawberry.mutation(description="Storefront, public, no side effects: the same check order "
                                     "placement uses.")
    async def validate_cart(self, info: Info[Context, None], channel: str,
                            lines: list[CartLineInput],
                            customer_group: str | None = None) -> CartValidation:
        ctx = info.context
        requested = requested_lines(lines, ctx.settings.max_cart_lines)
        try:
            result = await ctx.service.validate_cart(channel, requested, customer_group)
        except DomainError as exc:
            raise _error(exc) from None
        return CartValidation(ok=result.ok, lines=[
            cart_line(r, line.quantity) for r, line in zip(result.lines, lines, strict=True)])

    @strawberry.mutation(description="Back office (token): the catalog file format over the API; "
                                     "same validation, one transaction.",
                         permission_classes=BACK_OFFICE)
    async def import_catalog(self, info: Info[Context, None], document: JSON,
                             replace: bool = False) -> ImportResult:
        problems = await info.context.service.import_document(document, replace=replace)
        return ImportResult(ok=not problems, errors=[
            ImportProblem(path=p.path, message=p.message) for p in problems])


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema with parser/validation caches and query limits from ``settings``."""
    settings = settings or Settings()
    # The limiters build a new rule class per instance, which would give the validation cache
    # a new key on every request (it never hit): build their rules once, share them.
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
    ]
    if settings.production:
        rules.append(NoSchemaIntrospectionCustomRule)
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: MaskUnexpectedErrors(hide_suggestions=settings.production),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
    ]
    return GatewaySchema(
        query=Query, mutation=Mutation, extensions=extensions,
        execution_context_class=FastPathExecutionContext,
        config=StrawberryConfig(disable_field_suggestions=settings.production))
