"""Storage trouble over GraphQL, in process: a StoreError under a resolver is a clear,
retryable GraphQL error (code, retryAfter, Retry-After header), never INTERNAL_ERROR.

The same against real server processes, a real full disk and a real second writer:
tests/e2e/test_storage.py.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from gateway.store.errors import StorageFull, StoreBusy, StoreError, StoreUnavailable
from gateway.store.sqlite_tx import SqliteTransaction
from tests.support import TOKEN, Api

AVAILABILITY = """{ availability(channel: "eu_website", skus: ["SHIRT"]) { sku salableQty } }"""
PLACE = """mutation($id: String!) {
  placeOrder(orderId: $id, channel: "eu_website", lines: [{sku: "SHIRT", quantity: 2}]) {
    ok status replayed } }"""
ORDER = """query($id: String!) { order(orderId: $id) { orderId status } }"""


async def post(api: Api, query: str, variables: dict[str, Any] | None = None) -> Any:
    return await api.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                 headers={"Authorization": f"Bearer {TOKEN}"})


async def salable(api: Api) -> float:
    data = await api.data(AVAILABILITY)
    value: float = data["availability"][0]["salableQty"]
    return value


@pytest.mark.parametrize("error", [
    StoreBusy("another writer holds the database: retry in a moment", retry_after=1.0),
    StorageFull("no space left for x: free disk space, then retry", retry_after=30.0),
    StoreUnavailable("the database x failed: disk I/O error", retry_after=2.5),
], ids=lambda e: type(e).__name__)
async def test_a_store_error_is_its_code_with_a_retry_hint(
        api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        error: StoreError) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway")
    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(api.services.storefront, "availability", failing)
    response = await post(api, AVAILABILITY)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    (entry,) = body["errors"]
    seconds = -(-int(error.retry_after * 10) // 10)  # ceil, at least 1
    assert entry["message"] == error.message
    assert entry["extensions"] == {"code": error.code.value, "retryAfter": seconds}
    assert response.headers["retry-after"] == str(seconds)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert error.message in warning.getMessage() and warning.exc_info is None


async def test_no_retry_hint_without_one(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("the database x cannot be used: not a database", retry_after=None)

    monkeypatch.setattr(api.services.storefront, "availability", failing)
    response = await post(api, AVAILABILITY)
    (entry,) = response.json()["errors"]
    assert entry["extensions"] == {"code": "STORE_UNAVAILABLE"}
    assert "retry-after" not in response.headers


async def test_the_longest_hint_of_several_errors_is_the_header(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    hints = iter([2.0, 30.0, 1.0])

    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise StoreBusy("busy", retry_after=next(hints))

    # A nullable field, so that one error does not null the others.
    monkeypatch.setattr(api.services.orders, "order", failing)
    query = "{ " + " ".join(f'a{i}: order(orderId: "X") {{ status }}' for i in range(3)) + " }"
    response = await post(api, query)
    assert sorted(e["extensions"]["retryAfter"] for e in response.json()["errors"]) == [1, 2, 30]
    assert response.headers["retry-after"] == "30"


async def test_a_placement_the_store_refuses_is_not_placed_and_can_be_retried(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    before = await salable(api)
    real_commit = SqliteTransaction.commit
    full = StorageFull("no space left for x: free disk space, then retry; nothing was written",
                       retry_after=30.0)

    async def failing_commit(self: SqliteTransaction) -> None:
        await self.rollback()
        raise full

    monkeypatch.setattr(SqliteTransaction, "commit", failing_commit)
    response = await post(api, PLACE, {"id": "DISK-1"})
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "STORAGE_FULL"
    assert body["errors"][0]["path"] == ["placeOrder"]
    assert response.headers["retry-after"] == "30"
    assert (await api.data(ORDER, {"id": "DISK-1"}, token=TOKEN))["order"] is None
    assert await salable(api) == before

    monkeypatch.setattr(SqliteTransaction, "commit", real_commit)
    placed = (await api.data(PLACE, {"id": "DISK-1"}, token=TOKEN))["placeOrder"]
    assert placed == {"ok": True, "status": "placed", "replayed": False}
    assert await salable(api) == before - 2


async def test_writes_beyond_the_queue_bound_are_refused_at_once(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.store import sqlite

    store = api.services.store
    monkeypatch.setattr(store, "_waiting", sqlite.MAX_WAITING_WRITERS)
    response = await post(api, PLACE, {"id": "QUEUE-1"})
    (entry,) = response.json()["errors"]
    assert entry["extensions"] == {"code": "STORE_BUSY", "retryAfter": 1}
    assert "too many writes are waiting" in entry["message"]
    monkeypatch.setattr(store, "_waiting", 0)
    assert (await api.data(ORDER, {"id": "QUEUE-1"}, token=TOKEN))["order"] is None


async def test_background_compaction_on_a_full_disk_warns_without_a_traceback(
        api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import asyncio
    import contextlib

    from gateway.api.app import _compact_forever

    rounds = 0
    three = asyncio.Event()

    async def full() -> int:
        nonlocal rounds
        rounds += 1
        if rounds == 3:
            three.set()
        raise StorageFull("no space left for x: free disk space, then retry")

    monkeypatch.setattr(api.services.orders, "compact_reservations", full)
    caplog.set_level(logging.DEBUG, logger="gateway")
    task = asyncio.create_task(_compact_forever(api.services.orders, 0.001))
    async with asyncio.timeout(10):
        await three.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) >= 3 and all(r.exc_info is None for r in warnings)
    assert "free disk space" in warnings[0].getMessage()
