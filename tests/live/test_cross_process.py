"""The acceptance path: subscribe on one ``gateway serve`` process, change the stock through
another process on the same database, receive the event within 2 s — on a SQLite file and on
PostgreSQL (two replicas of one database).

Nothing is faked: the change travels through the store's change log, which the subscriber's
process polls (on PostgreSQL woken early by NOTIFY). Each kind of write is made by a process
that has no subscriber at all.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live.client import LiveClient
from tests.postgres_support import start_server
from tests.servers import GATEWAY, ROOT, Server, import_into, running_server
from tests.support import SHOP

TOKEN = "test-token"  # what running_server configures
WATCH = ("subscription($skus: [String!]!) { availabilityChanged(channel: \"eu_website\", "
         "skus: $skus) { sku salableQty isSalable } }")
DEADLINE = 2.0  # seconds from the write's answer to the event


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def servers(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server, str]]:
    directory = tmp_path_factory.mktemp("live")
    postgres = start_server() if request.param == "postgresql" else None
    db = postgres.create_database() if postgres else str(directory / "gateway.sqlite3")
    import_into(directory, SHOP, db)
    try:
        with running_server(db, log=directory / "subscriber.log") as subscriber_side, \
                running_server(db, log=directory / "writer.log") as writer_side:
            yield subscriber_side, writer_side, db
    finally:
        if postgres:
            postgres.drop_database(db)


async def back_office(server: Server, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(f"{server.base}/graphql",
                                   headers={"Authorization": f"Bearer {TOKEN}"},
                                   json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


def ws_url(server: Server) -> str:
    return server.base.replace("http://", "ws://") + "/graphql"


async def expect(client: LiveClient, sku: str, salable_qty: float, since: float) -> None:
    message = await client.receive(DEADLINE + 3)
    elapsed = time.monotonic() - since
    assert message["type"] == "next", message
    assert message["payload"]["data"]["availabilityChanged"]["sku"] == sku
    assert message["payload"]["data"]["availabilityChanged"]["salableQty"] == salable_qty
    assert elapsed < DEADLINE, f"the event took {elapsed:.2f} s"


async def test_a_change_made_by_another_process_reaches_the_subscriber(
        servers: tuple[Server, Server, str], tmp_path: Path) -> None:
    subscriber_side, writer_side, db = servers
    async with LiveClient.connect(ws_url(subscriber_side)) as client:
        await client.subscribe("page", WATCH, {"skus": ["SHIRT", "FABRIC"]})
        snapshot = {m["payload"]["data"]["availabilityChanged"]["sku"]:
                    m["payload"]["data"]["availabilityChanged"]["salableQty"]
                    for m in await client.events(2)}
        assert snapshot == {"SHIRT": 7.0, "FABRIC": 120.5}

        # An order, placed through the other server process.
        started = time.monotonic()
        await back_office(writer_side, "mutation { placeOrder(orderId: \"x-1\", channel: "
                          "\"eu_website\", lines: [{sku: \"SHIRT\", quantity: 2}]) { ok } }", {})
        await expect(client, "SHIRT", 5.0, started)

        # Its cancellation.
        started = time.monotonic()
        await back_office(writer_side, "mutation { cancelOrder(orderId: \"x-1\") { ok } }", {})
        await expect(client, "SHIRT", 7.0, started)

        # An admin write.
        started = time.monotonic()
        await back_office(writer_side, "mutation($i: [SourceItemInput!]!) { setSourceItems("
                          "items: $i) { ok } }", {"i": [{"sku": "FABRIC", "source": "eu-1",
                                                         "quantity": 100, "status": "IN_STOCK"}]})
        await expect(client, "FABRIC", 100.0, started)

        # An import by the command line, a third process.
        catalog = tmp_path / "restock.json"
        catalog.write_text(json.dumps({"format": "availability-catalog/1", "source_items": [
            {"sku": "SHIRT", "source": "eu-1", "quantity": 10.5, "status": "in_stock"}]}))
        started = time.monotonic()
        importer = await asyncio.create_subprocess_exec(
            *GATEWAY, "import", str(catalog), "--db", db, "--quiet", cwd=ROOT)
        assert await asyncio.wait_for(importer.wait(), 60) == 0
        await expect(client, "SHIRT", 12.0, started)

        await client.silent(0.5)  # one event per change, nothing more
