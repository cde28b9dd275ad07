"""Order transactions on SQLite: the unit of work the service runs order use cases in.

``SqliteStore.transaction()`` opens ``BEGIN IMMEDIATE`` on the writer connection: from the
first read to the commit no other writer (coroutine or process) can change stock, so the check
made inside is still true when its reservations are written. Order activity does not bump the
data version: it changes nothing that is cached (quantities and reservation totals are always
read fresh).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

import aiosqlite

from gateway.domain.orders import Order, ReservationDelta, ShelfChange
from gateway.domain.records import ReservationRecord, SkuData, SourceItemStatus, Topology
from gateway.store import codec
from gateway.store import schema as sql
from gateway.store.order_codec import order_from_row, order_row

Row = tuple[Any, ...]
Run = Callable[[aiosqlite.Connection, str, Sequence[Any]], Awaitable[list[Row]]]
Many = Callable[[aiosqlite.Connection, str, Iterable[Sequence[Any]]], Awaitable[None]]
Totals = dict[tuple[str, int], Decimal]
Append = Callable[[aiosqlite.Connection, Sequence[ReservationRecord], Totals], Awaitable[None]]
ReadTopology = Callable[[aiosqlite.Connection], Awaitable[Topology]]


class SqliteTransaction:
    """Reads and writes inside one IMMEDIATE transaction (see the module docstring)."""

    def __init__(self, conn: aiosqlite.Connection, run: Run, many: Many, append: Append,
                 read_topology: ReadTopology) -> None:
        self._conn, self._run, self._many = conn, run, many
        self._append, self._read_topology = append, read_topology
        # Reservation totals read in this transaction: appending needs no second read.
        self._totals: Totals = {}

    async def data_version(self) -> int:
        return int((await self._run(self._conn, sql.DATA_VERSION, ()))[0][0])

    async def load_topology(self) -> Topology:
        return await self._read_topology(self._conn)

    async def load_skus(self, skus: Sequence[str], stock_id: int) -> SkuData:
        data = await read_skus(self._conn, self._run, skus, stock_id)
        for sku in data.products:
            self._totals[sku, stock_id] = data.reserved.get(sku, Decimal(0))
        return data

    async def get_order(self, order_id: str) -> Order | None:
        rows = await self._run(self._conn, sql.SELECT_ORDER, (order_id,))
        return order_from_row(rows[0]) if rows else None

    async def save_order(self, order: Order, *, new: bool) -> None:
        row = order_row(order)
        if new:
            await self._run(self._conn, sql.INSERT_ORDER, row)
        else:
            await self._run(self._conn, sql.UPDATE_ORDER, (*row[1:], row[0]))

    async def append_reservations(self, order: Order,
                                  deltas: Sequence[ReservationDelta]) -> None:
        await self._append(self._conn, [
            ReservationRecord(sku=d.sku, stock=order.stock_id, quantity=d.qty,
                              metadata={"event_type": d.event_type, "order_id": order.order_id})
            for d in deltas if d.qty != 0], self._totals)

    async def update_source_items(self, changes: Sequence[ShelfChange]) -> None:
        await self._many(self._conn, sql.UPDATE_SOURCE_ITEM_QTY, [
            (codec.dump_qty(c.quantity), SourceItemStatus.of(c.in_stock).value,
             c.sku, c.source_code) for c in changes])


async def read_skus(conn: aiosqlite.Connection, run: Run, skus: Sequence[str],
                    stock_id: int) -> SkuData:
    """Products, source items, reservation totals and the data version in one statement."""
    rows = await run(conn, sql.SKU_SNAPSHOT, (codec.json_list(dict.fromkeys(skus)), stock_id))
    return codec.sku_snapshot(rows)


async def compact(conn: aiosqlite.Connection, run: Run) -> int:
    """Delete the reservations of (order, sku, stock) groups that sum to exactly zero.

    Totals are untouched: removing rows that sum to zero cannot change them. Returns the
    number of reservation rows removed. Runs inside the caller's write transaction.
    """
    candidates = await run(conn, sql.ZERO_SUM_ORDERS, ())
    if not candidates:
        return 0
    rows = await run(conn, sql.RESERVATIONS_OF_KEYS, (codec.json_list(candidates),))
    sums: dict[tuple[str, str, int], Decimal] = {}
    ids: dict[tuple[str, str, int], list[int]] = {}
    for row_id, order_id, sku, stock_id, quantity in rows:
        key = (order_id, sku, stock_id)
        sums[key] = sums.get(key, Decimal(0)) + codec.load_qty(quantity)
        ids.setdefault(key, []).append(row_id)
    doomed = [row_id for key, total in sums.items() if total == 0 for row_id in ids[key]]
    if doomed:
        await run(conn, sql.DELETE_RESERVATIONS, (codec.json_list(doomed),))
    return len(doomed)
