"""Stock events: the crossings a write causes, recorded with it, read by back offices.

An order that takes the last units makes the SKU go out of stock; its cancellation brings it
back; an order that leaves less than the notify quantity is a low-stock crossing. A shipment of
an order changes both the reservation and the shelf in one transaction: the answer before and
after it are the same, so it records nothing (never an intermediate state).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.domain.cart import RequestedLine
from gateway.domain.stock_events import StockEventKind as Kind
from gateway.services import Services, build_services
from gateway.store.postgres import PostgresStore
from gateway.store.protocol import Store
from gateway.store.sqlite import SqliteStore
from tests.live.client import LiveClient
from tests.live.inprocess import TOKEN, Served, serving
from tests.postgres_support import start_server
from tests.support import SHOP

EVENTS = ("subscription($skus: [String!], $after: Int) { stockEvents(channel: \"eu_website\", "
          "skus: $skus, after: $after) { sequence kind sku channel stockId salableQty } }")
PLACE = ("mutation($id: String!, $sku: String!, $qty: Float!) { placeOrder(orderId: $id, "
         "channel: \"eu_website\", lines: [{sku: $sku, quantity: $qty}]) { ok } }")
CANCEL = "mutation($id: String!) { cancelOrder(orderId: $id) { ok } }"


@pytest.fixture(params=["sqlite", "postgresql"])
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    server = start_server() if request.param == "postgresql" else None
    database = server.create_database() if server else str(tmp_path / "gateway.sqlite3")
    store: Store = PostgresStore(database, pool_size=2) if server else SqliteStore(database)
    await store.open()
    try:
        built = build_services(store)
        assert await built.catalog.import_document(SHOP, replace=True) == []
        yield built
    finally:
        await store.close()
        if server:
            server.drop_database(database)


async def recorded(services: Services, after: int) -> list[tuple[str, int, Kind, Any]]:
    return [(e.sku, e.stock_id, e.kind, e.salable_qty)
            for e in await services.store.stock_events_since(after)]


async def test_crossings_are_recorded_by_the_write_that_causes_them(services: Services) -> None:
    start = await services.store.stock_event_sequence()
    orders = services.orders
    # PACK: 60 on hand in stock 10, notify below 1 (global default): taking 54 leaves 6.
    assert (await orders.place_order("a", "eu_website", [RequestedLine("PACK", 54)])).ok
    assert await recorded(services, start) == []  # still salable, not low
    assert (await orders.place_order("b", "eu_website", [RequestedLine("PACK", 6)])).ok
    assert await recorded(services, start) == [("PACK", 10, Kind.OUT_OF_STOCK, Decimal(0))]
    mark = await services.store.stock_event_sequence()
    assert (await orders.cancel_order("b")).ok
    assert await recorded(services, mark) == [("PACK", 10, Kind.BACK_IN_STOCK, Decimal(6))]
    # SHIRT: salable 7 in stock 10; with a notify quantity of 3, an order of 5 leaves 2 < 3:
    # a low-stock crossing (still salable). The order that refuses is no write: no event.
    assert (await services.admin.set_product_config("SHIRT", {"notify_stock_qty": 3})).problems \
        == []
    mark = await services.store.stock_event_sequence()
    assert (await orders.place_order("c", "eu_website",
                                     [RequestedLine("SHIRT", "4.5")])).ok is False  # no decimals
    assert await recorded(services, mark) == []
    assert (await orders.place_order("c", "eu_website", [RequestedLine("SHIRT", 5)])).ok
    assert await recorded(services, mark) == [("SHIRT", 10, Kind.LOW_STOCK, Decimal(2))]


async def test_a_shipment_of_reserved_units_records_nothing(services: Services) -> None:
    orders = services.orders
    assert (await orders.place_order("all", "eu_website", [RequestedLine("PACK", 60)])).ok
    mark = await services.store.stock_event_sequence()
    assert (await orders.ship_order("all")).ok  # reserved 60 → 0, shelf 60 → 0: same answer
    assert await recorded(services, mark) == []


async def test_admin_writes_record_crossings_too(services: Services) -> None:
    mark = await services.store.stock_event_sequence()
    outcome = await services.admin.set_source_items([
        {"sku": "PACK", "source": "eu-1", "quantity": 0, "status": "out_of_stock"}])
    assert outcome.problems == []
    assert await recorded(services, mark) == [("PACK", 10, Kind.OUT_OF_STOCK, Decimal(0))]
    mark = await services.store.stock_event_sequence()
    # A configuration write touches every SKU: without stock management every assigned SKU
    # is salable (docs/rules.md §5), GONE (all items out of stock) included.
    assert (await services.admin.set_global_config({"manage_stock": False})).problems == []
    kinds = {(sku, kind) for sku, _, kind, _ in await recorded(services, mark)}
    assert ("PACK", Kind.BACK_IN_STOCK) in kinds and ("GONE", Kind.BACK_IN_STOCK) in kinds


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with serving(str(tmp_path / "gateway.sqlite3"), live_poll_interval=0.02) as running:
        yield running


async def test_a_back_office_subscription_receives_them(served: Served) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with LiveClient.connect(served.ws, headers=headers) as client:
        await client.subscribe("stock", EVENTS, {"skus": ["PACK"]})
        await client.silent(0.2)
        assert (await served.gql(PLACE, {"id": "x", "sku": "PACK", "qty": 60}))["data"]
        [event] = await client.events(1)
        first = event["payload"]["data"]["stockEvents"]
        assert {k: v for k, v in first.items() if k != "sequence"} == {
            "kind": "OUT_OF_STOCK", "sku": "PACK", "channel": "eu_website", "stockId": 10,
            "salableQty": 0.0}
        assert (await served.gql(CANCEL, {"id": "x"}))["data"]["cancelOrder"]["ok"]
        [event] = await client.events(1)
        assert event["payload"]["data"]["stockEvents"]["kind"] == "BACK_IN_STOCK"
    # Resuming after the first event replays what came next.
    async with LiveClient.connect(served.ws, headers=headers) as client:
        await client.subscribe("again", EVENTS, {"skus": ["PACK"], "after": first["sequence"]})
        [event] = await client.events(1)
        assert event["payload"]["data"]["stockEvents"]["kind"] == "BACK_IN_STOCK"


async def test_stock_events_need_the_token(served: Served) -> None:
    async with LiveClient.connect(served.ws) as client:
        await client.subscribe("stock", EVENTS, {})
        message = await client.receive()
        errors = message["payload"] if message["type"] == "error" else \
            message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"]
