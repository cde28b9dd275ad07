"""The one read side every service shares: a topology cache and the bulk SKU load.

Topology (global config, sources, stocks, channels) is small and slowly changing: it is cached
in-process and reloaded when the data version read with the SKUs differs, so several worker
processes (or replicas) stay correct. SKU data (products, source items, reservation totals) is
never cached: quantities are always read fresh, in one statement for any number of SKUs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

from gateway.domain.availability import Availability
from gateway.domain.errors import DomainError, LookupErrorCode
from gateway.domain.model import StockSnapshot
from gateway.domain.orders import Order
from gateway.domain.records import FactsData, ProductView, SkuData, StockRecord, Topology
from gateway.domain.settings_memo import SettingsCache
from gateway.domain.snapshots import snapshot_of
from gateway.domain.sourcing import SourceInfo, StockOnShelf
from gateway.store.protocol import Store, Transaction


class SkuReader(Protocol):
    """What the reader loads through: the store itself, or an open write transaction."""

    async def data_version(self) -> int: ...
    async def load_topology(self) -> Topology: ...
    async def load_skus(self, skus: Sequence[str], stock_id: int) -> SkuData: ...


class Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)


class ChannelNotFound(DomainError):
    def __init__(self, channel: str) -> None:
        super().__init__(LookupErrorCode.CHANNEL_NOT_FOUND,
                         f"Unknown sales channel {channel!r}.", "channel")
        self.channel = channel


@dataclass(frozen=True, slots=True)
class Loaded:
    """What one request read: the topology it was read under, the channel's stock, the SKUs."""

    topology: Topology
    stock: StockRecord
    data: SkuData

    def snapshot(self, sku: str) -> StockSnapshot | None:
        """The (sku, stock) snapshot the rules are computed from; None for an unknown SKU."""
        product = self.data.products.get(sku)
        if product is None:
            return None
        return snapshot_of(product, self.stock, self.topology,
                           self.data.source_items.get(sku, ()),
                           self.data.reserved.get(sku, Decimal(0)))

    def snapshots(self) -> list[StockSnapshot]:
        """The snapshot of every loaded (known) SKU."""
        return [s for sku in self.data.products if (s := self.snapshot(sku)) is not None]

    def selection_inputs(self) -> tuple[list[SourceInfo], dict[tuple[str, str], StockOnShelf]]:
        """The stock's linked sources and the loaded SKUs' items, as source selection takes
        them."""
        sources = [SourceInfo(code=s.code, priority=link.priority, enabled=s.enabled,
                              latitude=s.latitude, longitude=s.longitude, country=s.country,
                              postcode=s.postcode)
                   for link in self.stock.sources
                   if (s := self.topology.sources.get(link.source_code))]
        shelves = {(item.source, item.sku): StockOnShelf(item.quantity, item.in_stock)
                   for items in self.data.source_items.values() for item in items}
        return sources, shelves


class InventoryReader:
    """Topology cache and bulk SKU loads over one store (shared by every service)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._topology: Topology | None = None
        self._reload = asyncio.Lock()
        self.settings_cache = SettingsCache()
        #: Topology reads served from the cache / reloaded from the store (for metrics).
        self.topology_hits = 0
        self.topology_misses = 0

    async def topology(self) -> Topology:
        """The cached topology, reloaded when another writer changed the data version."""
        version = await self.store.data_version()
        cached = self._topology
        if cached is not None and cached.version == version:
            self.topology_hits += 1
            return cached
        async with self._reload:
            if self._topology is None or self._topology.version != version:
                self.topology_misses += 1
                self._topology = await self.store.load_topology()
            return self._topology

    async def topology_via(self, via: SkuReader | None) -> Topology:
        """The topology as ``via`` sees it: inside a transaction the cached one is used only
        when its version is the transaction's."""
        if via is None:
            return await self.topology()
        cached = self._topology
        if cached is not None and cached.version == await via.data_version():
            return cached
        return await self._fresh(via)

    async def _fresh(self, via: SkuReader | None) -> Topology:
        """A topology read now (through ``via`` when given), remembered when it is newer.

        A transaction's reads only ever see committed data (writes are applied at the commit),
        so what it reads may be cached like any other read.
        """
        if via is None:
            return await self.topology()
        found = await via.load_topology()
        cached = self._topology
        if cached is None or found.version > cached.version:
            self._topology = found
        return found

    @staticmethod
    def stock_for(channel: str, topology: Topology) -> StockRecord:
        """The stock selling ``channel``; raises ChannelNotFound."""
        stock_id = topology.channels.get(channel)
        if stock_id is None:
            raise ChannelNotFound(channel)
        return topology.stocks[stock_id]

    async def load(self, channel: str, skus: Sequence[str],
                   via: SkuReader | None = None) -> Loaded:
        """Topology, stock and SKU data in one statement while the topology cache is current.

        ``via`` is an open transaction to read through (its reads see committed data only).
        """
        source: SkuReader = via or self.store
        topology, stock, data = await self._versioned(
            channel, lambda stock_id: source.load_skus(skus, stock_id), via)
        return Loaded(topology, stock, data)

    async def facts(self, channel: str, skus: Sequence[str]) -> tuple[StockRecord, FactsData]:
        """The availability facts of ``skus`` in the channel's stock: one statement while the
        topology cache is current."""
        _, stock, data = await self._versioned(
            channel, lambda stock_id: self.store.load_facts(skus, stock_id), None)
        return stock, data

    async def _versioned(self, channel: str, read: Callable[[int], Awaitable[V]],
                         via: SkuReader | None) -> tuple[Topology, StockRecord, V]:
        """``read`` of the channel's stock, under the topology current at that read.

        Every read carries the data version it was made at: only when it differs from the
        cached topology's (another writer changed configuration) is the topology reloaded, and
        the read repeated if the channel now points at another stock.
        """
        topology = self._topology
        if topology is None or channel not in topology.channels:
            topology = await self._fresh(via)
        stock = self.stock_for(channel, topology)
        return await self._current(channel, topology, stock, await read(stock.id), read, via)

    async def _current(self, channel: str, topology: Topology, stock: StockRecord, data: V,
                       read: Callable[[int], Awaitable[V]], via: SkuReader | None
                       ) -> tuple[Topology, StockRecord, V]:
        """``data``, read from ``stock`` under ``topology``, checked against its version (see
        :meth:`_versioned`)."""
        if data.version == topology.version:
            self.topology_hits += 1
        else:
            topology = await self._fresh(via)
            fresh = self.stock_for(channel, topology)
            if fresh.id != stock.id:
                data = await read(fresh.id)
            stock = fresh
        return topology, stock, data

    async def load_stock(self, stock_id: int, skus: Sequence[str],
                         via: SkuReader | None = None) -> Loaded:
        """Like :meth:`load`, for a stock named by id (an order's stock)."""
        topology = await self.topology_via(via)
        stock = topology.stocks[stock_id]
        return Loaded(topology, stock, await (via or self.store).load_skus(skus, stock.id))

    async def assess(self, channel: str, skus: Sequence[str], customer_group: str | None,
                     via: SkuReader | None = None
                     ) -> tuple[StockRecord, dict[str, Availability | None]]:
        """Availability of each distinct SKU (None when unknown) in the channel's stock."""
        unique = list(dict.fromkeys(skus))
        loaded = await self.load(channel, unique, via)
        return loaded.stock, self._assessed(loaded, unique, customer_group)

    def _assessed(self, loaded: Loaded, skus: Sequence[str], customer_group: str | None
                  ) -> dict[str, Availability | None]:
        version = loaded.topology.version
        result: dict[str, Availability | None] = {}
        for sku in skus:
            snapshot = loaded.snapshot(sku)
            result[sku] = (self.settings_cache.assess(snapshot, version, customer_group)
                           if snapshot is not None else None)
        return result

    async def placement(self, tx: Transaction, order_id: str, channel: str,
                        skus: Sequence[str], customer_group: str | None
                        ) -> Order | tuple[StockRecord, dict[str, Availability | None]]:
        """The order already stored under ``order_id`` if any, else what :meth:`assess`
        answers, read through ``tx`` exactly as ``tx.get_order`` followed by :meth:`assess`
        would: ONE round trip while the topology cache is current and knows the channel."""
        topology = self._topology
        if topology is None or channel not in topology.channels:
            found = await tx.get_order(order_id)
            return found if found is not None else await self.assess(
                channel, skus, customer_group, via=tx)
        unique = list(dict.fromkeys(skus))
        stock = self.stock_for(channel, topology)
        found, data = await tx.load_placement(order_id, unique, stock.id)
        if found is not None:
            return found
        topology, stock, data = await self._current(
            channel, topology, stock, data, lambda stock_id: tx.load_skus(unique, stock_id), tx)
        return stock, self._assessed(Loaded(topology, stock, data), unique, customer_group)

    async def product(self, sku: str) -> ProductView | None:
        """What the product and each of its source items set; None when unknown."""
        return await self.store.load_product(sku)
