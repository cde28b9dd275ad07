"""Stock crossings for back offices: the events every write records, followed from a position.

Each write records, in its own transaction, the (sku, stock) pairs whose answer crossed out of
stock, back in stock or into low stock (``gateway.domain.stock_events``), whichever process
made it. This service reads those records in commit order and keeps the ones of a channel's
stock (and of some SKUs); the API only renders them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection

from gateway.domain.stock_events import StockEvent
from gateway.services.reader import InventoryReader

#: Events read per statement.
PAGE = 500


class StockEventService:
    """Follows the store's stock events."""

    def __init__(self, reader: InventoryReader) -> None:
        self.reader = reader

    async def follow(self, channel: str, skus: Collection[str] | None, after: int | None, *,
                     poll_interval: float) -> AsyncIterator[StockEvent]:
        """The events of the channel's stock (of ``skus`` when given) recorded after position
        ``after`` (None: from now on), in commit order, forever: the store is read again every
        ``poll_interval`` seconds once a page comes back short. The channel is resolved
        against the current topology at every page (a stock may be re-assigned). Raises
        ChannelNotFound."""
        store = self.reader.store
        position = after if after is not None else await store.stock_event_sequence()
        while True:
            stock = InventoryReader.stock_for(channel, await self.reader.topology())
            events = await store.stock_events_since(position, PAGE)
            for event in events:
                position = event.sequence
                if event.stock_id == stock.id and (skus is None or event.sku in skus):
                    yield event
            if len(events) < PAGE:
                await asyncio.sleep(poll_interval)
