"""The GraphQL schema: the features' queries, mutations and subscription, with limits and error
hygiene, served as an Apollo Federation v2 subgraph."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
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
from strawberry.schema.config import StrawberryConfig

from gateway.api.admin.resolvers import AdminMutation, AdminQuery
from gateway.api.errors import MaskUnexpectedErrors
from gateway.api.fast_path import FastPathExecutionContext
from gateway.api.federation.schema import FederatedGatewaySchema
from gateway.api.federation.sdl import FEDERATION_VERSION, FederationQuery
from gateway.api.federation.types import Product
from gateway.api.guards import RequestGuards
from gateway.api.live.resolvers import LiveSubscription
from gateway.api.live.stock_events import StockEventSubscription
from gateway.api.orders.resolvers import OrderMutation, OrderQuery
from gateway.api.storefront.resolvers import StorefrontMutation, StorefrontQuery
from gateway.settings import Settings


@strawberry.type
class Query(StorefrontQuery, OrderQuery, AdminQuery, FederationQuery):
    pass


@strawberry.type
class Mutation(StorefrontMutation, OrderMutation, AdminMutation):
    pass


@strawberry.type
class Subscription(LiveSubscription, StockEventSubscription):
    pass


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
        lambda: RequestGuards(settings),
    ]
    return FederatedGatewaySchema(
        query=Query, mutation=Mutation, subscription=Subscription, types=[Product],
        extensions=extensions, execution_context_class=FastPathExecutionContext,
        config=StrawberryConfig(disable_field_suggestions=settings.production),
        federation_version=FEDERATION_VERSION)
