"""Reservation compaction (docs/rules.md §1, §7): reservations of an (order, sku, stock) group that
sums to exactly zero may be removed; nothing a storefront or the reservation totals see changes.

Runs the real OrderService on a SQLite file and on PostgreSQL; the reservation rows and the
totals are read straight from the database (stdlib sqlite3, or a connection of the test's own),
independently of the store's own readers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.domain.cart import RequestedLine
from gateway.services import Services, build_services
from gateway.services.orders import OrderService
from gateway.store.postgres import PostgresStore
from gateway.store.protocol import Store
from gateway.store.sqlite import SqliteStore
from tests.postgres_support import query, start_server

D = Decimal
CHANNEL = "web"
SKUS = ["TEE", "CAP", "ROPE", "EBOOK"]

CATALOG: dict[str, Any] = {
    "format": "availability-catalog/1",
    "sources": [{"code": "s1", "name": "One"}, {"code": "s2", "name": "Two"}],
    "stocks": [
        {"id": 1, "name": "Main", "channels": [CHANNEL],
         "sources": [{"code": "s1", "priority": 1}, {"code": "s2", "priority": 2}]},
        {"id": 2, "name": "Other", "channels": ["other"], "sources": [{"code": "s2",
                                                                       "priority": 1}]},
    ],
    "products": [
        {"sku": "TEE", "name": "Tee"},
        {"sku": "CAP", "name": "Cap"},
        {"sku": "ROPE", "name": "Rope", "config": {"is_qty_decimal": True, "min_sale_qty": 0.1}},
        {"sku": "EBOOK", "name": "E-book", "config": {"manage_stock": False}},
    ],
    "source_items": [
        {"sku": "TEE", "source": "s1", "quantity": 5, "status": "in_stock"},
        {"sku": "TEE", "source": "s2", "quantity": 10, "status": "in_stock"},
        {"sku": "CAP", "source": "s1", "quantity": 10, "status": "in_stock"},
        {"sku": "ROPE", "source": "s1", "quantity": 5.5, "status": "in_stock"},
        {"sku": "EBOOK", "source": "s1", "quantity": 0, "status": "in_stock"},
    ],
}


def reservation(sku: str, qty: float, order_id: str | None = None,
                stock: int = 1) -> dict[str, Any]:
    metadata = {"event_type": "order_placed"}
    if order_id is not None:
        metadata["order_id"] = order_id
    return {"sku": sku, "stock": stock, "quantity": qty, "metadata": metadata}


Row = tuple[int, str | None, str, int, Decimal]


RESERVATION_ROWS = {
    "sqlite": "SELECT id, json_extract(metadata, '$.order_id'), sku, stock_id, quantity "
              "FROM reservations ORDER BY id",
    "postgresql": "SELECT id, order_id, sku, stock_id, quantity::text FROM reservations "
                  "ORDER BY id",
}
TOTAL_ROWS = {
    "sqlite": "SELECT sku, stock_id, reserved FROM stock_facts",
    "postgresql": "SELECT sku, stock_id, reserved::text FROM stock_facts",
}


@dataclass
class Shop:
    database: str
    backend: str
    store: Store
    services: Services
    orders: OrderService

    def _query(self, statement: str) -> list[tuple[Any, ...]]:
        if self.backend == "postgresql":
            return query(self.database, statement)
        with closing(sqlite3.connect(self.database)) as conn:
            return conn.execute(statement).fetchall()

    def rows(self) -> list[Row]:
        """Every reservation row: (id, order_id, sku, stock, quantity), by id."""
        return [(row_id, order_id, sku, stock, D(qty)) for row_id, order_id, sku, stock, qty
                in self._query(RESERVATION_ROWS[self.backend])]

    def totals(self) -> dict[tuple[str, int], str]:
        """The non-zero reservation totals of the availability facts, raw text included."""
        found = [row for row in self._query(TOTAL_ROWS[self.backend]) if D(row[2]) != 0]
        return {(sku, stock): total for sku, stock, total in found}

    async def salable(self) -> dict[str, tuple[Decimal | None, bool, Decimal]]:
        answers = await self.services.storefront.availability(CHANNEL, SKUS)
        result = {}
        for sku, answer in zip(SKUS, answers, strict=True):
            assert answer is not None
            result[sku] = (answer.salable_qty, answer.is_salable, answer.reserved)
        return result

    async def place(self, order_id: str, *lines: tuple[str, str]) -> None:
        outcome = await self.orders.place_order(
            order_id, CHANNEL, [RequestedLine(sku, qty) for sku, qty in lines])
        assert outcome.ok, (outcome.lines, outcome.error)

    async def ship(self, order_id: str, *lines: tuple[str, str]) -> None:
        outcome = await self.orders.ship_order(
            order_id, [RequestedLine(sku, qty) for sku, qty in lines] if lines else None)
        assert outcome.ok, outcome.error

    async def refund(self, order_id: str, *lines: tuple[str, str]) -> None:
        outcome = await self.orders.refund_order(
            order_id, [RequestedLine(sku, qty) for sku, qty in lines] if lines else None)
        assert outcome.ok, outcome.error

    async def cancel(self, order_id: str) -> None:
        assert (await self.orders.cancel_order(order_id)).ok


@pytest.fixture(params=["sqlite", "postgresql"])
async def shop(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Shop]:
    backend = str(request.param)
    server = start_server() if backend == "postgresql" else None
    database = server.create_database() if server else str(tmp_path / "gateway.sqlite3")
    store: Store = PostgresStore(database, pool_size=2) if server else SqliteStore(database)
    await store.open()
    try:
        services = build_services(store)
        assert await services.catalog.import_document(CATALOG, replace=True) == []
        yield Shop(database, backend, store, services, services.orders)
    finally:
        await store.close()
        if server:
            server.drop_database(database)


def zero_sum_ids(rows: list[Row]) -> set[int]:
    """Ids of the rows whose (order, sku, stock) group sums to exactly zero (orders only)."""
    sums: dict[tuple[str, str, int], Decimal] = {}
    ids: dict[tuple[str, str, int], list[int]] = {}
    for row_id, order_id, sku, stock, qty in rows:
        if order_id is None:
            continue
        sums[order_id, sku, stock] = sums.get((order_id, sku, stock), D(0)) + qty
        ids.setdefault((order_id, sku, stock), []).append(row_id)
    return {row_id for key, total in sums.items() if total == 0 for row_id in ids[key]}


def groups(rows: list[Row]) -> set[tuple[str | None, str, int]]:
    return {(order_id, sku, stock) for _, order_id, sku, stock, _ in rows}


def sums_per_sku(rows: list[Row]) -> dict[tuple[str, int], Decimal]:
    sums: dict[tuple[str, int], Decimal] = {}
    for _, _, sku, stock, qty in rows:
        sums[sku, stock] = sums.get((sku, stock), D(0)) + qty
    return sums


async def compact_and_check(shop: Shop) -> tuple[list[Row], list[Row]]:
    """Compact once and check everything that must not change; return rows before/after."""
    before_rows, before_totals = shop.rows(), shop.totals()
    before_salable = await shop.salable()
    views = {order_id: await shop.orders.order(order_id)
             for order_id in {row[1] for row in before_rows if row[1] is not None}}

    removed = await shop.orders.compact_reservations()

    after_rows = shop.rows()
    doomed = zero_sum_ids(before_rows)
    assert removed == len(doomed)
    assert after_rows == [row for row in before_rows if row[0] not in doomed]
    assert shop.totals() == before_totals  # the table itself, text and all
    assert await shop.salable() == before_salable
    # The totals still equal the (exact) sum of the remaining history.
    assert {key: total for key, total in sums_per_sku(after_rows).items() if total != 0} == \
        {key: D(total) for key, total in before_totals.items() if D(total) != 0}
    for order_id, view in views.items():  # each order's own view: same status and sums
        now = await shop.orders.order(order_id)
        if view is None:  # reservations imported with an order id but no order
            assert now is None
            continue
        assert now is not None and now.order == view.order
        assert sums_per_sku([(0, order_id, r.sku, r.stock, r.quantity)
                             for r in now.reservations]) == {
            key: total for key, total in sums_per_sku(
                [(0, order_id, r.sku, r.stock, r.quantity) for r in view.reservations]).items()
            if total != 0}

    # A second compaction finds nothing.
    assert await shop.orders.compact_reservations() == 0
    assert shop.rows() == after_rows and shop.totals() == before_totals
    assert await shop.salable() == before_salable
    return before_rows, after_rows


async def test_compaction_removes_exactly_the_zero_sum_groups(shop: Shop) -> None:
    assert await shop.services.catalog.import_document({
        "format": "availability-catalog/1",
        "reservations": [
            reservation("TEE", -1),  # no order id: never compacted
            reservation("TEE", -1), reservation("TEE", 1),  # zero-sum, but no order id: kept
            reservation("CAP", -2, "legacy-1"), reservation("CAP", 2, "legacy-1"),  # removed
            reservation("CAP", -1, "legacy-2"),  # kept
            # Zero per order and SKU, but not per stock: both groups kept.
            reservation("TEE", -1, "legacy-3", stock=1), reservation("TEE", 1, "legacy-3",
                                                                      stock=2),
        ]}) == []
    await shop.place("P", ("TEE", "1"))  # open: kept
    await shop.place("C", ("TEE", "2"), ("CAP", "1"))
    await shop.cancel("C")  # both groups sum to zero
    await shop.place("S", ("CAP", "2"))
    await shop.ship("S")  # -2 +2
    await shop.place("H", ("TEE", "2"))
    await shop.ship("H", ("TEE", "1"))  # -2 +1: kept
    await shop.place("M", ("TEE", "1"), ("CAP", "3"))
    await shop.ship("M", ("CAP", "3"))  # (M, CAP) zero, (M, TEE) open
    await shop.place("R", ("TEE", "6"))  # ships from s1 and s2
    await shop.ship("R")
    await shop.refund("R")  # back on the shelves, no reservation: -6 +6
    await shop.place("U", ("CAP", "2"))
    await shop.ship("U", ("CAP", "1"))
    await shop.refund("U")  # shelf 1, released 1: -2 +1 +1
    await shop.place("Q", ("CAP", "2"))
    await shop.refund("Q", ("CAP", "1"))  # -2 +1: kept
    await shop.place("E", ("EBOOK", "1"))  # unmanaged: no reservation at all
    await shop.ship("E")

    before, after = await compact_and_check(shop)
    assert groups(before) - groups(after) == {
        ("legacy-1", "CAP", 1), ("C", "TEE", 1), ("C", "CAP", 1), ("S", "CAP", 1),
        ("M", "CAP", 1), ("R", "TEE", 1), ("U", "CAP", 1)}
    assert groups(after) == {
        (None, "TEE", 1), ("legacy-2", "CAP", 1), ("legacy-3", "TEE", 1),
        ("legacy-3", "TEE", 2), ("P", "TEE", 1), ("H", "TEE", 1), ("M", "TEE", 1),
        ("Q", "CAP", 1)}
    assert len([row for row in after if row[1] is None]) == 3
    assert not [row for row in before if row[1] == "E"]

    # Orders keep working on compacted history: closing the rest empties it further.
    for order_id in ("P", "H", "M", "Q"):
        await shop.cancel(order_id)
    before, after = await compact_and_check(shop)
    assert groups(before) - groups(after) == {
        ("P", "TEE", 1), ("H", "TEE", 1), ("M", "TEE", 1), ("Q", "CAP", 1)}
    assert {row[1] for row in after} == {None, "legacy-2", "legacy-3"}


async def test_compaction_on_an_empty_history(shop: Shop) -> None:
    assert await shop.orders.compact_reservations() == 0
    assert shop.rows() == [] and shop.totals() == {}


async def test_decimal_group_summing_to_zero_exactly_is_removed(shop: Shop) -> None:
    """-0.3 +0.1 +0.2 is 5.55e-17 in binary floating point, exactly 0 in decimals."""
    await shop.place("D", ("ROPE", "0.3"))
    await shop.ship("D", ("ROPE", "0.1"))
    await shop.ship("D", ("ROPE", "0.2"))
    assert [row[4] for row in shop.rows()] == [D("-0.3"), D("0.1"), D("0.2")]
    # Near misses stay (one ten-thousandth off; a lone -0.0001, above the candidate query's
    # float cut-off of 0.00005); another group summing to exactly zero in decimals goes.
    assert await shop.services.catalog.import_document({
        "format": "availability-catalog/1",
        "reservations": [
            reservation("ROPE", -0.3, "near"), reservation("ROPE", 0.1, "near"),
            reservation("ROPE", 0.1999, "near"),
            reservation("ROPE", -0.0001, "tiny"),
            reservation("ROPE", 0.7, "exact"), reservation("ROPE", -0.1, "exact"),
            reservation("ROPE", -0.2, "exact"), reservation("ROPE", -0.4, "exact"),
        ]}) == []
    await shop.place("D2", ("ROPE", "1.7"))
    await shop.ship("D2", ("ROPE", "0.9"))
    await shop.refund("D2", ("ROPE", "0.5"))  # shipped first: 0.5 back to s1, none released
    await shop.refund("D2")  # 0.4 back to s1, the unshipped 0.8 released: -1.7 +0.9 +0.8

    before, after = await compact_and_check(shop)
    assert groups(before) - groups(after) == {("D", "ROPE", 1), ("exact", "ROPE", 1),
                                              ("D2", "ROPE", 1)}
    assert groups(after) == {("near", "ROPE", 1), ("tiny", "ROPE", 1)}
    (total,) = shop.totals().values()
    assert D(total) == D("-0.0002")
    salable = await shop.salable()
    assert salable["ROPE"] == (D("5.5") - D("0.3") - D("0.0002"), True, D("-0.0002"))
