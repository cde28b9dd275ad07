"""``availabilityChanged`` over graphql-transport-ws, against a real uvicorn server.

The server runs in the test's event loop with its hub on a fake change feed: each test says
which SKUs changed after making the change through the API, so these tests are about the
subscription itself (snapshot, events, selection, caps, refusals). Changes made by other
processes through the store's own change log are tested in ``test_cross_process.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from tests.live.client import LiveClient
from tests.live.fakes import FakeFeed
from tests.live.inprocess import Served, hub_on, serving

WATCH = ("subscription($skus: [String!]!, $channel: String!, $group: String) { "
         "availabilityChanged(channel: $channel, skus: $skus, customerGroup: $group) { "
         "sku salableQty isSalable onlyXLeft quantityRule { minimum } } }")
ONLY_SALABLE = ("subscription($skus: [String!]!) { availabilityChanged(channel: \"eu_website\", "
                "skus: $skus) { sku isSalable } }")
PLACE = ("mutation($id: String!, $sku: String!, $qty: Float!) { placeOrder(orderId: $id, "
         "channel: \"eu_website\", lines: [{sku: $sku, quantity: $qty}]) { ok } }")


def watching(*skus: str, channel: str = "eu_website",
             group: str | None = None) -> dict[str, Any]:
    return {"skus": list(skus), "channel": channel, "group": group}


def answer(message: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = message["payload"]["data"]["availabilityChanged"]
    return data


def error_codes(message: dict[str, Any]) -> list[str]:
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return [e["extensions"]["code"] for e in errors]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with serving(str(tmp_path / "gateway.sqlite3"), live_max_skus=5,
                       live_max_subscriptions=3, ws_allowed_origins=("https://shop.example",)
                       ) as running:
        yield running


@pytest.fixture
async def feed(served: Served) -> AsyncIterator[FakeFeed]:
    fake = FakeFeed()
    async with hub_on(served, fake):
        yield fake


async def place(served: Served, feed: FakeFeed, order_id: str, sku: str, qty: float) -> None:
    body = await served.gql(PLACE, {"id": order_id, "sku": sku, "qty": qty})
    assert body["data"]["placeOrder"]["ok"], body
    feed.changed(sku, stock=10)


async def test_first_the_current_answers_then_each_change(served: Served,
                                                          feed: FakeFeed) -> None:
    async with LiveClient.connect(served.ws) as client:
        await client.subscribe("page", WATCH, watching("SHIRT", "NOPE", "PACK"))
        snapshot = [answer(m) for m in await client.events(2)]
        assert snapshot == [
            {"sku": "SHIRT", "salableQty": 7.0, "isSalable": True, "onlyXLeft": None,
             "quantityRule": {"minimum": 1.0}},
            {"sku": "PACK", "salableQty": 60.0, "isSalable": True, "onlyXLeft": None,
             "quantityRule": {"minimum": 1.0}}]  # NOPE is unknown: nothing for it
        await client.silent(0.3)
        await place(served, feed, "live-1", "SHIRT", 3)
        [event] = await client.events(1)
        assert event["id"] == "page"
        assert answer(event) == {"sku": "SHIRT", "salableQty": 4.0, "isSalable": True,
                                 "onlyXLeft": 4.0, "quantityRule": {"minimum": 1.0}}
        feed.changed("SHIRT", "PACK")  # reported changed, but the answers are the same
        await client.silent(0.3)
        assert served.hub.stats().watches == 1
        await client.complete("page")
        await released(served)
    async with LiveClient.connect(served.ws) as client:  # a connection that just goes away
        await client.subscribe("page", WATCH, watching("SHIRT"))
        await client.events(1)
        assert served.hub.stats().watches == 1
    await released(served)


async def released(served: Served) -> None:
    """The hub lets go of a finished subscription's watch."""
    async with asyncio.timeout(5):
        while served.hub.stats().watches:  # noqa: ASYNC110 (polling a counter)
            await asyncio.sleep(0.01)


async def test_only_changes_the_selection_can_see_are_sent(served: Served,
                                                           feed: FakeFeed) -> None:
    async with LiveClient.connect(served.ws) as client:
        await client.subscribe("qty", WATCH, watching("SHIRT"))
        await client.subscribe("badge", ONLY_SALABLE, {"skus": ["SHIRT"]})
        first = {m["id"]: answer(m) for m in await client.events(2)}
        assert first["badge"] == {"sku": "SHIRT", "isSalable": True}
        await place(served, feed, "live-2", "SHIRT", 2)  # 7 -> 5: still salable
        [event] = await client.events(1)
        assert event["id"] == "qty" and answer(event)["salableQty"] == 5
        await client.silent(0.3)  # nothing for the badge
        await place(served, feed, "live-3", "SHIRT", 5)  # 5 -> 0: sold out
        events = {m["id"]: answer(m) for m in await client.events(2)}
        assert events["badge"] == {"sku": "SHIRT", "isSalable": False}
        assert events["qty"]["salableQty"] == 0


async def test_customer_group_answers(served: Served, feed: FakeFeed) -> None:
    async with LiveClient.connect(served.ws) as client:
        await client.subscribe("w", WATCH, watching("SHIRT", group="wholesale"))
        [event] = await client.events(1)
        assert answer(event)["quantityRule"] == {"minimum": 10.0}


async def test_too_many_skus_is_refused_with_a_code(served: Served, feed: FakeFeed) -> None:
    async with LiveClient.connect(served.ws) as client:
        await client.subscribe("big", WATCH, watching(*(f"SKU-{n}" for n in range(6))))
        refusal = await client.receive()
        assert refusal["id"] == "big" and error_codes(refusal) == ["LIMIT_EXCEEDED"]
        assert (await client.receive())["type"] == "complete"
        await client.subscribe("ok", WATCH, watching("SHIRT", "PACK", "FABRIC", "EBOOK", "X"))
        assert len(await client.events(4)) == 4  # the connection still serves


async def test_bad_skus_are_refused_with_a_code(served: Served, feed: FakeFeed) -> None:
    async with LiveClient.connect(served.ws) as client:
        await client.subscribe("empty", WATCH, watching("SHIRT", ""))
        assert error_codes(await client.receive()) == ["BAD_USER_INPUT"]


async def test_too_many_subscriptions_on_one_connection(served: Served,
                                                        feed: FakeFeed) -> None:
    async with LiveClient.connect(served.ws) as client:
        for n in range(3):
            await client.subscribe(f"s{n}", WATCH, watching("SHIRT"))
            await client.events(1)
        await client.subscribe("one-more", WATCH, watching("PACK"))
        refusal = await client.receive()
        assert refusal == {"id": "one-more", "type": "error", "payload": [
            {"message": refusal["payload"][0]["message"],
             "extensions": {"code": "LIMIT_EXCEEDED", "limit": 3}}]}
        await client.complete("s0")
        await client.subscribe("one-more", WATCH, watching("PACK"))
        [event] = await client.events(1)
        assert event["id"] == "one-more" and answer(event)["sku"] == "PACK"
    async with LiveClient.connect(served.ws) as other:  # the cap is per connection
        await other.subscribe("s", WATCH, watching("SHIRT"))
        assert len(await other.events(1)) == 1


async def test_an_unknown_channel_is_refused_with_a_code(served: Served,
                                                         feed: FakeFeed) -> None:
    async with LiveClient.connect(served.ws) as client:
        await client.subscribe("mars", WATCH, watching("SHIRT", channel="mars"))
        assert error_codes(await client.receive()) == ["CHANNEL_NOT_FOUND"]
        assert (await client.receive())["type"] == "complete"
        assert served.hub.stats().watches == 0  # and it let go of its watch


@pytest.mark.parametrize("operation", [
    '{ availability(channel: "eu_website", skus: ["SHIRT"]) { sku } }',
    'mutation { placeOrder(orderId: "over-ws", channel: "eu_website", '
    'lines: [{sku: "SHIRT", quantity: 1}]) { ok } }'], ids=["query", "mutation"])
async def test_queries_and_mutations_go_over_http(served: Served, feed: FakeFeed,
                                                  operation: str) -> None:
    headers = {"Authorization": "Bearer test-admin-token"}
    async with LiveClient.connect(served.ws, headers=headers) as client:
        await client.subscribe("op", operation)
        refusal = await client.receive()
        assert refusal["type"] == "error" and error_codes(refusal) == ["BAD_USER_INPUT"]
    body = await served.gql('{ order(orderId: "over-ws") { orderId } }')
    assert body["data"]["order"] is None  # nothing was placed


async def test_every_other_subscription_needs_the_token(served: Served, feed: FakeFeed) -> None:
    """Derived from the schema, like the back-office test of queries and mutations: a
    subscription field added later is covered without editing this test."""
    from tests.security.test_auth import SCHEMA, minimal_call

    subscription = SCHEMA.subscription_type
    assert subscription is not None and "availabilityChanged" in subscription.fields
    async with LiveClient.connect(served.ws) as client:
        for name, field in subscription.fields.items():
            if name == "availabilityChanged":
                continue
            call = minimal_call("Subscription", name, field)
            await client.subscribe(name, call.query.replace("query", "subscription", 1),
                                   call.variables)
            assert "UNAUTHENTICATED" in error_codes(await client.receive()), name


@pytest.mark.parametrize("origin", ["https://evil.example", "https://shop.example.evil",
                                    "http://shop.example", "null"])
async def test_a_foreign_origin_is_refused_at_the_handshake(served: Served,
                                                            origin: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with LiveClient.connect(served.ws, origin=origin):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("origin", ["https://shop.example", "same", None],
                         ids=["allowed", "same-origin", "no-origin (not a browser)"])
async def test_allowed_origins_connect(served: Served, feed: FakeFeed,
                                       origin: str | None) -> None:
    if origin == "same":
        origin = served.http
    async with LiveClient.connect(served.ws, origin=origin) as client:
        await client.subscribe("s", WATCH, watching("SHIRT"))
        assert len(await client.events(1)) == 1


async def test_the_legacy_graphql_ws_protocol_is_not_spoken(served: Served) -> None:
    async with connect(served.ws, subprotocols=[Subprotocol("graphql-ws")], proxy=None) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


HOSTILE_PAYLOADS: list[Any] = [
    None, 5, "subscription { x }", [], {}, {"query": 123}, {"query": None},
    {"query": WATCH, "variables": "x"}, {"query": WATCH, "variables": [1]},
    {"query": WATCH, "variables": {"skus": 5, "channel": "eu_website"}},
    {"query": WATCH, "variables": watching("SHIRT"), "operationName": 7},
    {"query": WATCH, "variables": watching("SHIRT"), "operationName": "Nope"},
    {"query": WATCH, "variables": watching("SHIRT"), "extensions": "x"},
    {"query": "query Q { __typename } " + WATCH.replace("subscription(", "subscription S(")},
    {"query": "subscription { availabilityChanged(channel: 1, skus: []) { sku } }"},
    {"query": "subscription { nope }"},
]


@pytest.mark.parametrize("payload", HOSTILE_PAYLOADS, ids=repr)
async def test_a_malformed_subscribe_is_refused_with_a_code(
        served: Served, feed: FakeFeed, payload: Any, caplog: pytest.LogCaptureFixture) -> None:
    async with LiveClient.connect(served.ws) as client:
        await client.send({"id": "bad", "type": "subscribe", "payload": payload})
        refusal = await client.receive()
        assert refusal["id"] == "bad" and refusal["type"] == "error", refusal
        for error in refusal["payload"]:  # every one with a code, as over HTTP
            code = (error.get("extensions") or {}).get("code")
            assert isinstance(code, str) and code and code != "INTERNAL_ERROR", refusal
        await client.subscribe("ok", WATCH, watching("SHIRT"))  # the connection still serves
        assert len(await client.events(1)) == 1
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.records


EXPLAINED = ("subscription { availabilityChanged(channel: \"eu_website\", skus: [\"PACK\"]) { "
             "sku salableQty explain { name value level } } }")


async def test_explain_in_a_subscription_carries_every_settings_origin(
        served: Served, feed: FakeFeed) -> None:
    """Storefront reads answer from precomputed facts, which hold no provenance: a watch that
    selects ``explain`` is answered through the engine instead."""
    async with LiveClient.connect(served.ws) as client:
        await client.subscribe("page", EXPLAINED, {})
        [first] = await client.events(1)
        assert "errors" not in first["payload"], first
        settings = {s["name"]: s for s in answer(first)["explain"]}
        assert settings["qty_increments"] == {"name": "qty_increments", "value": "6",
                                              "level": "PRODUCT"}
        await place(served, feed, "live-explain", "PACK", 6)
        [event] = await client.events(1)
        assert answer(event)["salableQty"] == 54.0 and len(answer(event)["explain"]) > 10
