"""The rule lint over the catalog: which (sku, stock) settings make a product unbuyable or
misleading (docs/rules.md §10). The domain decides; this module only loads and pages.

SKUs are read in ascending order in chunks (one statement for the names, one per chunk and
stock for the data), and effective settings go through the shared memo, so a whole shop of
100,000 SKUs is linted in seconds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from gateway.domain.inheritance import EffectiveSettings
from gateway.domain.lint import Finding, lint_snapshot
from gateway.domain.model import StockSnapshot
from gateway.domain.records import StockRecord, Topology
from gateway.domain.settings_memo import Same
from gateway.services.reader import InventoryReader, Loaded

#: SKUs loaded per statement while scanning.
CHUNK = 500
#: Distinct configurations whose findings are remembered (emptied when full).
MAX_MEMO = 50_000

#: Called with (SKUs checked so far, SKUs to check), for a progress bar.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LintReport:
    """Findings in (stock, sku) order and what was scanned."""

    findings: tuple[Finding, ...]
    skus_checked: int
    topology: Topology

    def channels(self, stock_id: int) -> tuple[str, ...]:
        """The sales channels of a stock (for display)."""
        stock = self.topology.stocks.get(stock_id)
        return stock.channels if stock is not None else ()


class LintService:
    """Runs the rule lint for one channel's stock or every stock."""

    def __init__(self, reader: InventoryReader) -> None:
        self.reader = reader
        # Findings per distinct configuration (most SKUs of a shop share theirs): the lint of
        # a SKU is its configuration's findings with the SKU filled in.
        self._memo: dict[tuple[object, ...], tuple[Finding, ...]] = {}

    async def report(self, channel: str | None = None,
                     progress: Progress | None = None) -> LintReport:
        """Every finding of the whole catalog, for one channel's stock (ChannelNotFound when
        unknown) or every stock, in (stock id, sku) order. ``progress`` is called after each
        chunk with (SKUs checked so far, SKUs in the catalog)."""
        topology = await self.reader.topology()
        stocks = self._stocks(channel, topology)
        skus = await self.reader.store.list_skus()
        found: list[Finding] = []
        for start in range(0, len(skus), CHUNK):
            chunk = skus[start:start + CHUNK]
            for stock in stocks:
                found += await self._chunk(stock, chunk)
            if progress is not None:
                progress(start + len(chunk), len(skus))
        found.sort(key=lambda f: (f.stock_id, f.sku))
        return LintReport(tuple(found), len(skus), topology)

    async def findings(self, channel: str, skus: Sequence[str] | None = None, *,
                       after_sku: str | None = None, limit: int) -> list[Finding]:
        """Findings in the channel's stock, in SKU order: of ``skus`` when given (unknown SKUs
        have none), else of the catalog's SKUs; only SKUs after ``after_sku`` when given.

        At most ``limit`` findings, of whole SKUs (a SKU's findings are never split: a page
        holds more than ``limit`` only when its first SKU alone has more). The scan stops as
        soon as the page is full. Raises ChannelNotFound.
        """
        topology = await self.reader.topology()
        (stock,) = self._stocks(channel, topology)
        page: list[Finding] = []
        async for chunk in self._chunks(skus, after_sku):
            by_sku: dict[str, list[Finding]] = {}
            for finding in await self._chunk(stock, chunk):
                by_sku.setdefault(finding.sku, []).append(finding)
            for sku in sorted(by_sku):
                if page and len(page) + len(by_sku[sku]) > limit:
                    return page
                page += by_sku[sku]
                if len(page) >= limit:
                    return page
        return page

    async def _chunks(self, skus: Sequence[str] | None,
                      after_sku: str | None) -> AsyncIterator[list[str]]:
        """SKUs in ascending order, in chunks: the given ones, or the catalog's (read chunk by
        chunk, so a full page stops the reading too)."""
        if skus is not None:
            wanted = sorted(s for s in set(skus) if after_sku is None or s > after_sku)
            for start in range(0, len(wanted), CHUNK):
                yield wanted[start:start + CHUNK]
            return
        cursor = after_sku
        while chunk := await self.reader.store.list_skus(cursor, CHUNK):
            yield chunk
            cursor = chunk[-1]

    def _stocks(self, channel: str | None, topology: Topology) -> list[StockRecord]:
        if channel is not None:
            return [self.reader.stock_for(channel, topology)]
        return [topology.stocks[stock_id] for stock_id in sorted(topology.stocks)]

    async def _chunk(self, stock: StockRecord, skus: Sequence[str]) -> list[Finding]:
        loaded = await self.reader.load_stock(stock.id, skus)
        version = loaded.topology.version
        cache = self.reader.settings_cache

        def settings_for(snapshot: StockSnapshot, group: str | None) -> EffectiveSettings:
            return cache.settings(snapshot, version, group)

        found: list[Finding] = []
        for sku, key in _keys(loaded):
            template = self._memo.get(key)
            if template is None:
                snapshot = loaded.snapshot(sku)
                assert snapshot is not None
                if len(self._memo) >= MAX_MEMO:
                    self._memo.clear()
                template = self._memo[key] = tuple(lint_snapshot(snapshot, settings_for))
            found += [f if f.sku == sku else replace(f, sku=sku) for f in template]
        return found


def _keys(loaded: Loaded) -> Iterator[tuple[str, tuple[object, ...]]]:
    """Per loaded SKU, everything its lint reads except the SKU itself: the configs (by
    identity, as the settings memo) and each source item's code, config and the flags its
    snapshot gets (linked, source enabled, in stock). Quantities and reservations play no
    part. Built from the records, so a snapshot is only made for a configuration not seen
    yet."""
    topology, stock = loaded.topology, loaded.stock
    linked = {link.source_code for link in stock.sources}
    enabled = {code for code, source in topology.sources.items() if source.enabled}
    head = (topology.version, stock.id, Same(stock.config), Same(topology.global_config))
    for sku, product in loaded.data.products.items():
        yield sku, (*head, Same(product.config), tuple(
            (i.source, Same(i.config), i.source in linked, i.source in enabled, i.in_stock)
            for i in loaded.data.source_items.get(sku, ())))
