"""No oversell under real concurrency: 4 uvicorn worker processes, one SQLite file.

Every placeOrder checks and reserves inside one ``BEGIN IMMEDIATE`` transaction, so however
the requests interleave across processes, exactly the stock on hand is sold (docs/rules.md §7).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from tests.concurrency.conftest import (
    CANCEL,
    CHANNEL,
    ORDER,
    PLACE,
    STOCK_ID,
    catalog,
    client,
    gql,
    running_server,
    salable,
)
from tests.servers import import_catalog

STOCK = 50
BUYERS = 200
BURST_TIMEOUT = 45.0


async def place(http: httpx.AsyncClient, order_id: str, sku: str,
                qty: float = 1) -> dict[str, Any]:
    data = await gql(http, PLACE, id=order_id, channel=CHANNEL,
                     lines=[{"sku": sku, "quantity": qty}])
    result: dict[str, Any] = data["placeOrder"]
    assert result["orderId"] == order_id
    return result


async def cancel(http: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    result: dict[str, Any] = (await gql(http, CANCEL, id=order_id))["cancelOrder"]
    return result


def assert_insufficient(result: dict[str, Any]) -> None:
    assert result["ok"] is False and result["status"] == "rejected", result
    assert result["error"]["code"] == "LINES_REFUSED", result
    assert [line["errors"] for line in result["lines"]] == [[{"code": "INSUFFICIENT_STOCK"}]], \
        result


async def test_200_buyers_for_50_units_across_4_workers(tmp_path: Path) -> None:
    db = import_catalog(tmp_path, catalog({"HOT": STOCK}))
    with running_server(db, workers=4) as server:
        async with client(server.base) as http:
            assert await salable(http, "HOT") == {
                "sku": "HOT", "salableQty": STOCK, "isSalable": True, "stockStatus": "IN_STOCK"}

            ids = [f"hot-{n:04d}" for n in range(BUYERS)]
            async with asyncio.timeout(BURST_TIMEOUT):
                results = await asyncio.gather(*(place(http, i, "HOT") for i in ids))

            accepted = [r["orderId"] for r in results if r["ok"]]
            rejected = [r for r in results if not r["ok"]]
            assert len(accepted) == STOCK, (len(accepted), server.logs())
            assert len(rejected) == BUYERS - STOCK
            for result in results:
                assert result["replayed"] is False
                if result["ok"]:
                    assert result["status"] == "placed" and result["error"] is None
                    assert result["lines"] == [
                        {"sku": "HOT", "quantity": 1, "ok": True, "errors": []}]
            for result in rejected:
                assert_insufficient(result)
            assert await salable(http, "HOT") == {
                "sku": "HOT", "salableQty": 0, "isSalable": False,
                "stockStatus": "OUT_OF_STOCK"}

            # The order view of one winner: its one −1 reservation, in the right stock.
            view = (await gql(http, ORDER, id=accepted[0]))["order"]
            assert view["status"] == "placed" and view["stockId"] == STOCK_ID
            assert view["skus"] == [{"sku": "HOT", "ordered": 1, "cancelled": 0, "open": 1}]
            assert view["reservations"] == [{"sku": "HOT", "stockId": STOCK_ID,
                                             "quantity": -1, "eventType": "order_placed"}]
            # A loser was not stored.
            assert (await gql(http, ORDER, id=rejected[0]["orderId"]))["order"] is None

            # Replays, concurrently, across workers: same answer, nothing more reserved.
            async with asyncio.timeout(BURST_TIMEOUT):
                replays = await asyncio.gather(*(place(http, i, "HOT") for i in accepted))
            assert all(r["ok"] is True and r["replayed"] is True for r in replays), replays
            assert (await salable(http, "HOT"))["salableQty"] == 0

            # Cancel 10 concurrently: exactly 10 come back; cancelling again gives nothing.
            cancelled = accepted[:10]
            async with asyncio.timeout(BURST_TIMEOUT):
                first = await asyncio.gather(*(cancel(http, i) for i in cancelled))
            assert all(r["ok"] is True and r["status"] == "cancelled" for r in first), first
            assert await salable(http, "HOT") == {
                "sku": "HOT", "salableQty": 10, "isSalable": True, "stockStatus": "IN_STOCK"}
            async with asyncio.timeout(BURST_TIMEOUT):
                again = await asyncio.gather(*(cancel(http, i) for i in cancelled))
            assert all(r["status"] == "cancelled" and r["error"] is None for r in again), again
            assert (await salable(http, "HOT"))["salableQty"] == 10

            view = (await gql(http, ORDER, id=cancelled[0]))["order"]
            assert view["status"] == "cancelled"
            assert view["skus"] == [{"sku": "HOT", "ordered": 1, "cancelled": 1, "open": 0}]
            assert view["reservations"] == [
                {"sku": "HOT", "stockId": STOCK_ID, "quantity": -1, "eventType": "order_placed"},
                {"sku": "HOT", "stockId": STOCK_ID, "quantity": 1,
                 "eventType": "order_canceled"}]
            # A replay of a cancelled order stays a replay: it does not reserve again.
            replay = await place(http, cancelled[0], "HOT")
            assert replay["ok"] is True and replay["replayed"] is True
            assert (await salable(http, "HOT"))["salableQty"] == 10


async def test_last_unit_has_exactly_one_winner(tmp_path: Path) -> None:
    contenders = range(2, 21)
    db = import_catalog(tmp_path, catalog({f"LAST-{n}": 1 for n in contenders}))
    with running_server(db, workers=4) as server:
        async with client(server.base) as http:
            for n in contenders:
                sku = f"LAST-{n}"
                async with asyncio.timeout(BURST_TIMEOUT):
                    results = await asyncio.gather(
                        *(place(http, f"{sku}-buyer-{k}", sku) for k in range(n)))
                winners = [r for r in results if r["ok"]]
                assert len(winners) == 1, (n, results)
                for result in results:
                    if not result["ok"]:
                        assert_insufficient(result)
                assert (await salable(http, sku))["salableQty"] == 0
