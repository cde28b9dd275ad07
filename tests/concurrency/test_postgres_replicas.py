"""Several `gateway serve` replicas on one PostgreSQL database: real processes, real server.

- 200 buyers for 50 units spread over 3 replicas: exactly 50 sold (the guarded update of the
  (sku, stock) total refuses the rest, whichever replica they reached);
- a configuration change made through one replica is answered by every other within 2 s;
- SIGKILL of one replica in the middle of a burst: every acknowledged order is stored whole,
  and the reservations are exactly those of the stored orders.

The data is checked in PostgreSQL itself, with a connection of the test's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.concurrency.conftest import (
    CANCEL,
    CHANNEL,
    PLACE,
    STOCK_ID,
    TOKEN,
    catalog,
    client,
    gql,
    order_lines,
    salable,
    wanted,
)
from tests.postgres_support import PostgresServer, query
from tests.servers import Server, import_into, running_server

STOCK = 50
BUYERS = 200
REPLICAS = 3
TIMEOUT = 60.0


@contextlib.contextmanager
def replicas(url: str, tmp_path: Path, count: int = REPLICAS,
             workers: int = 1) -> Iterator[list[Server]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(running_server(url, workers, TOKEN,
                                                  log=tmp_path / f"replica-{n}.log"))
               for n in range(count)]


async def place(http: httpx.AsyncClient, order_id: str, lines: list[dict[str, Any]]
                ) -> dict[str, Any]:
    data = await gql(http, PLACE, id=order_id, channel=CHANNEL, lines=lines)
    result: dict[str, Any] = data["placeOrder"]
    return result


def reservations(url: str) -> list[tuple[Any, ...]]:
    return query(url, "SELECT order_id, sku, stock_id, quantity, metadata FROM reservations "
                      "ORDER BY id")


def totals(url: str) -> dict[tuple[str, int], Decimal]:
    return {(str(sku), int(str(stock))): Decimal(str(reserved)) for sku, stock, reserved in
            query(url, "SELECT sku, stock_id, reserved FROM stock_facts "
                       "WHERE reserved IS NOT NULL")}


async def test_200_buyers_for_50_units_across_3_replicas(postgres_server: PostgresServer,
                                                         tmp_path: Path) -> None:
    url = postgres_server.create_database(empty=True)  # `gateway import` creates the schema
    import_into(tmp_path, catalog({"HOT": STOCK}), url)
    with replicas(url, tmp_path) as servers:
        clients = [client(server.base) for server in servers]
        try:
            for http in clients:
                assert (await salable(http, "HOT"))["salableQty"] == STOCK
            ids = [f"hot-{n:04d}" for n in range(BUYERS)]
            async with asyncio.timeout(TIMEOUT):
                results = await asyncio.gather(*(
                    place(clients[n % REPLICAS], order_id, [{"sku": "HOT", "quantity": 1}])
                    for n, order_id in enumerate(ids)))
            accepted = [r["orderId"] for r in results if r["ok"]]
            assert len(accepted) == STOCK, [s.logs() for s in servers]
            for result in results:
                if not result["ok"]:
                    assert result["error"]["code"] == "LINES_REFUSED", result
                    assert [line["errors"] for line in result["lines"]] == [
                        [{"code": "INSUFFICIENT_STOCK"}]], result
            # Every replica agrees; the winners came through every replica.
            assert {n % REPLICAS for n, r in enumerate(results) if r["ok"]} == {0, 1, 2}
            for http in clients:
                assert await salable(http, "HOT") == {
                    "sku": "HOT", "salableQty": 0, "isSalable": False,
                    "stockStatus": "OUT_OF_STOCK"}

            # Replays through other replicas reserve nothing more.
            async with asyncio.timeout(TIMEOUT):
                replays = await asyncio.gather(*(
                    place(clients[(n + 1) % REPLICAS], order_id, [{"sku": "HOT", "quantity": 1}])
                    for n, order_id in enumerate(accepted)))
            assert all(r["ok"] and r["replayed"] for r in replays), replays

            # Cancel 10, each through another replica than it was placed on.
            async with asyncio.timeout(TIMEOUT):
                cancelled = await asyncio.gather(*(
                    gql(clients[n % REPLICAS], CANCEL, id=order_id)
                    for n, order_id in enumerate(accepted[:10])))
            assert all(c["cancelOrder"]["ok"] for c in cancelled), cancelled
            for http in clients:
                assert (await salable(http, "HOT"))["salableQty"] == 10
        finally:
            for http in clients:
                await http.aclose()

    # In PostgreSQL itself: 50 orders, their 50 placements and 10 cancellations, exact totals.
    assert {str(row[0]) for row in query(url, "SELECT order_id FROM orders")} == set(accepted)
    rows = reservations(url)
    assert sorted((str(r[0]), Decimal(str(r[3]))) for r in rows) == sorted(
        [(order_id, Decimal(-1)) for order_id in accepted]
        + [(order_id, Decimal(1)) for order_id in accepted[:10]])
    assert totals(url) == {("HOT", STOCK_ID): Decimal(-40)}


SET_PRODUCT = """mutation($sku: String!, $config: JSON!) {
  setProductConfig(sku: $sku, config: $config) { ok version errors { path message } } }"""
RULE = """query($channel: String!, $skus: [String!]!) {
  availability(channel: $channel, skus: $skus) { sku salableQty quantityRule { maximum } } }"""


async def test_a_config_change_is_seen_by_every_replica_within_2_seconds(
        postgres_url: str, tmp_path: Path) -> None:
    import_into(tmp_path, catalog({"HOT": STOCK}), postgres_url)
    with replicas(postgres_url, tmp_path) as servers:
        clients = [client(server.base) for server in servers]
        try:
            for http in clients:  # every replica has its topology and settings cached
                (entry,) = (await gql(http, RULE, channel=CHANNEL, skus=["HOT"]))["availability"]
                assert entry["quantityRule"]["maximum"] == 10000
            for maximum in (7, 8):
                changed = (await gql(clients[0], SET_PRODUCT, sku="HOT",
                                     config={"max_sale_qty": maximum}))["setProductConfig"]
                assert changed["ok"], changed
                written = time.monotonic()
                for http in clients[1:]:
                    while True:
                        (entry,) = (await gql(http, RULE, channel=CHANNEL,
                                              skus=["HOT"]))["availability"]
                        if entry["quantityRule"]["maximum"] == maximum:
                            break
                        assert time.monotonic() - written < 2.0, entry
                        await asyncio.sleep(0.05)
                assert time.monotonic() - written < 2.0
            versions = {(await http.get("/healthz")).json()["data_version"] for http in clients}
            assert versions == {changed["version"]}
        finally:
            for http in clients:
                await http.aclose()


KILL_AFTER = 60
BURST = 900
CONNECTIONS = 200
GRACE = 5.0


def check_stored(url: str, requests: dict[str, list[dict[str, Any]]], acked: set[str]) -> None:
    """Every acknowledged order is stored; every stored order is whole (its placement
    reservations, nothing else); totals are the exact sums of the reservation rows."""
    stored = {str(order_id): json.loads(str(document)) for order_id, document in
              query(url, "SELECT order_id, document FROM orders")}
    assert acked <= stored.keys(), sorted(acked - stored.keys())
    assert stored.keys() <= requests.keys()
    by_order: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    sums: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for order_id, sku, stock_id, quantity, metadata in reservations(url):
        assert json.loads(str(metadata)) == {"event_type": "order_placed",
                                             "order_id": order_id}
        by_order[str(order_id)].append((str(sku), Decimal(str(quantity))))
        sums[str(sku), int(str(stock_id))] += Decimal(str(quantity))
    assert by_order.keys() == stored.keys()
    for order_id, rows in by_order.items():
        assert sorted(rows) == sorted((sku, -qty) for sku, qty in
                                      wanted(requests[order_id]).items()), order_id
        assert {s["sku"]: Decimal(s["ordered"]) for s in stored[order_id]["skus"]} == \
            wanted(requests[order_id])
    assert totals(url) == dict(sums)


async def burst(servers: list[Server], requests: dict[str, list[dict[str, Any]]],
                disrupt: Any, after: int) -> tuple[set[str], list[dict[str, Any]], list[str]]:
    """Send every order, spread over the replicas; call ``disrupt()`` once ``after`` are
    acknowledged. Returns the acknowledged ids, the GraphQL errors answered, and the
    requests broken at the transport level (what broke each, or that it never finished)."""
    acked: set[str] = set()
    errors: list[dict[str, Any]] = []
    enough = asyncio.Event()
    in_flight = asyncio.Semaphore(CONNECTIONS)
    clients = [client(server.base, connections=CONNECTIONS) for server in servers]

    async def one(n: int, order_id: str) -> None:
        try:
            async with in_flight:
                response = await clients[n % len(clients)].post("/graphql", json={
                    "query": PLACE, "variables": {"id": order_id, "channel": CHANNEL,
                                                  "lines": requests[order_id]}})
            assert response.status_code == 200, response.text
            body = response.json()
            if body.get("errors"):
                errors.extend(body["errors"])
                return
            result = body["data"]["placeOrder"]
            assert result["ok"] is True, result  # plenty of stock: nothing may be refused
            acked.add(order_id)
            if len(acked) >= after:
                enough.set()
        finally:
            if n == len(requests) - 1:
                enough.set()

    try:
        tasks = [asyncio.create_task(one(n, order_id))
                 for n, order_id in enumerate(requests)]
        try:
            async with asyncio.timeout(TIMEOUT):
                await enough.wait()
        finally:
            # In a thread: stopping PostgreSQL waits for its shutdown checkpoint, and a test
            # loop blocked meanwhile would leave answers unread while the servers count their
            # connections idle (and close them as the client reuses them).
            await asyncio.to_thread(disrupt)
        done, pending = await asyncio.wait(tasks, timeout=TIMEOUT)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    finally:
        for http in clients:
            await http.aclose()
    broken = [task.exception() for task in done if task.exception() is not None]
    for failure in broken:
        assert isinstance(failure, httpx.TransportError), repr(failure)
    return acked, errors, ([repr(failure) for failure in broken]
                           + ["unfinished after the timeout"] * len(pending))


async def test_sigkill_of_one_replica_mid_burst_loses_no_acknowledged_order(
        postgres_url: str, tmp_path: Path) -> None:
    import_into(tmp_path, catalog(dict.fromkeys("ABC", 100_000)), postgres_url)
    requests = {f"kill-{n:04d}": order_lines(n) for n in range(BURST)}
    with replicas(postgres_url, tmp_path) as servers:
        victim = servers[1]
        acked, errors, broken = await burst(servers, requests, victim.kill_all, KILL_AFTER)
        assert victim.proc.returncode is not None  # really dead
        assert errors == []
        assert len(acked) >= KILL_AFTER and broken, (len(acked), broken)
        # The survivors took their share of the burst to the end.
        survivors = {n % REPLICAS for n, order_id in enumerate(requests) if order_id in acked}
        assert {0, 2} <= survivors
        check_stored(postgres_url, requests, acked)
        # The survivors still sell, and agree with the database.
        async with client(servers[0].base) as http:
            after = await place(http, "after-kill", [{"sku": "A", "quantity": 1}])
            assert after["ok"] is True
            reserved = -totals(postgres_url)["A", STOCK_ID]
            assert Decimal(str((await salable(http, "A"))["salableQty"])) == 100_000 - reserved
