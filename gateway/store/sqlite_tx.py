"""A write transaction on SQLite: reads now, writes at the commit, one thread hop each.

``SqliteStore.transaction()`` hands out a :class:`SqliteTransaction`. Its first read opens
``BEGIN IMMEDIATE`` on the writer connection, so from that read to the commit no other writer
(coroutine or process) can change anything: a check made on what was read still holds when
the writes it justifies are applied. Writes are buffered and applied with the commit in ONE
hop to the writer thread, together with the change-log rows and (only when configuration or
catalog entities were written) the data-version bump. A transaction that wrote nothing
commits nothing and bumps nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import TypeVar

from gateway.domain.orders import Order, ReservationDelta, ShelfChange
from gateway.domain.records import (
    Catalog,
    ChangedKey,
    ProductView,
    SkuData,
    Topology,
)
from gateway.store import sqlite_reads as reads
from gateway.store import sqlite_writes as writes
from gateway.store.order_codec import reservation_records
from gateway.store.sqlite_conn import Meter, Session, SqliteWorker

T = TypeVar("T")
Write = Callable[[Session], Sequence[ChangedKey]]
_NOTHING = SkuData(products={}, source_items={}, reserved={})


class SqliteTransaction:
    """The :class:`~gateway.store.protocol.Transaction` contract on the writer connection."""

    def __init__(self, worker: SqliteWorker, meter: Meter) -> None:
        self._worker = worker
        self._meter = meter
        self._begun = False
        self._writes: list[Write] = []
        self._bump = False
        self._touched: set[str] | None = set()
        # Reservation totals read in this transaction: appending needs no second read.
        self._totals: writes.Totals = {}

    # -- reads (each one hop; the first also begins the transaction) ------------------------

    async def _read(self, fn: Callable[[Session], T]) -> T:
        begin, self._begun = not self._begun, True

        def run(conn: sqlite3.Connection) -> T:
            session = Session(conn, self._meter)
            if begin:
                session.run("BEGIN IMMEDIATE")
            return fn(session)

        return await self._worker.call(run)

    async def data_version(self) -> int:
        return await self._read(reads.data_version)

    async def load_topology(self) -> Topology:
        return await self._read(reads.topology)

    async def load_skus(self, skus: Sequence[str], stock_id: int) -> SkuData:
        data = await self._read(lambda s: reads.skus(s, skus, stock_id))
        self._remember_totals(data, stock_id)
        return data

    def _remember_totals(self, data: SkuData, stock_id: int) -> None:
        for sku in data.products:
            self._totals[sku, stock_id] = data.reserved.get(sku, Decimal(0))

    async def load_products(self, skus: Sequence[str]) -> dict[str, ProductView]:
        return await self._read(lambda s: reads.products(s, skus))

    async def known_skus(self, skus: Sequence[str]) -> set[str]:
        return await self._read(lambda s: reads.known_skus(s, skus))

    async def get_order(self, order_id: str) -> Order | None:
        return await self._read(lambda s: reads.order(s, order_id))

    async def load_placement(self, order_id: str, skus: Sequence[str], stock_id: int
                             ) -> tuple[Order | None, SkuData]:
        """:meth:`get_order` then, when the order is unknown, :meth:`load_skus`: one hop."""
        def read(s: Session) -> tuple[Order | None, SkuData]:
            found = reads.order(s, order_id)
            return found, (reads.skus(s, skus, stock_id) if found is None else _NOTHING)

        found, data = await self._read(read)
        self._remember_totals(data, stock_id)
        return found, data

    # -- writes (buffered until the commit) --------------------------------------------------

    async def import_catalog(self, catalog: Catalog, *, replace: bool) -> None:
        self._bump = True
        if replace or catalog.config is not None or catalog.sources or catalog.stocks:
            self._touched = None
        else:
            self._touch(p.sku for p in catalog.products)
            self._touch(i.sku for i in catalog.source_items)
            self._touch(r.sku for r in catalog.reservations)
        self._writes.append(lambda s: writes.import_catalog(s, catalog, replace=replace))

    async def delete_product(self, sku: str) -> None:
        self._bump = True
        self._touch([sku])
        self._writes.append(lambda s: writes.delete_product(s, sku))

    async def save_order(self, order: Order, *, new: bool) -> None:
        def write(s: Session) -> list[ChangedKey]:
            writes.save_order(s, order, new=new)
            return []
        self._writes.append(write)

    async def append_reservations(self, order: Order,
                                  deltas: Sequence[ReservationDelta]) -> None:
        records = reservation_records(order, deltas)
        self._touch(r.sku for r in records)
        self._writes.append(lambda s: writes.append_reservations(s, records, self._totals))

    async def update_source_items(self, changes: Sequence[ShelfChange]) -> None:
        if changes:
            self._touch(c.sku for c in changes)
            self._writes.append(lambda s: writes.update_source_items(s, changes))

    def _touch(self, skus: Iterable[str]) -> None:
        """SKUs whose availability these writes may change (None: every SKU), so that the
        commit can compare their answers before and after (stock events)."""
        if self._touched is not None:
            self._touched.update(skus)

    # -- end ---------------------------------------------------------------------------------

    async def commit(self) -> None:
        """Apply every buffered write, the change log and the version bump, and COMMIT: one
        hop. Nothing to write and nothing begun costs nothing."""
        if not self._begun and not self._writes:
            return
        begin, pending, bump = not self._begun, self._writes, self._bump
        touched = None if self._touched is None else sorted(self._touched)

        def run(conn: sqlite3.Connection) -> None:
            s = Session(conn, self._meter)
            if begin:
                s.run("BEGIN IMMEDIATE")
            try:
                before = writes.stock_states(s, touched)
                changed: list[ChangedKey] = []
                for write in pending:
                    changed.extend(write(s))
                writes.refresh_facts(s, changed)
                writes.record_stock_events(s, before, writes.stock_states(s, touched))
                writes.record_changes(s, changed)
                if bump and pending:
                    writes.bump_version(s)
                s.run("COMMIT")
            except BaseException:
                if s.conn.in_transaction:
                    s.run("ROLLBACK")
                raise

        self._begun, self._writes = True, []
        await self._worker.call(run)
        self._begun = False

    async def rollback(self) -> None:
        """Discard the buffered writes and end the transaction (one hop when begun)."""
        self._writes = []
        if self._begun:
            self._begun = False

            def run(conn: sqlite3.Connection) -> None:
                s = Session(conn, self._meter)
                if s.conn.in_transaction:
                    s.run("ROLLBACK")

            await self._worker.call(run)
