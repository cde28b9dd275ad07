"""Helpers for the concurrency tests: real `gateway serve` processes on a real SQLite file.

Servers are started in their own session (process group) so that a test can stop them
cleanly (SIGINT to the uvicorn master) or crash them with their worker children
(SIGKILL to the whole group). Logs go to a file under ``tmp_path``, never to a pipe.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests import servers
from tests.servers import Server

TOKEN = "concurrency-token"
CHANNEL = "web"
STOCK_ID = 1

PLACE = """mutation($id: String!, $channel: String!, $lines: [CartLineInput!]!) {
  placeOrder(orderId: $id, channel: $channel, lines: $lines) {
    ok orderId status replayed error { code message }
    lines { sku quantity ok errors { code } } } }"""
CANCEL = """mutation($id: String!) { cancelOrder(orderId: $id) {
  ok orderId status error { code message } } }"""
ORDER = """query($id: String!) { order(orderId: $id) { orderId status stockId
  skus { sku ordered cancelled open } reservations { sku stockId quantity eventType } } }"""
AVAILABILITY = """query($channel: String!, $skus: [String!]!) {
  availability(channel: $channel, skus: $skus) { sku salableQty isSalable stockStatus } }"""


def catalog(quantities: dict[str, float]) -> dict[str, Any]:
    """One source in one stock (id 1, channel "web"), one in-stock item per SKU."""
    return {
        "format": "availability-catalog/1",
        "sources": [{"code": "src", "name": "Warehouse", "enabled": True}],
        "stocks": [{"id": STOCK_ID, "name": "Web stock", "channels": [CHANNEL],
                    "sources": [{"code": "src", "priority": 1}]}],
        "products": [{"sku": sku, "name": sku} for sku in quantities],
        "source_items": [{"sku": sku, "source": "src", "quantity": qty, "status": "in_stock"}
                         for sku, qty in quantities.items()],
    }


@contextlib.contextmanager
def running_server(db: Path, workers: int, token: str = TOKEN, *, log: Path | None = None,
                   env: dict[str, str] | None = None) -> Iterator[Server]:
    """:func:`tests.servers.running_server` with this package's token."""
    with servers.running_server(db, workers, token, log=log, env=env) as server:
        yield server


#: Seconds a test client keeps an idle connection (see :func:`client`).
KEEPALIVE = 2.0


def client(base: str, token: str | None = TOKEN, connections: int = 300) -> httpx.AsyncClient:
    """An async client sized for a burst: no pool wait, generous per-request timeouts.

    It drops an idle connection after KEEPALIVE seconds, well before the server's keep-alive
    timeout (5 s): a client that reuses a connection the server is closing at that moment
    sees it reset."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        base_url=base, headers=headers, timeout=httpx.Timeout(30.0),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections,
                            keepalive_expiry=KEEPALIVE))


async def gql(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """POST one operation; assert HTTP 200 and no GraphQL error; return ``data``."""
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def salable(http: httpx.AsyncClient, sku: str) -> dict[str, Any]:
    data = await gql(http, AVAILABILITY, channel=CHANNEL, skus=[sku])
    (entry,) = data["availability"]
    assert entry is not None
    result: dict[str, Any] = entry
    return result


def order_lines(n: int) -> list[dict[str, Any]]:
    """The lines of the n-th order of a burst: mostly one unit of A; every 4th order has 2
    lines, every 7th 3, not in SKU order (so writers must sort what they lock)."""
    if n % 7 == 0:
        return [{"sku": "C", "quantity": 3}, {"sku": "A", "quantity": 1},
                {"sku": "B", "quantity": 2}]
    if n % 4 == 0:
        return [{"sku": "B", "quantity": 1}, {"sku": "C", "quantity": 2}]
    return [{"sku": "A", "quantity": 1}]


def wanted(lines: list[dict[str, Any]]) -> dict[str, Decimal]:
    """The quantity per SKU of an order's lines."""
    per_sku: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        per_sku[line["sku"]] += Decimal(str(line["quantity"]))
    return dict(per_sku)
