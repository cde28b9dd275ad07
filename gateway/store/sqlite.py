"""The embedded default backend: SQLite through aiosqlite.

Every connection has WAL, ``busy_timeout`` and foreign keys on, in autocommit mode so that all
transactions are explicit. The *writer* connection runs only write transactions, one at a time
under an :class:`asyncio.Lock`. Reads use a separate *reader* connection, so they never see a
write transaction still open (or later rolled back) on the writer; with WAL they run while a
write is in progress. An export reads from its own short-lived connection in one read
transaction: a consistent snapshot that does not block writers.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import aiosqlite

from gateway.domain.orders import Order
from gateway.domain.records import (
    Catalog,
    ProductRecord,
    ProductView,
    ReservationRecord,
    SkuData,
    SourceItemRecord,
    Topology,
)
from gateway.store import codec
from gateway.store import schema as sql
from gateway.store.errors import StorageFull, StoreUnavailable
from gateway.store.order_codec import order_from_row
from gateway.store.sqlite_orders import SqliteTransaction, compact, read_skus

BUSY_TIMEOUT_MS = 5000
#: Below this much free disk space the store reports itself not ready (writes would fail).
MIN_FREE_BYTES = 4 * 1024 * 1024

Row = tuple[Any, ...]


class SqliteStore:
    """The :class:`~gateway.store.protocol.Store` contract on one SQLite database file.

    Safe for many coroutines of one event loop, and for several processes on the same file
    (SQLite's locks serialise their writes; ``data_version`` tells them about each other's).
    """

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        if str(path) == ":memory:" or str(path).startswith("file::memory:"):
            # Each connection would get its own private database.
            raise ValueError("SqliteStore needs a database file, not an in-memory database")
        self.path = Path(path)
        if synchronous.upper() not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        # FULL: a commit is on disk before it is acknowledged (survives power loss). NORMAL
        # (WAL): survives a killed process, may lose the last commits on power loss; faster.
        self.synchronous = synchronous.upper()
        #: Number of SQL statements sent so far (instrumentation for tests and benchmarks).
        self.statements = 0
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self) -> None:
        """Connect and migrate the schema forward; a no-op when already open.

        Raises :class:`~gateway.store.schema.SchemaError` for a file with a newer schema.
        """
        if self._writer is not None:
            return
        writer = await self._connect()
        try:
            await sql.migrate(self._run, writer, str(self.path))
            reader = await self._connect()
        except BaseException:
            await writer.close()
            raise
        self._writer, self._reader = writer, reader

    async def close(self) -> None:
        """Close both connections; safe to call twice or on a store that never opened."""
        writer, reader = self._writer, self._reader
        self._writer = self._reader = None
        for conn in (reader, writer):
            if conn is not None:
                await conn.close()

    async def _connect(self) -> aiosqlite.Connection:
        # isolation_level=None: no implicit BEGIN from the sqlite3 module; we issue our own.
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            # busy_timeout first, so that switching to WAL waits for other processes' locks.
            await self._run(conn, f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await self._run(conn, "PRAGMA foreign_keys = ON")
            await self._run(conn, "PRAGMA journal_mode = WAL")
            await self._run(conn, f"PRAGMA synchronous = {self.synchronous}")
        except BaseException:
            await conn.close()
            raise
        return conn

    # -- statement helpers (the only places that talk to SQLite) ----------------------------

    async def _run(self, conn: aiosqlite.Connection, statement: str,
                   params: Sequence[Any] = ()) -> list[Row]:
        """Execute one statement and return all its rows (none for DDL/DML)."""
        self.statements += 1
        # execute_fetchall runs and exhausts the cursor in one hop: no statement is left open.
        return list(cast(Iterable[Row], await conn.execute_fetchall(statement, params)))

    async def _many(self, conn: aiosqlite.Connection, statement: str,
                    rows: Iterable[Sequence[Any]]) -> None:
        """Execute one DML statement for every row (one statement); nothing when no rows."""
        batch = list(rows)
        if batch:
            self.statements += 1
            await conn.executemany(statement, batch)

    @asynccontextmanager
    async def _write(self, *, bump: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction (bumping the data version when ``bump``), or a rollback.

        Serialised between coroutines by the lock (one connection cannot hold two
        transactions) and between processes by SQLite's write lock (``BEGIN IMMEDIATE``).
        """
        async with self._write_lock:
            conn = self._open(self._writer)
            await self._run(conn, "BEGIN IMMEDIATE")
            try:
                yield conn
                if bump:
                    await self._run(conn, sql.BUMP_VERSION)
                await self._run(conn, "COMMIT")
            except BaseException:
                # BaseException too: a cancelled request must not leave a transaction open.
                if conn.in_transaction:
                    await self._run(conn, "ROLLBACK")
                raise

    def _open(self, conn: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if conn is None:
            raise RuntimeError("the store is not open: call open() first")
        return conn

    # -- reads ---------------------------------------------------------------------------

    async def data_version(self) -> int:
        """The committed data version (one statement); it increases with every write."""
        rows = await self._run(self._open(self._reader), sql.DATA_VERSION)
        return int(rows[0][0])

    async def check_ready(self) -> None:
        """Ready when a read answers and the database's filesystem has room for writes."""
        try:
            await self.data_version()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the database cannot be read: {exc}") from None
        free = shutil.disk_usage(self.path.parent).free
        if free < MIN_FREE_BYTES:
            raise StorageFull(f"only {free // 1024} KiB free on the disk holding {self.path}: "
                              "free some space (writes are refused until then)")

    async def load_topology(self) -> Topology:
        """Global config, sources, stocks (links, channels, config), channel map: 6 statements.

        The statements share no read transaction. The version is read first, so when a write
        commits in between, the result is labelled with the older version and the caller's
        next :meth:`data_version` check makes it reload.
        """
        return await self._read_topology(self._open(self._reader))

    async def load_skus(self, skus: Sequence[str], stock_id: int) -> SkuData:
        """Products, all their source items (any source) and reservation totals in ``stock_id``.

        ONE statement whatever ``len(skus)`` (the SKU list is one JSON array parameter), so
        one consistent snapshot that also carries the data version. Unknown SKUs are absent
        from every mapping; every known SKU has an entry in ``source_items`` (possibly empty).
        """
        return await read_skus(self._open(self._reader), self._run, skus, stock_id)

    async def load_product(self, sku: str) -> ProductView | None:
        """One product with every source item of it, in one statement; None when unknown."""
        rows = await self._run(self._open(self._reader), sql.PRODUCT_VIEW, (sku,))
        data = codec.sku_snapshot(rows)
        product = data.products.get(sku)
        return None if product is None else ProductView(product, data.source_items[sku])

    async def known_source_codes(self) -> set[str]:
        """Codes of every stored source."""
        rows = await self._run(self._open(self._reader), sql.SELECT_SOURCE_CODES)
        return {row[0] for row in rows}

    async def known_skus(self, skus: Sequence[str]) -> set[str]:
        """Which of ``skus`` exist as products (one statement)."""
        rows = await self._run(self._open(self._reader), sql.KNOWN_SKUS,
                               (codec.json_list(dict.fromkeys(skus)),))
        return {row[0] for row in rows}

    async def list_skus(self, after: str | None = None, limit: int | None = None) -> list[str]:
        """Product SKUs in ascending order, after ``after`` when given, at most ``limit``
        (one statement)."""
        rows = await self._run(self._open(self._reader), sql.LIST_SKUS,
                               (after, -1 if limit is None else limit))
        return [row[0] for row in rows]

    async def export_catalog(self) -> Catalog:
        """Everything stored, from one consistent snapshot, in a stable order.

        Sources by code, stocks by id (links by priority then code, channels sorted), products
        by SKU, source items by (SKU, source), reservations by id. ``config`` is always a
        mapping (empty when no global option is set). Writers are not blocked meanwhile.
        """
        self._open(self._writer)
        conn = await self._connect()
        try:
            # Deferred BEGIN + SELECTs = one read transaction (a snapshot); close() ends it.
            await self._run(conn, "BEGIN")
            return await self._read_catalog(conn)
        finally:
            await conn.close()

    async def _read_topology(self, conn: aiosqlite.Connection) -> Topology:
        version = int((await self._run(conn, sql.DATA_VERSION))[0][0])
        return codec.topology(version, *[await self._run(conn, statement) for statement in (
            sql.SELECT_GLOBAL_CONFIG, sql.SELECT_SOURCES, sql.SELECT_STOCKS,
            sql.SELECT_CHANNELS, sql.SELECT_LINKS)])

    async def _read_catalog(self, conn: aiosqlite.Connection) -> Catalog:
        topology = await self._read_topology(conn)  # its mappings keep the SELECT order
        products = await self._run(conn, sql.SELECT_PRODUCTS)
        items = await self._run(conn, sql.SELECT_SOURCE_ITEMS)
        reservations = await self._run(conn, sql.SELECT_RESERVATIONS)
        return codec.catalog(topology, products, items, reservations)

    # -- writes --------------------------------------------------------------------------

    async def import_catalog(self, catalog: Catalog, *, replace: bool) -> None:
        """Merge ``catalog`` by key, or replace everything, in one transaction.

        Merge: a non-None ``config`` replaces the whole global config; sources, stocks
        (name, config), products and source items are upserted by key; a stock in the catalog
        gets exactly the record's channels and links (a channel listed under another stock
        moves); reservations are appended and their totals updated. On any exception (a
        foreign key to a missing source, a CHECK, a cancellation) the transaction is rolled
        back and the exception re-raised: nothing is written.
        """
        async with self._write() as conn:
            if replace:
                for table in sql.DATA_TABLES:
                    await self._run(conn, f"DELETE FROM {table}")
            if catalog.config is not None:
                await self._run(conn, "DELETE FROM global_config")
                await self._many(conn, sql.INSERT_GLOBAL_CONFIG,
                                 codec.global_config_rows(catalog.config))
            await self._many(conn, sql.UPSERT_SOURCE, map(codec.source_row, catalog.sources))
            if catalog.stocks:
                stock_ids = codec.json_list(stock.id for stock in catalog.stocks)
                await self._many(conn, sql.UPSERT_STOCK, map(codec.stock_row, catalog.stocks))
                await self._run(conn, sql.DELETE_CHANNELS_OF_STOCKS, (stock_ids,))
                await self._run(conn, sql.DELETE_LINKS_OF_STOCKS, (stock_ids,))
                await self._many(conn, sql.UPSERT_CHANNEL, [
                    (channel, stock.id) for stock in catalog.stocks for channel in stock.channels])
                await self._many(conn, sql.INSERT_LINK, [
                    (stock.id, link.source_code, link.priority)
                    for stock in catalog.stocks for link in stock.sources])
            await self._many(conn, sql.UPSERT_PRODUCT, map(codec.product_row, catalog.products))
            await self._many(conn, sql.UPSERT_SOURCE_ITEM,
                             map(codec.source_item_row, catalog.source_items))
            await self._append_reservations(conn, catalog.reservations)

    async def _append_reservations(
            self, conn: aiosqlite.Connection, reservations: Sequence[ReservationRecord],
            known: dict[tuple[str, int], Decimal] | None = None) -> None:
        """Append ``reservations`` and update their totals; call inside a write transaction.

        Totals are summed in Python Decimal and stored as text: exact, unlike SQLite's float
        SUM. Reading them inside the IMMEDIATE transaction is safe: no other writer can run.
        ``known`` holds totals already read in this transaction (absent keys are read); it is
        updated with the new totals.
        """
        if not reservations:
            return
        await self._many(conn, sql.INSERT_RESERVATION, map(codec.reservation_row, reservations))
        deltas = codec.reservation_deltas(reservations)
        known = {} if known is None else known
        missing = [key for key in deltas if key not in known]
        if missing:
            for sku, stock_id, total in await self._run(conn, sql.TOTALS_FOR_KEYS,
                                                        (codec.json_list(missing),)):
                known[sku, stock_id] = codec.load_qty(total)
        for key, delta in deltas.items():
            known[key] = known.get(key, Decimal(0)) + delta
        await self._many(conn, sql.UPSERT_TOTAL, [
            (sku, stock_id, codec.dump_qty(known[sku, stock_id])) for sku, stock_id in deltas])

    async def delete_product(self, sku: str) -> bool:
        """Delete a product and (cascade) its source items; reservations stay as history.
        Returns whether it existed."""
        async with self._write() as conn:
            rows = await self._run(conn, sql.DELETE_PRODUCT, (sku,))
        return bool(rows)

    # -- orders --------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        """An IMMEDIATE write transaction for an order use case: committed when the block
        ends, rolled back (and the exception re-raised) when it raises. Serialised with every
        other writer, in this process and in others; does not bump the data version."""
        async with self._write(bump=False) as conn:
            yield SqliteTransaction(conn, self._run, self._many, self._append_reservations,
                                    self._read_topology)

    async def get_order(self, order_id: str) -> Order | None:
        rows = await self._run(self._open(self._reader), sql.SELECT_ORDER, (order_id,))
        return order_from_row(rows[0]) if rows else None

    async def order_reservations(self, order_id: str) -> list[ReservationRecord]:
        rows = await self._run(self._open(self._reader), sql.RESERVATIONS_OF_ORDER, (order_id,))
        return [codec.reservation_from_row(row) for row in rows]

    async def low_stock_candidates(
            self, source: str | None) -> list[tuple[SourceItemRecord, ProductRecord]]:
        """In-stock items with quantity > 0 on enabled sources (optionally one source), each
        with its product, ordered by source then SKU."""
        rows = await self._run(self._open(self._reader), sql.LOW_STOCK_CANDIDATES,
                               (source, source))
        return [(codec.source_item_from_row(row[:5]),
                 codec.product_from_row((row[0], row[5], row[6]))) for row in rows]

    async def compact_reservations(self) -> int:
        """Remove reservations of orders whose (sku, stock) sum is zero; salable qty unchanged."""
        async with self._write(bump=False) as conn:
            return await compact(conn, self._run)
