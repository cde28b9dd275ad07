"""Back-office administration types: what each level sets, inputs, and write results."""

from __future__ import annotations

from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from gateway.api.common import EffectiveSetting, ImportProblem, effective_setting, problems
from gateway.api.enums import Level, LintCode, SourceItemStatus
from gateway.catalog import CatalogProblem, dump_config
from gateway.domain.lint import Finding
from gateway.domain.options import OPTIONS, dump_value
from gateway.domain.records import Config, ProductView, SourceRecord, StockRecord
from gateway.services.admin import AdminOutcome


@strawberry.type(description="An option set at one level, as in the catalog file.")
class SetValue:
    name: str
    value: JSON


@strawberry.type
class OptionInfo:
    name: str
    default: JSON
    levels: list[Level]
    description: str


@strawberry.type(description="What a back-office write answers: ok, or every problem (then "
                             "nothing was written).")
class AdminResult:
    ok: bool
    errors: list[ImportProblem]
    version: int | None = strawberry.field(
        description="The configuration version this write produced; send it back as "
                    "`expectedVersion` to refuse your next write if anyone else wrote since.")


@strawberry.type
class ImportResult:
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


@strawberry.type(description="What a product and each of its source items set (back office). "
                             "Not the federated Product entity.")
class ProductSettings:
    sku: str
    name: str
    settings: list[SetValue] = strawberry.field(description="Options set on the product "
                                                            "(the rest use config settings).")
    source_items: list[SourceItem]


@strawberry.type(description="A combination of settings that makes a product unbuyable or "
                             "misleading in the channel's stock (docs/rules.md §10).")
class LintFinding:
    sku: str
    code: LintCode
    message: str
    settings: list[EffectiveSetting] = strawberry.field(
        description="The effective settings involved, each with the level that set it.")
    suggestion: str | None


def lint_finding(finding: Finding) -> LintFinding:
    return LintFinding(sku=finding.sku, code=finding.code, message=finding.message,
                       settings=[effective_setting(s) for s in finding.settings],
                       suggestion=finding.suggestion)


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


def settings(config: Config) -> list[SetValue]:
    return [SetValue(name=name, value=cast(JSON, value))
            for name, value in dump_config(config).items()]


def admin_result(outcome: AdminOutcome) -> AdminResult:
    return AdminResult(ok=not outcome.problems, errors=problems(outcome.problems),
                       version=outcome.version)


def import_result(found: list[CatalogProblem]) -> ImportResult:
    return ImportResult(ok=not found, errors=problems(found))


def catalog_entry(data: dict[str, Any]) -> dict[str, Any]:
    """An input as a catalog entry: unset optional fields left out, enums as their values."""
    return {key: value.value if isinstance(value, Enum) else value
            for key, value in data.items() if value is not None}


def inventory_config(global_config: Config) -> InventoryConfig:
    return InventoryConfig(settings=settings(global_config), options=[
        OptionInfo(name=o.name, default=cast(JSON, dump_value(o.default)),
                   description=o.description, levels=sorted(o.levels, key=list(Level).index))
        for o in OPTIONS.values()])


def source(s: SourceRecord) -> Source:
    return Source(code=s.code, name=s.name, enabled=s.enabled, latitude=s.latitude,
                  longitude=s.longitude, country=s.country, postcode=s.postcode)


def stock(s: StockRecord) -> Stock:
    return Stock(id=s.id, name=s.name, channels=list(s.channels),
                 sources=[StockLink(source_code=link.source_code, priority=link.priority)
                          for link in s.sources], settings=settings(s.config))


def product_settings(view: ProductView) -> ProductSettings:
    return ProductSettings(sku=view.product.sku, name=view.product.name,
                   settings=settings(view.product.config), source_items=[
                       SourceItem(source_code=i.source, quantity=float(i.quantity),
                                  status=SourceItemStatus.of(i.in_stock),
                                  settings=settings(i.config))
                       for i in view.source_items])
