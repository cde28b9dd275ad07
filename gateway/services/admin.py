"""Back-office writes at every level of the inheritance chain, and what each level sets.

Every write is expressed as a catalog fragment and goes through the same validation and the
same single-transaction import as a catalog file: one set of rules for files, the API and the
CLI. Problems come back with paths relative to the mutation's arguments (``config.min_qty``,
``items[3].quantity``) and nothing is written when there is any.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gateway.catalog import FORMAT, CatalogProblem, dump_config, dump_stock
from gateway.domain.errors import AdminErrorCode
from gateway.domain.records import Config, ProductView, Topology
from gateway.services.catalog import CatalogService
from gateway.services.reader import InventoryReader

MAX_SOURCE_ITEMS = 10_000


def _patched(current: Config, patch: object) -> dict[str, object] | None:
    """The stored config (canonical JSON form) with ``patch`` applied: null clears a key."""
    if not isinstance(patch, Mapping):
        return None
    merged = dump_config(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _relative(problems: Sequence[CatalogProblem], prefix: str,
              replacement: str) -> list[CatalogProblem]:
    out = []
    for p in problems:
        path = p.path
        if path.startswith(prefix):
            path = replacement + path[len(prefix):]
        out.append(CatalogProblem(path.lstrip("."), p.message, p.code))
    return out


def _not_an_object(name: str) -> list[CatalogProblem]:
    return [CatalogProblem(name, "must be an object of option name -> value (null clears)")]


def _unknown(path: str, message: str) -> list[CatalogProblem]:
    return [CatalogProblem(path, message, AdminErrorCode.NOT_FOUND)]


class AdminService:
    """Back-office writes and reads of configuration and catalog entities."""

    def __init__(self, reader: InventoryReader, catalog: CatalogService) -> None:
        self.reader = reader
        self.catalog = catalog
        self.store = reader.store

    async def _import(self, fragment: dict[str, Any], prefix: str,
                      replacement: str) -> list[CatalogProblem]:
        problems = await self.catalog.import_document({"format": FORMAT, **fragment})
        return _relative(problems, prefix, replacement)

    async def set_global_config(self, patch: object) -> list[CatalogProblem]:
        """Set (or, with null, clear) global options; other options are left as they are."""
        topology = await self.reader.topology()
        merged = _patched(topology.global_config, patch)
        if merged is None:
            return _not_an_object("config")
        return await self._import({"config": merged}, "$.config", "config")

    async def set_stock_config(self, stock_id: int, patch: object) -> list[CatalogProblem]:
        """Set or clear per-stock overrides of global options."""
        topology = await self.reader.topology()
        stock = topology.stocks.get(stock_id)
        if stock is None:
            return _unknown("stockId", f"unknown stock {stock_id}")
        merged = _patched(stock.config, patch)
        if merged is None:
            return _not_an_object("config")
        return await self._import({"stocks": [{**dump_stock(stock), "config": merged}]},
                                  "$.stocks[0].config", "config")

    async def set_product_config(self, sku: str, patch: object) -> list[CatalogProblem]:
        """Set product options; a null clears the override ("Use Config Settings")."""
        view = await self.product(sku)
        if view is None:
            return _unknown("sku", f"unknown product {sku!r}")
        merged = _patched(view.product.config, patch)
        if merged is None:
            return _not_an_object("config")
        entry = {"sku": sku, "name": view.product.name, "config": merged}
        return await self._import({"products": [entry]}, "$.products[0].config", "config")

    async def upsert_product(self, product: Mapping[str, Any]) -> list[CatalogProblem]:
        return await self._import({"products": [dict(product)]}, "$.products[0]", "product")

    async def upsert_source(self, source: Mapping[str, Any]) -> list[CatalogProblem]:
        return await self._import({"sources": [dict(source)]}, "$.sources[0]", "source")

    async def upsert_stock(self, stock: Mapping[str, Any]) -> list[CatalogProblem]:
        return await self._import({"stocks": [dict(stock)]}, "$.stocks[0]", "stock")

    async def set_source_items(self, items: Sequence[Mapping[str, Any]]) -> list[CatalogProblem]:
        """Upsert up to :data:`MAX_SOURCE_ITEMS` source items in one transaction."""
        if len(items) > MAX_SOURCE_ITEMS:
            return [CatalogProblem("items", f"at most {MAX_SOURCE_ITEMS} items per call "
                                            f"(got {len(items)})", AdminErrorCode.LIMIT_EXCEEDED)]
        return await self._import({"source_items": [dict(i) for i in items]},
                                  "$.source_items", "items")

    async def delete_product(self, sku: str) -> list[CatalogProblem]:
        """Remove a product and its source items; its reservations stay as history."""
        if await self.store.delete_product(sku):
            return []
        return _unknown("sku", f"unknown product {sku!r}")

    async def topology(self) -> Topology:
        return await self.reader.topology()

    async def product(self, sku: str) -> ProductView | None:
        """What the product and each of its source items set; None when unknown."""
        return await self.reader.product(sku)
