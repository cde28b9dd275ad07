"""No lost admin writes: concurrent back-office writes against two real server processes on one
SQLite file (plus the concurrency inside each process).

Every admin write reads what it merges with, validates and writes inside ONE write
transaction, so concurrent writes compose (every option ends up set) or one is refused with a
clear code (NOT_FOUND, VERSION_CONFLICT); never "Unexpected error.", never a resurrected
product, never a data-version bump for a refused write. Each test runs many rounds so that the
races really happen, and asserts the final state of every round.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from tests.concurrency.conftest import TOKEN, client
from tests.servers import import_catalog, running_server

ROUNDS = 20
ROUND_TIMEOUT = 30.0

RESULT = "ok errors { path message code }"
SET_PRODUCT = f"""mutation($sku: String!, $config: JSON!) {{
  setProductConfig(sku: $sku, config: $config) {{ {RESULT} }} }}"""
SET_GLOBAL = f"""mutation($config: JSON!) {{ setGlobalConfig(config: $config) {{ {RESULT} }} }}"""
SET_STOCK = f"""mutation($id: Int!, $config: JSON!) {{
  setStockConfig(stockId: $id, config: $config) {{ {RESULT} }} }}"""
UPSERT_STOCK = f"""mutation($stock: StockInput!) {{ upsertStock(stock: $stock) {{ {RESULT} }} }}"""
UPSERT_PRODUCT = f"""mutation($sku: String!) {{
  upsertProduct(product: {{sku: $sku, name: $sku}}) {{ {RESULT} }} }}"""
DELETE = f"""mutation($sku: String!) {{ deleteProduct(sku: $sku) {{ {RESULT} }} }}"""
SET_ITEMS = f"""mutation($items: [SourceItemInput!]!) {{
  setSourceItems(items: $items) {{ {RESULT} }} }}"""
IMPORT = """mutation($d: JSON!) { importCatalog(document: $d, replace: true) {
  ok errors { path message code } } }"""
PRODUCT = """query($sku: String!) { product(sku: $sku) { sku settings { name value }
  sourceItems { sourceCode quantity } } }"""
GLOBAL = "{ inventoryConfig { settings { name value } } }"
STOCKS = "{ stocks { id channels sources { sourceCode priority } settings { name value } } }"
VERSIONED = """mutation($sku: String!, $config: JSON!, $v: Int) {
  setProductConfig(sku: $sku, config: $config, expectedVersion: $v) {
    ok version errors { path message code } } }"""

CATALOG: dict[str, Any] = {
    "format": "availability-catalog/1",
    "sources": [{"code": "src", "name": "Main"}, {"code": "src2", "name": "Second"},
                {"code": "src3", "name": "Third"}],
    "stocks": [{"id": 1, "name": "Web", "channels": ["web"],
                "sources": [{"code": "src", "priority": 1}]}],
    "products": [{"sku": "P", "name": "P"}, {"sku": "Q", "name": "Q"}],
    "source_items": [{"sku": "P", "source": "src", "quantity": 5, "status": "in_stock"},
                     {"sku": "Q", "source": "src", "quantity": 9, "status": "in_stock"}],
}


class Servers:
    """Two server processes on one database; requests alternate between them."""

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self.clients = clients
        self._next = itertools.cycle(clients)

    async def call(self, query: str, **variables: Any) -> dict[str, Any]:
        """One operation on the next server: HTTP 200, no GraphQL error (no INTERNAL_ERROR,
        no STORE_BUSY: nothing here waits long), the single root field's value."""
        http = next(self._next)
        response = await http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        (value,) = body["data"].values()
        result: dict[str, Any] = value
        return result

    async def version(self) -> int:
        response = await self.clients[0].get("/healthz")
        assert response.status_code == 200
        version: int = response.json()["data_version"]
        return version


@contextlib.asynccontextmanager
async def two_servers(tmp_path: Path) -> AsyncIterator[Servers]:
    db = import_catalog(tmp_path, CATALOG)
    with running_server(db, token=TOKEN) as one, running_server(db, token=TOKEN) as two:
        async with client(one.base) as a, client(two.base) as b:
            yield Servers([a, b])


async def race(*calls: Awaitable[dict[str, Any]]) -> list[dict[str, Any]]:
    async with asyncio.timeout(ROUND_TIMEOUT):
        return list(await asyncio.gather(*calls))


def settings(entity: dict[str, Any]) -> dict[str, Any]:
    return {s["name"]: s["value"] for s in entity["settings"]}


def codes(result: dict[str, Any]) -> list[str]:
    return [e["code"] for e in result["errors"]]


async def compose(servers: Servers, write: Callable[[dict[str, Any]], Awaitable[Any]],
                  read: Callable[[], Awaitable[dict[str, Any]]],
                  patches: Callable[[int], list[dict[str, Any]]]) -> None:
    """ROUNDS rounds of concurrent writes of different options: every one answers ok and
    afterwards every option holds the value of its round."""
    for round_ in range(ROUNDS):
        patch = patches(round_)
        results = await race(*(write(p) for p in patch))
        assert all(r == {"ok": True, "errors": []} for r in results), (round_, results)
        stored = await read()
        for p in patch:
            assert {k: stored.get(k) for k in p} == p, (round_, stored, patch)


def option_patches(names: list[str]) -> Callable[[int], list[dict[str, Any]]]:
    """One patch per option, each with a value of its own for the round."""
    def values(round_: int) -> list[dict[str, Any]]:
        patches: list[dict[str, Any]] = []
        for index, name in enumerate(names):
            value: Any
            if name == "backorders":
                value = ("allow", "allow_notify", "no")[round_ % 3]
            elif name == "auto_return":
                value = round_ % 2 == 1
            elif name == "max_sale_qty":
                value = 1000 + round_
            else:
                value = round_ + index + 1
            patches.append({name: value})
        return patches
    return values


async def test_concurrent_product_config_writes_all_stick(tmp_path: Path) -> None:
    async with two_servers(tmp_path) as servers:
        async def read() -> dict[str, Any]:
            return settings(await servers.call(PRODUCT, sku="P"))

        await compose(servers, lambda p: servers.call(SET_PRODUCT, sku="P", config=p), read,
                      option_patches(["min_qty", "min_sale_qty", "max_sale_qty",
                                      "notify_stock_qty", "backorders"]))


async def test_concurrent_global_config_writes_all_stick(tmp_path: Path) -> None:
    async with two_servers(tmp_path) as servers:
        async def read() -> dict[str, Any]:
            return settings(await servers.call(GLOBAL))

        await compose(servers, lambda p: servers.call(SET_GLOBAL, config=p), read,
                      option_patches(["stock_threshold_qty", "min_sale_qty", "max_sale_qty",
                                      "notify_stock_qty", "backorders", "auto_return"]))


async def test_concurrent_stock_config_writes_all_stick(tmp_path: Path) -> None:
    async with two_servers(tmp_path) as servers:
        async def read_stock() -> dict[str, Any]:
            stocks = await servers.clients[0].post("/graphql", json={"query": STOCKS})
            (stock,) = stocks.json()["data"]["stocks"]
            return settings(stock)

        await compose(servers, lambda p: servers.call(SET_STOCK, id=1, config=p), read_stock,
                      option_patches(["stock_threshold_qty", "min_qty", "min_sale_qty",
                                      "notify_stock_qty", "backorders"]))


async def test_upsert_stock_without_config_keeps_a_concurrent_config_write(
        tmp_path: Path) -> None:
    links = [[{"code": "src", "priority": 1}],
             [{"code": "src", "priority": 1}, {"code": "src2", "priority": 2}],
             [{"code": "src3", "priority": 1}, {"code": "src", "priority": 2}]]
    async with two_servers(tmp_path) as servers:
        for round_ in range(ROUNDS):
            stock = {"id": 1, "name": "Web", "channels": ["web"],
                     "sources": links[round_ % len(links)]}
            patches = option_patches(["stock_threshold_qty", "min_sale_qty",
                                      "backorders"])(round_)
            results = await race(servers.call(UPSERT_STOCK, stock=stock),
                                 *(servers.call(SET_STOCK, id=1, config=p) for p in patches))
            assert all(r == {"ok": True, "errors": []} for r in results), (round_, results)
            response = await servers.clients[round_ % 2].post("/graphql",
                                                              json={"query": STOCKS})
            (stored,) = response.json()["data"]["stocks"]
            assert stored["sources"] == [{"sourceCode": link["code"],
                                          "priority": link["priority"]}
                                         for link in stock["sources"]], (round_, stored)
            for patch in patches:
                assert {k: settings(stored).get(k) for k in patch} == patch, (round_, stored)


async def test_a_deleted_product_is_never_resurrected_by_a_config_write(
        tmp_path: Path) -> None:
    async with two_servers(tmp_path) as servers:
        for round_ in range(ROUNDS):
            sku = f"GONE-{round_}"
            assert await servers.call(UPSERT_PRODUCT, sku=sku) == {"ok": True, "errors": []}
            writes = [servers.call(SET_PRODUCT, sku=sku, config={"min_qty": n})
                      for n in range(3)]
            deleted, *configured = await race(servers.call(DELETE, sku=sku), *writes)
            assert deleted == {"ok": True, "errors": []}, (round_, deleted)
            for result in configured:
                # Before the delete (ok), or after it: refused, the product is unknown.
                assert result["ok"] or codes(result) == ["NOT_FOUND"], (round_, result)
            for http in servers.clients:
                response = await http.post("/graphql", json={"query": PRODUCT,
                                                             "variables": {"sku": sku}})
                assert response.json()["data"]["product"] is None, (round_, response.text)


#: The racing setSourceItems calls of a round: one item of P each.
ITEM_WRITES = (("src2", 7.0), ("src3", 3.0), ("src", 1.0), ("src2", 2.0))


def _serial_outcomes() -> set[tuple[tuple[str, float], ...] | None]:
    """P's source items after each serial order of the racing writes (None: deleted)."""
    base = {"src": 5.0}
    outcomes: set[tuple[tuple[str, float], ...] | None] = set()
    steps = [*ITEM_WRITES, "delete", "replace"]
    for order in itertools.permutations(steps):
        items: dict[str, float] | None = dict(base)
        for step in order:
            if step == "delete":
                items = None
            elif step == "replace":  # importCatalog(replace): the base document again
                items = dict(base)
            else:  # setSourceItems upserts the item (and creates P when it is unknown)
                source, quantity = step
                items = {**(items or {}), source: quantity}
        outcomes.add(None if items is None else tuple(sorted(items.items())))
    return outcomes


async def test_source_items_racing_delete_and_replace_get_clear_answers(
        tmp_path: Path) -> None:
    possible = _serial_outcomes()
    async with two_servers(tmp_path) as servers:
        for round_ in range(ROUNDS):
            writes = [servers.call(SET_ITEMS, items=[{"sku": "P", "source": source,
                                                      "quantity": quantity,
                                                      "status": "IN_STOCK"}])
                      for source, quantity in ITEM_WRITES]
            *items, deleted, imported = await race(
                *writes, servers.call(DELETE, sku="P"), servers.call(IMPORT, d=CATALOG))
            assert all(r == {"ok": True, "errors": []} for r in items), (round_, items)
            assert deleted["ok"] or codes(deleted) == ["NOT_FOUND"], (round_, deleted)
            assert imported == {"ok": True, "errors": []}, (round_, imported)
            found = await servers.call(PRODUCT, sku="P")
            state = None if found is None else tuple(sorted(
                (i["sourceCode"], i["quantity"]) for i in found["sourceItems"]))
            assert state in possible, (round_, state)
            # Q is untouched by every one of them (the replace restores it as it was).
            q = await servers.call(PRODUCT, sku="Q")
            assert q["sourceItems"] == [{"sourceCode": "src", "quantity": 9.0}]
            # Start every round from the base document.
            assert await servers.call(IMPORT, d=CATALOG) == {"ok": True, "errors": []}


async def test_a_refused_write_does_not_bump_the_data_version(tmp_path: Path) -> None:
    async with two_servers(tmp_path) as servers:
        before = await servers.version()
        refused = await servers.call(DELETE, sku="NO-SUCH-SKU")
        assert refused["ok"] is False and codes(refused) == ["NOT_FOUND"]
        invalid = await servers.call(SET_PRODUCT, sku="P", config={"min_sale_qty": -1})
        assert invalid["ok"] is False
        assert await servers.version() == before
        assert (await servers.call(DELETE, sku="Q"))["ok"] is True
        assert await servers.version() == before + 1


async def test_expected_version_lets_exactly_one_of_two_writers_win(tmp_path: Path) -> None:
    async with two_servers(tmp_path) as servers:
        version = await servers.version()
        for round_ in range(ROUNDS):
            first, second = await race(
                servers.call(VERSIONED, sku="P", config={"min_qty": round_}, v=version),
                servers.call(VERSIONED, sku="P", config={"max_sale_qty": 100 + round_},
                             v=version))
            winners = [r for r in (first, second) if r["ok"]]
            losers = [r for r in (first, second) if not r["ok"]]
            assert len(winners) == 1 and len(losers) == 1, (round_, first, second)
            assert winners[0]["version"] == version + 1
            assert losers[0]["version"] is None
            assert codes(losers[0]) == ["VERSION_CONFLICT"], losers[0]
            assert await servers.version() == version + 1
            version += 1
        stale = await servers.call(VERSIONED, sku="P", config={"min_qty": 1}, v=version - 1)
        assert codes(stale) == ["VERSION_CONFLICT"]
        assert await servers.version() == version

