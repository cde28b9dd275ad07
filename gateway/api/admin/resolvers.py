"""Back-office administration resolvers (token): translate arguments, call the services."""

from __future__ import annotations

from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.api.admin.types import (
    AdminResult,
    ImportResult,
    InventoryConfig,
    LintFinding,
    ProductInput,
    ProductSettings,
    Source,
    SourceInput,
    SourceItemInput,
    Stock,
    StockInput,
    admin_result,
    catalog_entry,
    import_result,
    inventory_config,
    lint_finding,
    product_settings,
    source,
    stock,
)
from gateway.api.context import BACK_OFFICE, Context
from gateway.api.errors import ApiErrorCode
from gateway.api.limits import check_count, check_skus

#: Findings per ruleLint page: the default, and the most one request may ask for.
LINT_PAGE = 100
MAX_LINT_PAGE = 1000

#: Optimistic concurrency for clients that want it: refuse the write (VERSION_CONFLICT) unless
#: the configuration is still at this version (`AdminResult.version` of their last write).
EXPECTED = Annotated[int | None, strawberry.argument(
    description="Refuse the write unless the configuration is still at this version.")]


@strawberry.type
class AdminQuery:
    @strawberry.field(permission_classes=BACK_OFFICE)
    async def inventory_config(self, info: Info[Context, None]) -> InventoryConfig:
        return inventory_config((await info.context.services.admin.topology()).global_config)

    @strawberry.field(permission_classes=BACK_OFFICE)
    async def sources(self, info: Info[Context, None]) -> list[Source]:
        return [source(s) for s in (await info.context.services.admin.topology()).sources.values()]

    @strawberry.field(permission_classes=BACK_OFFICE)
    async def stocks(self, info: Info[Context, None]) -> list[Stock]:
        return [stock(s) for s in (await info.context.services.admin.topology()).stocks.values()]

    @strawberry.field(permission_classes=BACK_OFFICE,
                      description="What the product and each of its source items set; null if "
                                  "unknown.")
    async def product(self, info: Info[Context, None], sku: str) -> ProductSettings | None:
        view = await info.context.services.admin.product(sku)
        return product_settings(view) if view is not None else None

    @strawberry.field(permission_classes=BACK_OFFICE,
                      description="Settings that make a product unbuyable or misleading in the "
                                  "channel's stock (docs/rules.md §10), in SKU order: of `skus`, "
                                  "or of the whole catalog when omitted. At most `limit` "
                                  "findings (1-1000) of whole SKUs; pass the last finding's SKU "
                                  "as `afterSku` for the next page. `gateway lint` reports "
                                  "everything at once.")
    async def rule_lint(self, info: Info[Context, None], channel: str,
                        skus: list[str] | None = None, after_sku: str | None = None,
                        limit: int = LINT_PAGE) -> list[LintFinding]:
        ctx = info.context
        if skus is not None:
            check_count(skus, ctx.settings.max_skus, "SKUs")
            check_skus(skus)
        if not 1 <= limit <= MAX_LINT_PAGE:
            raise GraphQLError(f"limit must be between 1 and {MAX_LINT_PAGE} (got {limit}).",
                               extensions={"code": ApiErrorCode.BAD_USER_INPUT.value})
        found = await ctx.services.lint.findings(channel, skus, after_sku=after_sku,
                                                 limit=limit)
        return [lint_finding(f) for f in found]


@strawberry.type
class AdminMutation:
    @strawberry.mutation(description="Back office (token): the catalog file format over the API; "
                                     "same validation, one transaction.",
                         permission_classes=BACK_OFFICE)
    async def import_catalog(self, info: Info[Context, None], document: JSON,
                             replace: bool = False) -> ImportResult:
        return import_result(await info.context.services.catalog.import_document(
            document, replace=replace))

    @strawberry.mutation(permission_classes=BACK_OFFICE,
                         description="Set global options; a null clears one (built-in default).")
    async def set_global_config(self, info: Info[Context, None], config: JSON,
                                expected_version: EXPECTED = None) -> AdminResult:
        return admin_result(await info.context.services.admin.set_global_config(
            config, expected_version))

    @strawberry.mutation(permission_classes=BACK_OFFICE,
                         description="Set per-stock overrides; a null clears one.")
    async def set_stock_config(self, info: Info[Context, None], stock_id: int, config: JSON,
                               expected_version: EXPECTED = None) -> AdminResult:
        return admin_result(await info.context.services.admin.set_stock_config(
            stock_id, config, expected_version))

    @strawberry.mutation(permission_classes=BACK_OFFICE,
                         description="Set product options; a null clears one (Use Config "
                                     "Settings).")
    async def set_product_config(self, info: Info[Context, None], sku: str, config: JSON,
                                 expected_version: EXPECTED = None) -> AdminResult:
        return admin_result(await info.context.services.admin.set_product_config(
            sku, config, expected_version))

    @strawberry.mutation(permission_classes=BACK_OFFICE,
                         description="Create or update a product; without `config` its stored "
                                     "options are kept.")
    async def upsert_product(self, info: Info[Context, None], product: ProductInput,
                             expected_version: EXPECTED = None) -> AdminResult:
        return admin_result(await info.context.services.admin.upsert_product(
            catalog_entry(vars(product)), expected_version))

    @strawberry.mutation(permission_classes=BACK_OFFICE)
    async def upsert_source(
            self, info: Info[Context, None],
            # Named in Python apart from GraphQL: `source` collides with strawberry's own.
            source_input: Annotated[SourceInput, strawberry.argument(name="source")],
            expected_version: EXPECTED = None) -> AdminResult:
        return admin_result(await info.context.services.admin.upsert_source(
            catalog_entry(vars(source_input)), expected_version))

    @strawberry.mutation(permission_classes=BACK_OFFICE,
                         description="Create or replace a stock: its channels and linked sources "
                                     "(without `config` its stored overrides are kept).")
    async def upsert_stock(self, info: Info[Context, None], stock: StockInput,
                           expected_version: EXPECTED = None) -> AdminResult:
        entry = catalog_entry(vars(stock))
        entry["sources"] = [catalog_entry(vars(link)) for link in stock.sources]
        return admin_result(await info.context.services.admin.upsert_stock(
            entry, expected_version))

    @strawberry.mutation(permission_classes=BACK_OFFICE,
                         description="Upsert source items (quantity, status, source-level "
                                     "options), up to 10,000 per call, in one transaction; an "
                                     "item without `config` keeps its stored options.")
    async def set_source_items(self, info: Info[Context, None], items: list[SourceItemInput],
                               expected_version: EXPECTED = None) -> AdminResult:
        return admin_result(await info.context.services.admin.set_source_items(
            [catalog_entry(vars(item)) for item in items], expected_version))

    @strawberry.mutation(permission_classes=BACK_OFFICE,
                         description="Delete a product and its source items.")
    async def delete_product(self, info: Info[Context, None], sku: str,
                             expected_version: EXPECTED = None) -> AdminResult:
        return admin_result(await info.context.services.admin.delete_product(
            sku, expected_version))
