"""A subscriber that stops reading: the server's memory for it stays bounded.

A real socket with a tiny receive buffer and a client that does not read: once the kernel
buffers are full the server's send blocks, the subscription stops taking answers from the
hub, and the hub's queue for it (answers waiting in its watch) holds at most one answer per
watched SKU however many changes happen. When the client reads again it gets the latest
answer of every SKU that changed, not the history.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from gateway.services.live import AvailabilityHub
from tests.live.client import LiveClient
from tests.live.fakes import FakeFeed
from tests.live.inprocess import hub_on, serving

SKUS = [f"LIVE-{n:03d}" for n in range(100)]
ROUNDS = 30
WATCH = ("subscription($skus: [String!]!) { availabilityChanged(channel: \"eu_website\", "
         "skus: $skus) { sku salableQty channel stockId stockStatus isSalable backorders } }")
SET_ITEMS = ("mutation($items: [SourceItemInput!]!) { setSourceItems(items: $items) { ok } }")


def catalog() -> dict[str, Any]:
    return {"format": "availability-catalog/1", "products": [{"sku": sku} for sku in SKUS],
            "source_items": [{"sku": sku, "source": "eu-1", "quantity": 1000,
                              "status": "in_stock"} for sku in SKUS]}


def tiny_socket(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


async def answered(hub: AvailabilityHub, sequence: int) -> None:
    """Wait until the hub has answered the changes up to ``sequence``."""
    async with asyncio.timeout(10):
        while hub.stats().sequence != sequence:  # noqa: ASYNC110 (the hub has no event for it)
            await asyncio.sleep(0.005)


async def test_a_slow_subscriber_holds_one_pending_answer_per_sku(tmp_path: Path) -> None:
    async with serving(str(tmp_path / "gateway.sqlite3"), live_max_skus=len(SKUS),
                       send_buffer=4096, sqlite_synchronous="NORMAL") as served:
        await served.gql("mutation($d: JSON!) { importCatalog(document: $d) { ok } }",
                         {"d": catalog()})
        feed = FakeFeed()
        async with hub_on(served, feed, poll_interval=0.01) as hub:
            port = int(served.http.rsplit(":", 1)[1])
            async with LiveClient.connect(served.ws, sock=tiny_socket(port),
                                          max_queue=1, compression=None) as client:
                # (uncompressed, so that the buffers fill after a few rounds)
                await client.subscribe("all", WATCH, {"skus": SKUS})
                largest = 0
                blocked_rounds = 0
                for quantity in range(ROUNDS):
                    await served.gql(SET_ITEMS, {"items": [
                        {"sku": sku, "source": "eu-1", "quantity": quantity,
                         "status": "IN_STOCK"} for sku in SKUS]})
                    feed.changed(*SKUS)
                    await answered(hub, len(feed.log))
                    stats = hub.stats()
                    largest = max(largest, stats.max_pending)
                    blocked_rounds += stats.pending > 0
                # The consumer was really stuck (answers piled up in its watch) ...
                assert blocked_rounds > ROUNDS // 2, blocked_rounds
                # ... and its queue never held more than one answer per SKU.
                assert 0 < largest <= len(SKUS)
                latest: dict[str, float] = {}
                received = 0
                while len(latest) < len(SKUS) or any(q != ROUNDS - 1 for q in latest.values()):
                    message = await client.receive(10)
                    assert message["type"] == "next", message
                    event = message["payload"]["data"]["availabilityChanged"]
                    latest[event["sku"]] = event["salableQty"]
                    received += 1
                await client.silent(0.5)
                # Caught up with the latest answers, far fewer events than changes.
                assert latest == dict.fromkeys(SKUS, float(ROUNDS - 1))
                assert received < (ROUNDS + 1) * len(SKUS) // 2, received
                assert hub.stats().pending == 0
