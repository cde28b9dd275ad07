"""The embedded default backend: SQLite.

Connections (see :mod:`gateway.store.sqlite_conn`): WAL, foreign keys, busy timeout, autocommit
with explicit transactions.
- The *writer* connection lives on its own thread and runs only write transactions, one at a
  time (an :class:`asyncio.Lock` in the process, SQLite's write lock across processes); a
  transaction costs one hop per read plus one for all its writes and the commit.
- Small reads (a storefront request's SKUs, the topology) run on a *reader* connection on the
  event loop's thread: they take microseconds, less than a thread hop. With WAL they never
  wait for a writer, and they never see a write transaction still open on the writer.
- Big reads (an export, the low-stock scan) run on a thread of their own with a short-lived
  connection, in one read transaction: a consistent snapshot that does not block writers.
Every SQLite failure leaves the store as a :class:`~gateway.store.errors.StoreError`.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from gateway.domain.facts import FACTS_VERSION
from gateway.domain.orders import Order
from gateway.domain.records import (
    Catalog,
    ChangeBatch,
    FactsData,
    ProductRecord,
    ProductView,
    ReservationRecord,
    SkuData,
    SourceItemRecord,
    Topology,
)
from gateway.domain.stock_events import StockEvent
from gateway.store import schema as sql
from gateway.store import sqlite_reads as reads
from gateway.store import sqlite_writes as writes
from gateway.store.errors import StorageFull, StoreBusy, StoreError, StoreUnavailable
from gateway.store.sqlite_conn import Meter, Session, SqliteWorker, connect, translated
from gateway.store.sqlite_tx import SqliteTransaction

T = TypeVar("T")

#: Below this much free disk space the store reports itself not ready (writes would fail).
MIN_FREE_BYTES = 4 * 1024 * 1024
#: Reads on the event loop must never wait long: a locked reader answers STORE_BUSY instead.
READER_BUSY_TIMEOUT_MS = 1000
#: Write transactions waiting in this process beyond this many are refused (STORE_BUSY).
MAX_WAITING_WRITERS = 256
#: How long a write transaction may wait for its turn in this process.
WRITER_WAIT_SECONDS = 10.0


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
        self._meter = Meter()
        self._worker: SqliteWorker | None = None
        self._reader: Session | None = None
        self._write_lock = asyncio.Lock()
        self._waiting = 0

    @property
    def statements(self) -> int:
        """Number of SQL statements sent so far (instrumentation for tests and benchmarks)."""
        return self._meter.statements

    @property
    def hops(self) -> int:
        """Number of functions run on the writer thread so far (each a round trip between
        the event loop and that thread; instrumentation for tests and benchmarks)."""
        return self._meter.hops

    async def open(self) -> None:
        """Connect and migrate the schema forward; a no-op when already open.

        Raises :class:`~gateway.store.schema.SchemaError` for a file with a newer schema.
        """
        if self._worker is not None:
            return
        worker = SqliteWorker(self.path, self.synchronous, self._meter)
        try:
            await worker.open()
            await worker.call(lambda conn: sql.migrate(Session(conn, self._meter),
                                                        str(self.path)))
            await worker.call(self._rebuild_stale_facts)
            reader = connect(self.path, self.synchronous,
                             busy_timeout_ms=READER_BUSY_TIMEOUT_MS)
        except BaseException:
            await worker.close()
            raise
        self._worker, self._reader = worker, Session(reader, self._meter)

    def _rebuild_stale_facts(self, conn: sqlite3.Connection) -> None:
        """Rebuild the availability facts once after a schema or rules change (one write
        transaction; the first process to open the file does it, the others find it done)."""
        s = Session(conn, self._meter)
        if int(s.run(sql.FACTS_VERSION)[0][0]) >= FACTS_VERSION:
            return
        s.run("BEGIN IMMEDIATE")
        try:
            if writes.rebuild_facts_if_stale(s):
                writes.record_changes(s, [writes.EVERYTHING])
            s.run("COMMIT")
        except BaseException:
            if conn.in_transaction:
                s.run("ROLLBACK")
            raise

    async def close(self) -> None:
        """Close both connections; safe to call twice or on a store that never opened."""
        worker, reader = self._worker, self._reader
        self._worker = self._reader = None
        if reader is not None:
            reader.conn.close()
        if worker is not None:
            await worker.close()

    # -- reads ---------------------------------------------------------------------------

    def _read(self, fn: Callable[[Session], T]) -> T:
        """``fn`` on the reader connection, on this thread (a read of microseconds)."""
        if self._reader is None:
            raise RuntimeError("the store is not open: call open() first")
        with translated(self.path):
            return fn(self._reader)

    async def _bulk(self, fn: Callable[[Session], T]) -> T:
        """``fn`` in one read transaction on a connection and thread of its own."""
        self._session()

        def run() -> T:
            with translated(self.path):
                conn = connect(self.path, self.synchronous)
                try:
                    session = Session(conn, self._meter)
                    session.run("BEGIN")  # deferred: the first SELECT takes the snapshot
                    return fn(session)
                finally:
                    conn.close()

        return await asyncio.to_thread(run)

    def _session(self) -> Session:
        if self._reader is None:
            raise RuntimeError("the store is not open: call open() first")
        return self._reader

    async def data_version(self) -> int:
        """The committed data version (one statement); it increases with every write."""
        return self._read(reads.data_version)

    async def check_ready(self) -> None:
        """Ready when a read answers and the database's filesystem has room for writes."""
        try:
            await self.data_version()
        except StoreError as exc:
            raise StoreUnavailable(f"the database cannot be read: {exc.message}") from None
        free = shutil.disk_usage(self.path.parent).free
        if free < MIN_FREE_BYTES:
            raise StorageFull(f"only {free // 1024} KiB free on the disk holding {self.path}: "
                              "free some space (writes are refused until then)")

    async def load_topology(self) -> Topology:
        """Global config, sources, stocks (links, channels, config), channel map: 6 statements."""
        return self._read(reads.topology)

    async def load_skus(self, skus: Sequence[str], stock_id: int) -> SkuData:
        """Products, all their source items (any source) and reservation totals in ``stock_id``.

        ONE statement whatever ``len(skus)``, so one consistent snapshot that also carries the
        data version. Unknown SKUs are absent from every mapping; every known SKU has an entry
        in ``source_items`` (possibly empty).
        """
        return self._read(lambda s: reads.skus(s, skus, stock_id))

    async def load_facts(self, skus: Sequence[str], stock_id: int) -> FactsData:
        """The availability facts of the known ones of ``skus`` in ``stock_id``, with the data
        version: ONE statement whatever ``len(skus)``."""
        return self._read(lambda s: reads.facts(s, skus, stock_id))

    async def load_product(self, sku: str) -> ProductView | None:
        """One product with every source item of it, in one statement; None when unknown."""
        return self._read(lambda s: reads.products(s, [sku])).get(sku)

    async def known_skus(self, skus: Sequence[str]) -> set[str]:
        """Which of ``skus`` exist as products (one statement)."""
        return self._read(lambda s: reads.known_skus(s, skus))

    async def known_source_codes(self) -> set[str]:
        """Codes of every stored source."""
        return set((await self.load_topology()).sources)

    async def list_skus(self, after: str | None = None, limit: int | None = None) -> list[str]:
        """Product SKUs in ascending order, after ``after`` when given, at most ``limit``
        (one statement)."""
        rows = self._read(lambda s: s.run(sql.LIST_SKUS, (after, -1 if limit is None else limit)))
        return [str(row[0]) for row in rows]

    async def export_catalog(self) -> Catalog:
        """Everything stored, from one consistent snapshot, in a stable order.

        Sources by code, stocks by id (links by priority then code, channels sorted), products
        by SKU, source items by (SKU, source), reservations by id. ``config`` is always a
        mapping (empty when no global option is set). Writers are not blocked meanwhile.
        """
        return await self._bulk(reads.catalog)

    async def get_order(self, order_id: str) -> Order | None:
        return self._read(lambda s: reads.order(s, order_id))

    async def order_reservations(self, order_id: str) -> list[ReservationRecord]:
        return self._read(lambda s: reads.order_reservations(s, order_id))

    async def low_stock_candidates(
            self, source: str | None) -> list[tuple[SourceItemRecord, ProductRecord]]:
        """In-stock items with quantity > 0 on enabled sources (optionally one source), each
        with its product, ordered by source then SKU."""
        return await self._bulk(lambda s: reads.low_stock_candidates(s, source))

    async def change_sequence(self) -> int:
        """The position of the latest change-log entry (0 when none)."""
        return self._read(reads.change_sequence)

    async def changes_since(self, after: int, limit: int = 10_000) -> ChangeBatch:
        """Keys whose availability inputs changed after position ``after`` (at most ``limit``),
        in commit order; "everything" when the log no longer reaches back to ``after``."""
        return self._read(lambda s: reads.changes_since(s, after, limit))

    async def stock_event_sequence(self) -> int:
        """The position of the latest stock event (0 when none)."""
        return self._read(reads.stock_event_sequence)

    async def stock_events_since(self, after: int, limit: int = 500) -> list[StockEvent]:
        """Stock events recorded after position ``after`` (at most ``limit``), in order."""
        return self._read(lambda s: reads.stock_events_since(s, after, limit))

    # -- write transactions ------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        """A write transaction: what is read inside cannot be changed by another writer before
        the commit; the block's writes are applied atomically at its end; an exception rolls
        everything back and is re-raised. Waiting for the turn is bounded: too many waiters or
        too long a wait is refused with StoreBusy (retryable), never a hang."""
        if self._worker is None:
            raise RuntimeError("the store is not open: call open() first")
        if self._waiting >= MAX_WAITING_WRITERS:
            raise StoreBusy("too many writes are waiting: retry in a moment", retry_after=1.0)
        self._waiting += 1
        try:
            async with asyncio.timeout(WRITER_WAIT_SECONDS):
                await self._write_lock.acquire()
        except TimeoutError:
            raise StoreBusy("the database stayed busy with other writes: retry in a moment",
                            retry_after=2.0) from None
        finally:
            self._waiting -= 1
        try:
            tx = SqliteTransaction(self._worker, self._meter)
            try:
                yield tx
            except BaseException:
                # BaseException too: a cancelled request must not leave a transaction open.
                await asyncio.shield(tx.rollback())
                raise
            await asyncio.shield(tx.commit())
        finally:
            self._write_lock.release()

    async def import_catalog(self, catalog: Catalog, *, replace: bool) -> None:
        """Merge ``catalog`` by key, or replace everything, in one transaction.

        Merge: a non-None ``config`` replaces the whole global config; sources, stocks
        (name, config), products and source items are upserted by key; a stock in the catalog
        gets exactly the record's channels and links (a channel listed under another stock
        moves); reservations are appended and their totals updated. On any failure nothing is
        written.
        """
        async with self.transaction() as tx:
            await tx.import_catalog(catalog, replace=replace)

    async def delete_product(self, sku: str) -> bool:
        """Delete a product and (cascade) its source items; reservations stay as history.
        Returns whether it existed (a missing product changes nothing, not even the version)."""
        async with self.transaction() as tx:
            if not await tx.load_products([sku]):
                return False
            await tx.delete_product(sku)
        return True

    async def compact_reservations(self) -> int:
        """Remove reservations of orders whose (sku, stock) sum is zero; salable qty unchanged."""
        if self._worker is None:
            raise RuntimeError("the store is not open: call open() first")
        async with self._write_lock:
            def run(conn: sqlite3.Connection) -> int:
                s = Session(conn, self._meter)
                s.run("BEGIN IMMEDIATE")
                try:
                    removed = writes.compact(s)
                    s.run("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        s.run("ROLLBACK")
                    raise
                return removed

            return await self._worker.call(run)
