"""Back-office administration (token): writes at every level of the chain, and reads of what
each level sets. Resolvers only translate arguments and call the admin service."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.api.context import BACK_OFFICE, Context
from gateway.api.types import ImportProblem, SettingLevel
from gateway.catalog import CatalogProblem, dump_config
from gateway.domain.options import OPTIONS, dump_value
from gateway.domain.records import Config, SourceRecord, StockRecord


@strawberry.enum
class SourceItemStatus(Enum):
    IN_STOCK = "in_stock"
    OUT_OF_STOCK = "out_of_stock"


@strawberry.type(description="An option set at one level, as in the catalog file.")
class SetValue:
    name: str
    value: JSON


@strawberry.type
class OptionInfo:
    name: str
    default: JSON
    levels: list[SettingLevel]  # type: ignore[valid-type]
    description: str


@strawberry.type
class AdminResult:
    ok: bool
    errors: list[ImportProblem]


@strawberry.type
class InventoryConfig:
    settings: list[SetValue] = strawberry.field(description="Options set globally.")
    options: list[OptionInfo] = strawberry.field(description="Every option, its built-in "
                                                             "default and where it may be set.")


@strawberry.type
class Source:
    code: str
    name: str
    enabled: bool
    latitude: float | None
    longitude: float | None
    country: str | None
    postcode: str | None


@strawberry.type
class StockLink:
    source_code: str
    priority: int


@strawberry.type
class Stock:
    id: int
    name: str
    channels: list[str]
    sources: list[StockLink]
    settings: list[SetValue]


@strawberry.type
class SourceItem:
    source_code: str
    quantity: float
    status: SourceItemStatus
    settings: list[SetValue]


@strawberry.type
class Product:
    sku: str
    name: str
    settings: list[SetValue] = strawberry.field(description="Options set on the product "
                                                            "(the rest use config settings).")
    source_items: list[SourceItem]


@strawberry.input
class SourceInput:
    code: str
    name: str
    enabled: bool = True
    latitude: float | None = None
    longitude: float | None = None
    country: str | None = None
    postcode: str | None = None


@strawberry.input
class StockLinkInput:
    code: str
    priority: int


@strawberry.input
class StockInput:
    id: int
    name: str
    channels: list[str]
    sources: list[StockLinkInput]
    config: JSON | None = None


@strawberry.input
class ProductInput:
    sku: str
    name: str = ""
    config: JSON | None = None


@strawberry.input
class SourceItemInput:
    sku: str
    source: str
    quantity: float
    status: SourceItemStatus
    config: JSON | None = None


def _settings(config: Config) -> list[SetValue]:
    return [SetValue(name=name, value=cast(JSON, value))
            for name, value in dump_config(config).items()]


def _result(problems: list[CatalogProblem]) -> AdminResult:
    return AdminResult(ok=not problems, errors=[ImportProblem(path=p.path, message=p.message)
                                                for p in problems])


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """An input as a catalog entry: unset optional fields left out, enums as their values."""
    return {key: value.value if isinstance(value, Enum) else value
            for key, value in data.items() if value is not None}


def _source(s: SourceRecord) -> Source:
    return Source(code=s.code, name=s.name, enabled=s.enabled, latitude=s.latitude,
                  longitude=s.longitude, country=s.country, postcode=s.postcode)


def _stock(s: StockRecord) -> Stock:
    return Stock(id=s.id, name=s.name, channels=list(s.channels),
                 sources=[StockLink(source_code=link.source_code, priority=link.priority)
                          for link in s.sources], settings=_settings(s.config))


@strawberry.type
class AdminQuery:
    @strawberry.field(permission_classes=BACK_OFFICE)
    async def inventory_config(self, info: Info[Context, None]) -> InventoryConfig:
        topology = await info.context.admin.topology()
        return InventoryConfig(settings=_settings(topology.global_config), options=[
            OptionInfo(name=o.name, default=cast(JSON, dump_value(o.default)),
                       description=o.description,
                       levels=sorted(o.levels, key=list(SettingLevel).index))
            for o in OPTIONS.values()])

    @strawberry.field(permission_classes=BACK_OFFICE)
    async def sources(self, info: Info[Context, None]) -> list[Source]:
        return [_source(s) for s in (await info.context.admin.topology()).sources.values()]

    @strawberry.field(permission_classes=BACK_OFFICE)
    async def stocks(self, info: Info[Context, None]) -> list[Stock]:
        return [_stock(s) for s in (await info.context.admin.topology()).stocks.values()]

    @strawberry.field(permission_classes=BACK_OFFICE,
                      description="What the product and each of its source items set; null if "
                                  "unknown.")
    async def product(self, info: Info[Context, None], sku: str) -> Product | None:
        view = await info.context.admin.product(sku)
        if view is None:
            return None
        return Product(sku=view.product.sku, name=view.product.name,
                       settings=_settings(view.product.config), source_items=[
                           SourceItem(source_code=i.source, quantity=float(i.quantity),
                                      status=SourceItemStatus.IN_STOCK if i.in_stock
                                      else SourceItemStatus.OUT_OF_STOCK,
                                      settings=_settings(i.config))
                           for i in view.source_items])


@strawberry.type
class AdminMutation:
    @strawberry.mutation(permission_classes=BACK_OFFICE,
                         description="Set global options; a null clears one (built-in default).")
    async def set_global_config(self, info: Info[Context, None], config: JSON) -> AdminResult:
        return _result(await info.context.admin.set_global_config(config))

    @strawberry.mutation(permission_classes=BACK_OFFICE,
                         description="Set per-stock overrides; a null clears one.")
    async def set_stock_config(self, info: Info[Context, None], stock_id: int,
                               config: JSON) -> AdminResult:
        return _result(await info.context.admin.set_stock_config(stock_id, config))

    @strawberry.mutation(permission_classes=BACK_OFFICE,
                         description="Set product options; a null clears one (Use Config "
                                     "Settings).")
    async def set_product_config(self, info: Info[Context, None], sku: str,
                                 config: JSON) -> AdminResult:
        return _result(await info.context.admin.set_product_config(sku, config))

    @strawberry.mutation(permission_classes=BACK_OFFICE)
    async def upsert_product(self, info: Info[Context, None],
                             product: ProductInput) -> AdminResult:
        return _result(await info.context.admin.upsert_product(_plain(vars(product))))

    @strawberry.mutation(permission_classes=BACK_OFFICE)
    async def upsert_source(
            self, info: Info[Context, None],
            # Named in Python apart from GraphQL: `source` collides with strawberry's own.
            source_input: Annotated[SourceInput, strawberry.argument(name="source")],
    ) -> AdminResult:
        return _result(await info.context.admin.upsert_source(_plain(vars(source_input))))

    @strawberry.mutation(permission_classes=BACK_OFFICE,
                         description="Create or replace a stock: its channels and linked sources.")
    async def upsert_stock(self, info: Info[Context, None], stock: StockInput) -> AdminResult:
        entry = _plain(vars(stock))
        entry["sources"] = [_plain(vars(link)) for link in stock.sources]
        return _result(await info.context.admin.upsert_stock(entry))

    @strawberry.mutation(permission_classes=BACK_OFFICE,
                         description="Upsert source items (quantity, status, source-level "
                                     "options), up to 10,000 per call, in one transaction.")
    async def set_source_items(self, info: Info[Context, None],
                               items: list[SourceItemInput]) -> AdminResult:
        return _result(await info.context.admin.set_source_items(
            [_plain(vars(item)) for item in items]))

    @strawberry.mutation(permission_classes=BACK_OFFICE,
                         description="Delete a product and its source items.")
    async def delete_product(self, info: Info[Context, None], sku: str) -> AdminResult:
        if await info.context.admin.delete_product(sku):
            return AdminResult(ok=True, errors=[])
        return AdminResult(ok=False, errors=[ImportProblem(path="sku",
                                                           message=f"unknown product {sku!r}")])
