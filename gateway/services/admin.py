"""Back-office writes at every level of the inheritance chain, and what each level sets.

Every write is expressed as a catalog fragment and goes through the same validation as a
catalog file: one set of rules for files, the API and the CLI. Problems come back with paths
relative to the mutation's arguments (``config.min_qty``, ``items[3].quantity``) and nothing
is written when there is any. Unlike a file import (where an entity replaces the stored one
whole), an upsert without ``config`` keeps the stored options: a stock feed updating
quantities must not wipe a merchant's settings.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.catalog import FORMAT, CatalogProblem, dump_config, dump_stock
from gateway.domain.errors import AdminErrorCode
from gateway.domain.records import Config, ProductView, Topology
from gateway.services.catalog import CatalogService
from gateway.services.reader import InventoryReader
from gateway.store.protocol import Transaction

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


@dataclass(frozen=True)
class AdminOutcome:
    """What an admin write answers: every problem (nothing was written), or the data version
    the write produced (for optimistic concurrency: send it back as ``expected_version``)."""

    problems: list[CatalogProblem]
    version: int | None = None


Work = Callable[[Transaction], Awaitable[list[CatalogProblem]]]


class AdminService:
    """Back-office writes and reads of configuration and catalog entities.

    Every write reads what it merges with, validates and writes inside ONE store transaction:
    concurrent writes compose (each sees the previous one's result) or are refused with a
    code; a refused write changes nothing, not even the data version.
    """

    def __init__(self, reader: InventoryReader, catalog: CatalogService) -> None:
        self.reader = reader
        self.catalog = catalog
        self.store = reader.store

    async def _write(self, expected_version: int | None, work: Work) -> AdminOutcome:
        async with self.store.transaction() as tx:
            version = await tx.data_version()
            if expected_version is not None and expected_version != version:
                return AdminOutcome([CatalogProblem(
                    "expectedVersion", f"the configuration is at version {version}, not "
                    f"{expected_version}: reload it and retry", AdminErrorCode.VERSION_CONFLICT)])
            problems = await work(tx)
        return AdminOutcome(problems, None if problems else version + 1)

    async def _import(self, tx: Transaction, fragment: dict[str, Any], prefix: str,
                      replacement: str) -> list[CatalogProblem]:
        problems = await self.catalog.import_in(tx, {"format": FORMAT, **fragment})
        return _relative(problems, prefix, replacement)

    async def set_global_config(self, patch: object,
                                expected_version: int | None = None) -> AdminOutcome:
        """Set (or, with null, clear) global options; other options are left as they are."""
        if not isinstance(patch, Mapping):
            return AdminOutcome(_not_an_object("config"))

        async def work(tx: Transaction) -> list[CatalogProblem]:
            merged = _patched((await tx.load_topology()).global_config, patch)
            return await self._import(tx, {"config": merged}, "$.config", "config")

        return await self._write(expected_version, work)

    async def set_stock_config(self, stock_id: int, patch: object,
                               expected_version: int | None = None) -> AdminOutcome:
        """Set or clear per-stock overrides of global options."""
        if not isinstance(patch, Mapping):
            return AdminOutcome(_not_an_object("config"))

        async def work(tx: Transaction) -> list[CatalogProblem]:
            stock = (await tx.load_topology()).stocks.get(stock_id)
            if stock is None:
                return _unknown("stockId", f"unknown stock {stock_id}")
            merged = _patched(stock.config, patch)
            return await self._import(tx, {"stocks": [{**dump_stock(stock), "config": merged}]},
                                      "$.stocks[0].config", "config")

        return await self._write(expected_version, work)

    async def set_product_config(self, sku: str, patch: object,
                                 expected_version: int | None = None) -> AdminOutcome:
        """Set product options; a null clears the override ("Use Config Settings")."""
        if not isinstance(patch, Mapping):
            return AdminOutcome(_not_an_object("config"))

        async def work(tx: Transaction) -> list[CatalogProblem]:
            view = (await tx.load_products([sku])).get(sku)
            if view is None:
                return _unknown("sku", f"unknown product {sku!r}")
            entry = {"sku": sku, "name": view.product.name,
                     "config": _patched(view.product.config, patch)}
            return await self._import(tx, {"products": [entry]}, "$.products[0].config",
                                      "config")

        return await self._write(expected_version, work)

    async def upsert_product(self, product: Mapping[str, Any],
                             expected_version: int | None = None) -> AdminOutcome:
        """Create or update a product; without ``config`` the stored options are kept."""
        async def work(tx: Transaction) -> list[CatalogProblem]:
            entry = dict(product)
            sku = entry.get("sku")
            if "config" not in entry and isinstance(sku, str):
                view = (await tx.load_products([sku])).get(sku)
                if view is not None and view.product.config:
                    entry["config"] = dump_config(view.product.config)
            return await self._import(tx, {"products": [entry]}, "$.products[0]", "product")

        return await self._write(expected_version, work)

    async def upsert_source(self, source: Mapping[str, Any],
                            expected_version: int | None = None) -> AdminOutcome:
        async def work(tx: Transaction) -> list[CatalogProblem]:
            return await self._import(tx, {"sources": [dict(source)]}, "$.sources[0]", "source")

        return await self._write(expected_version, work)

    async def upsert_stock(self, stock: Mapping[str, Any],
                           expected_version: int | None = None) -> AdminOutcome:
        """Create or replace a stock's name, channels and links; without ``config`` the stored
        overrides are kept."""
        async def work(tx: Transaction) -> list[CatalogProblem]:
            entry = dict(stock)
            stock_id = entry.get("id")
            stored = ((await tx.load_topology()).stocks.get(stock_id)
                      if isinstance(stock_id, int) else None)
            if "config" not in entry and stored is not None and stored.config:
                entry["config"] = dump_config(stored.config)
            return await self._import(tx, {"stocks": [entry]}, "$.stocks[0]", "stock")

        return await self._write(expected_version, work)

    async def set_source_items(self, items: Sequence[Mapping[str, Any]],
                               expected_version: int | None = None) -> AdminOutcome:
        """Upsert up to :data:`MAX_SOURCE_ITEMS` source items in one transaction; an item
        without ``config`` keeps its stored source-level options."""
        if len(items) > MAX_SOURCE_ITEMS:
            return AdminOutcome([CatalogProblem(
                "items", f"at most {MAX_SOURCE_ITEMS} items per call (got {len(items)})",
                AdminErrorCode.LIMIT_EXCEEDED)])

        async def work(tx: Transaction) -> list[CatalogProblem]:
            entries = [dict(item) for item in items]
            bare = {e["sku"] for e in entries
                    if "config" not in e and isinstance(e.get("sku"), str)}
            if bare:
                stored = await tx.load_products(sorted(bare))
                configs = {(i.sku, i.source): i.config for view in stored.values()
                           for i in view.source_items if i.config}
                for entry in entries:
                    config = configs.get((str(entry.get("sku")), str(entry.get("source"))))
                    if "config" not in entry and config:
                        entry["config"] = dump_config(config)
            return await self._import(tx, {"source_items": entries}, "$.source_items", "items")

        return await self._write(expected_version, work)

    async def delete_product(self, sku: str,
                             expected_version: int | None = None) -> AdminOutcome:
        """Remove a product and its source items; its reservations stay as history."""
        async def work(tx: Transaction) -> list[CatalogProblem]:
            if not await tx.load_products([sku]):
                return _unknown("sku", f"unknown product {sku!r}")
            await tx.delete_product(sku)
            return []

        return await self._write(expected_version, work)

    async def topology(self) -> Topology:
        return await self.reader.topology()

    async def product(self, sku: str) -> ProductView | None:
        """What the product and each of its source items set; None when unknown."""
        return await self.reader.product(sku)
