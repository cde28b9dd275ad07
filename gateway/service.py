"""Use cases: availability, cart validation, source selection, catalog import/export.

The service loads what a request needs in bulk from the store (one statement for any number of
SKUs), turns it into domain snapshots and lets the domain decide. Topology (global config,
sources, stocks, channels) is cached in-process and reloaded when the data version read with
the SKUs changes, so several worker processes stay correct. No SQL and no GraphQL here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from gateway.catalog import CatalogProblem, KnownEntities, dump_catalog, parse_catalog
from gateway.domain.availability import Availability
from gateway.domain.cart import LineResult, RequestedLine, check_cart, parse_lines
from gateway.domain.errors import DomainError
from gateway.domain.model import ConfigChain, SourceItemState, StockSnapshot
from gateway.domain.records import SkuData, StockRecord, Topology
from gateway.domain.sourcing import (
    Algorithm,
    Destination,
    Selection,
    SourceInfo,
    StockOnShelf,
    select_sources,
)
from gateway.settings_cache import SettingsCache
from gateway.store.protocol import Store


class SkuReader(Protocol):
    """What :meth:`InventoryService.load` reads through: the store or an open transaction."""

    async def load_topology(self) -> Topology: ...
    async def load_skus(self, skus: Sequence[str], stock_id: int) -> SkuData: ...


class ChannelNotFound(DomainError):
    def __init__(self, channel: str) -> None:
        super().__init__("CHANNEL_NOT_FOUND", f"Unknown sales channel {channel!r}.")
        self.channel = channel


@dataclass(frozen=True)
class CartValidation:
    lines: tuple[LineResult, ...]

    @property
    def ok(self) -> bool:
        return all(line.ok for line in self.lines)


def snapshot_for(sku: str, stock: StockRecord, topology: Topology,
                 data: SkuData) -> StockSnapshot | None:
    """The (sku, stock) snapshot from bulk-loaded data; None for an unknown SKU."""
    product = data.products.get(sku)
    if product is None:
        return None
    linked = {link.source_code for link in stock.sources}
    items = tuple(
        SourceItemState(
            source_code=item.source, quantity=item.quantity, in_stock=item.in_stock,
            source_enabled=(src := topology.sources.get(item.source)) is not None and src.enabled,
            linked=item.source in linked, config=item.config)
        for item in data.source_items.get(sku, ()))
    chain = ConfigChain(product.config, stock.config, topology.global_config)
    return StockSnapshot(sku, stock.id, items, data.reserved.get(sku, Decimal(0)), chain)


def selection_inputs(stock: StockRecord, topology: Topology, data: SkuData
                     ) -> tuple[list[SourceInfo], dict[tuple[str, str], StockOnShelf]]:
    """The stock's linked sources and the loaded SKUs' items, as source selection takes them."""
    sources = [SourceInfo(code=s.code, priority=link.priority, enabled=s.enabled,
                          latitude=s.latitude, longitude=s.longitude, country=s.country,
                          postcode=s.postcode)
               for link in stock.sources if (s := topology.sources.get(link.source_code))]
    shelves = {(item.source, item.sku): StockOnShelf(item.quantity, item.in_stock)
               for items in data.source_items.values() for item in items}
    return sources, shelves


class InventoryService:
    """The gateway's use cases over one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._topology: Topology | None = None
        self._reload = asyncio.Lock()
        self.settings_cache = SettingsCache()

    @property
    def cached_topology(self) -> Topology | None:
        return self._topology

    async def topology(self) -> Topology:
        """The cached topology, reloaded when another writer changed the data version."""
        version = await self.store.data_version()
        cached = self._topology
        if cached is not None and cached.version == version:
            return cached
        async with self._reload:
            if self._topology is None or self._topology.version != version:
                self._topology = await self.store.load_topology()
            return self._topology

    def stock_for(self, channel: str, topology: Topology) -> StockRecord:
        stock_id = topology.channels.get(channel)
        if stock_id is None:
            raise ChannelNotFound(channel)
        return topology.stocks[stock_id]

    async def load(self, channel: str, skus: Sequence[str], reader: SkuReader | None = None
                   ) -> tuple[Topology, StockRecord, SkuData]:
        """Topology, stock and SKU data in one statement while the topology cache is current.

        The SKU snapshot carries the data version: only when it differs from the cached
        topology's (another writer changed configuration) is the topology reloaded, and the
        SKUs re-read if the channel now points at another stock. ``reader`` is an open
        transaction to read through (its topology is then read inside it, not cached).
        """
        topology = self._topology
        if topology is None or channel not in topology.channels:
            topology = await (reader.load_topology() if reader else self.topology())
        stock = self.stock_for(channel, topology)
        source: SkuReader = reader or self.store
        data = await source.load_skus(skus, stock.id)
        if data.version != topology.version:
            topology = await (reader.load_topology() if reader else self.topology())
            fresh = self.stock_for(channel, topology)
            if fresh.id != stock.id:
                data = await source.load_skus(skus, fresh.id)
            stock = fresh
        return topology, stock, data

    async def assess_skus(self, channel: str, skus: Sequence[str], customer_group: str | None,
                          reader: SkuReader | None = None
                          ) -> tuple[StockRecord, dict[str, Availability | None]]:
        """Availability of each distinct SKU (None when unknown) in the channel's stock."""
        unique = list(dict.fromkeys(skus))
        topology, stock, data = await self.load(channel, unique, reader)
        result: dict[str, Availability | None] = {}
        for sku in unique:
            snapshot = snapshot_for(sku, stock, topology, data)
            result[sku] = (self.settings_cache.assess(snapshot, topology.version, customer_group)
                           if snapshot is not None else None)
        return stock, result

    async def availability(self, channel: str, skus: Sequence[str],
                           customer_group: str | None = None) -> list[Availability | None]:
        """One entry per requested SKU, same order; None for an unknown SKU.

        Raises ChannelNotFound. Costs one statement while the topology cache is current.
        """
        _, assessed = await self.assess_skus(channel, skus, customer_group)
        return [assessed[sku] for sku in skus]

    async def validate_cart(self, channel: str, lines: Sequence[RequestedLine],
                            customer_group: str | None = None) -> CartValidation:
        """The same check order placement uses (SEMANTICS §6); no side effects."""
        _, assessed = await self.assess_skus(channel, [line.sku for line in lines],
                                             customer_group)
        return CartValidation(check_cart(lines, assessed))

    async def source_selection(self, channel: str, lines: Sequence[RequestedLine],
                               algorithm: Algorithm = Algorithm.PRIORITY,
                               destination: Destination | None = None) -> Selection:
        """Which sources would ship ``lines`` (SEMANTICS §9). Raises DomainError on bad input."""
        parsed = parse_lines(lines)
        skus = list(dict.fromkeys(sku for sku, _ in parsed))
        topology, stock, data = await self.load(channel, skus)
        sources, shelves = selection_inputs(stock, topology, data)
        return select_sources(parsed, sources, shelves, algorithm, destination)

    async def import_document(self, document: object, *,
                              replace: bool = False) -> list[CatalogProblem]:
        """Validate and import a catalog document in one transaction.

        Returns every problem found (and writes nothing) or an empty list once committed.
        """
        known = None
        if not replace:
            topology = await self.topology()
            skus = _referenced_skus(document)
            known = KnownEntities(
                sources=frozenset(topology.sources),
                skus=frozenset(await self.store.known_skus(skus)) if skus else frozenset(),
                stocks=frozenset(topology.stocks))
        catalog, problems = parse_catalog(document, known)
        if catalog is None:
            return problems
        await self.store.import_catalog(catalog, replace=replace)
        return []

    async def export_document(self) -> dict[str, object]:
        """The whole store as an ``availability-catalog/1`` document."""
        return dump_catalog(await self.store.export_catalog())


def _referenced_skus(document: object) -> list[str]:
    """SKUs a document refers to (best effort: validation reports malformed entries)."""
    if not isinstance(document, Mapping):
        return []
    skus: list[str] = []
    for section in ("source_items", "reservations"):
        entries = document.get(section)
        if isinstance(entries, list):
            skus.extend(e["sku"] for e in entries
                        if isinstance(e, Mapping) and isinstance(e.get("sku"), str))
    return list(dict.fromkeys(skus))
