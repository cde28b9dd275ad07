"""Crash safety: SIGKILL a 2-worker server in the middle of an order burst, restart it.

An order acknowledged with ok=true was committed before the answer left the server, so it
must survive the crash; an order that was not acknowledged may or may not exist, but never in
part. Reservation totals are maintained in the same transaction as the reservations, so after
recovery they still equal the exact sum of the history.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.concurrency.conftest import (
    CHANNEL,
    ORDER,
    PLACE,
    STOCK_ID,
    catalog,
    client,
    gql,
    order_lines,
    running_server,
    salable,
    wanted,
)
from tests.servers import import_catalog

STOCK = 10_000
SKUS = ("A", "B", "C")
BURST = 1500  # enough that the server is still busy when the kill lands
KILL_AFTER = 50  # acknowledged orders before the SIGKILL
CONNECTIONS = 300  # requests in flight at once; the rest of the burst waits its turn
TIMEOUT = 45.0
GRACE = 5.0  # seconds the requests still in flight get to fail once the server is dead


async def burst_then_kill(base: str, kill: Any, requests: dict[str, list[dict[str, Any]]],
                          ) -> tuple[set[str], int]:
    """Fire every order at once; SIGKILL the server once KILL_AFTER are acknowledged.

    Returns the ids acknowledged with ok=true (every answer that arrived, before or while
    the kill landed) and how many requests failed at the transport level.
    """
    acked: set[str] = set()
    finished = 0
    enough = asyncio.Event()

    # At most CONNECTIONS requests in flight: httpx's pool slows to a crawl with thousands
    # of queued requests, so the rest of the burst waits here, unsent, instead.
    in_flight = asyncio.Semaphore(CONNECTIONS)

    async def one(http: httpx.AsyncClient, order_id: str) -> None:
        try:
            async with in_flight:
                await place(http, order_id)
        finally:
            nonlocal finished
            finished += 1
            if finished == len(requests):  # a failure must not leave us waiting for acks
                enough.set()

    async def place(http: httpx.AsyncClient, order_id: str) -> None:
        response = await http.post("/graphql", json={"query": PLACE, "variables": {
            "id": order_id, "channel": CHANNEL, "lines": requests[order_id]}})
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        result = body["data"]["placeOrder"]
        assert result["ok"] is True, result  # plenty of stock: nothing may be refused
        acked.add(order_id)
        if len(acked) >= KILL_AFTER:
            enough.set()

    async with client(base, connections=CONNECTIONS) as http:
        tasks = [asyncio.create_task(one(http, order_id)) for order_id in requests]
        try:
            async with asyncio.timeout(TIMEOUT):
                await enough.wait()
        finally:
            kill()
        # Requests in flight fail fast against the dead server; those still waiting for their
        # turn were never sent: they are cancelled after a grace period.
        done, queued = await asyncio.wait(tasks, timeout=GRACE)
        for task in queued:
            task.cancel()
        await asyncio.gather(*queued, return_exceptions=True)
    failures = [task.exception() for task in done if task.exception() is not None]
    for failure in failures:  # only the crash may break a request, and only at transport level
        assert isinstance(failure, httpx.TransportError), repr(failure)
    return acked, len(failures) + len(queued)


def read_db(db: Path) -> tuple[dict[str, dict[str, Any]], list[tuple[Any, ...]],
                               dict[tuple[str, int], Decimal], str]:
    """Orders, reservations, totals and integrity_check, read-only with the stdlib."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        orders = {row[0]: json.loads(row[1])
                  for row in conn.execute("SELECT order_id, document FROM orders")}
        reservations = conn.execute(
            "SELECT sku, stock_id, quantity, metadata FROM reservations ORDER BY id").fetchall()
        totals = {(sku, stock): Decimal(total) for sku, stock, total in conn.execute(
            "SELECT sku, stock_id, reserved FROM stock_facts") if Decimal(total) != 0}
    return orders, reservations, totals, integrity


async def test_sigkill_mid_burst_loses_no_acknowledged_order(tmp_path: Path) -> None:
    db = import_catalog(tmp_path, catalog(dict.fromkeys(SKUS, STOCK)))
    requests = {f"crash-{n:04d}": order_lines(n) for n in range(BURST)}

    with running_server(db, workers=2, log=tmp_path / "first.log") as server:
        acked, broken = await burst_then_kill(server.base, server.kill_all, requests)
        assert server.proc.returncode is not None  # really dead, workers included
    # The kill landed mid-burst (else this test proved nothing about crashes).
    assert len(acked) >= KILL_AFTER and broken > 0, (len(acked), broken)

    with running_server(db, workers=2, log=tmp_path / "second.log") as server:
        async with client(server.base, connections=CONNECTIONS) as http:
            in_flight = asyncio.Semaphore(CONNECTIONS)

            async def view(order_id: str) -> dict[str, Any]:
                async with in_flight:
                    return await gql(http, ORDER, id=order_id)

            async with asyncio.timeout(TIMEOUT):
                views = await asyncio.gather(*(view(i) for i in requests))
            stored = {i: v["order"] for i, v in zip(requests, views, strict=True)
                      if v["order"] is not None}

            # Every acknowledged order survived; nothing unknown appeared.
            assert acked <= stored.keys(), sorted(acked - stored.keys())
            for order_id, view in stored.items():
                expected = wanted(requests[order_id])
                assert view["status"] == "placed" and view["stockId"] == STOCK_ID
                assert {s["sku"]: Decimal(str(s["ordered"])) for s in view["skus"]} == expected
                # Whole or nothing: one −qty order_placed reservation per SKU of the order.
                got = sorted((r["sku"], Decimal(str(r["quantity"])), r["eventType"],
                              r["stockId"]) for r in view["reservations"])
                assert got == sorted((sku, -qty, "order_placed", STOCK_ID)
                                     for sku, qty in expected.items()), (order_id, got)

            # Salable = stock − what the stored orders reserved, per SKU.
            reserved: dict[str, Decimal] = defaultdict(Decimal)
            for order_id in stored:
                for sku, qty in wanted(requests[order_id]).items():
                    reserved[sku] += qty
            for sku in SKUS:
                entry = await salable(http, sku)
                assert Decimal(str(entry["salableQty"])) == STOCK - reserved[sku], sku

            # The restarted server takes orders again.
            after = (await gql(http, PLACE, id="after-crash", channel=CHANNEL,
                               lines=[{"sku": "A", "quantity": 1}]))["placeOrder"]
            assert after["ok"] is True and after["replayed"] is False
            stored_ids = set(stored) | {"after-crash"}
            reserved["A"] += 1

        # The file itself, read with the stdlib while the server still holds it (WAL).
        orders, reservations, totals, integrity = read_db(db)
    assert integrity == "ok"
    assert orders.keys() == stored_ids
    sums: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    by_order: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for sku, stock_id, quantity, metadata in reservations:
        assert isinstance(quantity, str)
        sums[sku, stock_id] += Decimal(quantity)
        meta = json.loads(metadata)
        assert meta["event_type"] == "order_placed"
        by_order[meta["order_id"]].append((sku, Decimal(quantity)))
    # No reservation without its order, no order without all its reservations.
    assert by_order.keys() == stored_ids
    for order_id, rows in by_order.items():
        lines = requests.get(order_id, [{"sku": "A", "quantity": 1}])
        assert sorted(rows) == sorted((sku, -qty) for sku, qty in wanted(lines).items())
    # Totals are exactly the Decimal sums of the history.
    assert totals == dict(sums)
    assert totals == {(sku, STOCK_ID): -reserved[sku] for sku in SKUS if reserved[sku]}
