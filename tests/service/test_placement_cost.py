"""What one placement costs the store on SQLite, and that the cheaper path answers the same.

A placement reads the order id and the SKUs in one hop to the writer thread and commits in a
second (PostgreSQL: one statement each, see tests/postgres/test_concurrent_writes.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.domain.cart import RequestedLine
from gateway.domain.errors import CartIssueCode, OrderErrorCode
from gateway.services import Services, build_services
from gateway.store.sqlite import SqliteStore
from tests.support import SHOP

D = Decimal


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, Services]]:
    store = SqliteStore(tmp_path / "gateway.sqlite3")
    await store.open()
    services = build_services(store)
    assert await services.catalog.import_document(SHOP, replace=True) == []
    yield store, services
    await store.close()


async def test_a_placement_takes_two_hops_and_replays_answer_the_stored_order(
        shop: tuple[SqliteStore, Services]) -> None:
    store, services = shop
    place = services.orders.place_order
    shirt = [RequestedLine("SHIRT", "1")]
    assert (await place("warm", "eu_website", shirt)).ok  # (the topology is cached now)
    rest = [RequestedLine("SHIRT", "6")]  # 5.5 + 3 on the EU sources, 1.5 + 1 reserved
    before = store.hops
    placed = await place("p1", "eu_website", rest)
    assert placed.ok and not placed.replayed
    assert store.hops - before == 2  # order id and SKUs read together, then the commit

    replay = await place("p1", "eu_website", rest)  # no stock left: still the first answer
    assert replay.ok and replay.replayed and replay.order == placed.order
    conflict = await place("p1", "eu_website", [RequestedLine("SHIRT", "2")])
    assert not conflict.ok and conflict.error is not None
    assert conflict.error.code is OrderErrorCode.ORDER_ID_CONFLICT
    refused = await place("p2", "eu_website", shirt)
    assert not refused.ok and refused.order is None
    assert [i.code for i in refused.lines[0].errors] == [CartIssueCode.INSUFFICIENT_STOCK]
    assert (await services.orders.order("p2")) is None
    view = await services.orders.order("p1")
    assert view is not None and [r.quantity for r in view.reservations] == [D(-6)]
