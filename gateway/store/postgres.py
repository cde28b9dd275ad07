"""The scale-out backend: PostgreSQL, shared by any number of gateway processes.

- A pool of connections per process (asyncpg); every statement is prepared once per
  connection. Reads outside a write transaction are single statements (READ COMMITTED), or one
  REPEATABLE READ snapshot when several statements must agree (the topology, an export).
- Write transactions lock what their decision reads and write at the commit
  (:mod:`gateway.store.postgres_tx`); placements lock nothing but their guarded totals, last.
- The schema is migrated on open under a row lock (:mod:`gateway.store.postgres_schema`).
- Other replicas' writes are noticed through the data version read with every SKU snapshot,
  and proactively through :class:`~gateway.store.postgres_watch.VersionWatch` (NOTIFY hint,
  1 s poll).
- A lost connection is replaced by the pool on the next use; every failure leaves the store
  as a :class:`~gateway.store.errors.StoreError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar
from urllib.parse import urlsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

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
from gateway.store import postgres_changes as changes
from gateway.store import postgres_events as events
from gateway.store import postgres_reads as reads
from gateway.store import postgres_schema as schema
from gateway.store import postgres_sql as sql
from gateway.store import postgres_writes as writes
from gateway.store.errors import DatabaseNotFound, StoreBusy, StoreUnavailable
from gateway.store.postgres_conn import (
    ACQUIRE_TIMEOUT,
    Conn,
    Meter,
    Session,
    create_pool,
    retrying,
    translated,
)
from gateway.store.postgres_tx import Link, PostgresTransaction
from gateway.store.postgres_watch import CHANGES_CHANNEL, HINT_DELAY, VersionCallback, VersionWatch

T = TypeVar("T")
log = logging.getLogger("gateway.store")

DEFAULT_POOL_SIZE = 10
#: /readyz waits this long for the database to answer.
READY_TIMEOUT = 2.0


def describe(dsn: str) -> str:
    """``host:port/database`` of a URL, for messages (never the password)."""
    parts = urlsplit(dsn)
    host = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    return f"{host}{port}{parts.path or '/'}"


class PostgresStore:
    """The :class:`~gateway.store.protocol.Store` contract on a PostgreSQL database."""

    def __init__(self, dsn: str, *, pool_size: int = DEFAULT_POOL_SIZE,
                 poll_interval: float | None = None, listen: bool = True) -> None:
        self.dsn = dsn
        self.where = describe(dsn)
        self.pool_size = pool_size
        self._meter = Meter()
        self._pool: asyncpg.Pool | None = None
        self._watch = VersionWatch(dsn, listen=listen) if poll_interval is None else \
            VersionWatch(dsn, poll_interval, listen=listen)
        self._hint: asyncio.Task[None] | None = None
        self._link = Link(acquire=self._acquire, release=self._release,
                          session=lambda conn: Session(conn, self._meter), where=self.where,
                          changes_committed=self._changes_committed)

    @property
    def statements(self) -> int:
        """Number of SQL statements sent so far (instrumentation for tests and benchmarks)."""
        return self._meter.statements

    async def open(self, *, create: bool = True) -> None:
        """Connect and migrate the schema forward; a no-op when already open.

        With ``create=False`` (read-only commands) a database without the gateway's schema is
        refused with DatabaseNotFound instead of being given one. Raises SchemaError for a
        database with a newer schema, StoreError when the server cannot be reached.
        """
        if self._pool is not None:
            return
        with translated(self.where):
            pool = await create_pool(self.dsn, self.pool_size)
        try:
            with translated(self.where):
                async with pool.acquire() as conn:
                    if not create and not await schema.has_schema(conn):
                        raise DatabaseNotFound(
                            f"the PostgreSQL database {self.where} holds no gateway data "
                            "(check --db or GATEWAY_DATABASE; `gateway import FILE --db URL` "
                            "creates the schema)")
                    await schema.migrate(conn, self.where)
            await retrying(self.where, lambda: self._rebuild_stale_facts(pool))
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def _rebuild_stale_facts(self, pool: asyncpg.Pool) -> None:
        """Rebuild the availability facts once after a schema or rules change (one write
        transaction holding the data-version row: the first replica to open does it, the
        others wait, then find it done)."""
        async with pool.acquire() as conn:
            s = Session(conn, self._meter)
            if int(await s.fetchval(sql.FACTS_VERSION)) >= FACTS_VERSION:
                return
            async with conn.transaction():
                await s.fetchval(sql.LOCK_VERSION_FOR_UPDATE)
                if await writes.rebuild_facts_if_stale(s):
                    await changes.record(s, [changes.EVERYTHING])

    async def close(self) -> None:
        """Close the pool and the watcher; safe to call twice or on a store never opened."""
        hint, self._hint = self._hint, None
        if hint is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(hint, 2.0)
        await self._watch.stop()
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), 10.0)
            except (TimeoutError, Exception):
                pool.terminate()

    # -- connections ----------------------------------------------------------------------------

    def _opened(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the store is not open: call open() first")
        return self._pool

    async def _acquire(self) -> Conn:
        pool = self._opened()
        try:
            # asyncio.timeout rather than acquire(timeout=…), which runs the wait in a task of
            # its own (asyncio.wait_for) for every transaction.
            async with asyncio.timeout(ACQUIRE_TIMEOUT):
                with translated(self.where):
                    conn: Conn = await pool.acquire()
        except TimeoutError:
            raise StoreBusy(f"all {self.pool_size} database connections of this process stayed "
                            "busy: retry in a moment", retry_after=1.0) from None
        return conn

    async def _release(self, conn: Conn) -> None:
        pool = self._pool
        if pool is None or not isinstance(conn, PoolConnectionProxy):
            conn.terminate()
            return
        with contextlib.suppress(Exception):  # a broken connection is dropped by the pool
            await pool.release(conn, timeout=ACQUIRE_TIMEOUT)

    async def _read(self, fn: Callable[[Session], Awaitable[T]]) -> T:
        """``fn`` on a pooled connection, retried on conflicts and once on a lost
        connection (reads are safe to run again)."""
        self._opened()

        async def attempt() -> T:
            conn = await self._acquire()
            try:
                return await fn(Session(conn, self._meter))
            finally:
                await self._release(conn)

        return await retrying(self.where, attempt)

    async def _snapshot(self, fn: Callable[[Session], Awaitable[T]]) -> T:
        """``fn`` in one REPEATABLE READ, read-only transaction: its statements agree."""
        async def run(s: Session) -> T:
            async with s.conn.transaction(isolation="repeatable_read", readonly=True):
                return await fn(s)

        return await self._read(run)

    # -- reads ----------------------------------------------------------------------------------

    async def data_version(self) -> int:
        """The committed data version (one statement); it increases with every write."""
        return await self._read(reads.data_version)

    async def check_ready(self) -> None:
        """Ready when the database answers a read within :data:`READY_TIMEOUT` seconds."""
        try:
            await asyncio.wait_for(self.data_version(), READY_TIMEOUT)
        except TimeoutError:
            raise StoreUnavailable(f"PostgreSQL at {self.where} did not answer within "
                                   f"{READY_TIMEOUT:g} s", retry_after=2.0) from None
        except (StoreBusy, StoreUnavailable) as exc:
            raise StoreUnavailable(f"the database cannot be read: {exc.message}",
                                   retry_after=exc.retry_after) from None

    async def load_topology(self) -> Topology:
        """Global config, sources, stocks, channel map, from one snapshot."""
        return await self._snapshot(reads.topology)

    async def load_skus(self, skus: Sequence[str], stock_id: int) -> SkuData:
        """Products, their source items, reservation totals in ``stock_id`` and the data
        version: ONE statement whatever ``len(skus)``."""
        return await self._read(lambda s: reads.skus(s, skus, stock_id))

    async def load_facts(self, skus: Sequence[str], stock_id: int) -> FactsData:
        """The availability facts of the known ones of ``skus`` in ``stock_id``, with the data
        version: ONE statement whatever ``len(skus)``."""
        return await self._read(lambda s: reads.facts(s, skus, stock_id))

    async def load_product(self, sku: str) -> ProductView | None:
        return (await self._read(lambda s: reads.products(s, [sku]))).get(sku)

    async def known_skus(self, skus: Sequence[str]) -> set[str]:
        return await self._read(lambda s: reads.known_skus(s, skus))

    async def known_source_codes(self) -> set[str]:
        return set((await self.load_topology()).sources)

    async def list_skus(self, after: str | None = None, limit: int | None = None) -> list[str]:
        return await self._read(lambda s: reads.list_skus(s, after, limit))

    async def export_catalog(self) -> Catalog:
        """Everything stored, from one snapshot, in a stable order (writers go on meanwhile)."""
        return await self._snapshot(reads.catalog)

    async def get_order(self, order_id: str) -> Order | None:
        return await self._read(lambda s: reads.order(s, order_id))

    async def order_reservations(self, order_id: str) -> list[ReservationRecord]:
        return await self._read(lambda s: reads.order_reservations(s, order_id))

    async def low_stock_candidates(
            self, source: str | None) -> list[tuple[SourceItemRecord, ProductRecord]]:
        return await self._read(lambda s: reads.low_stock_candidates(s, source))

    async def change_sequence(self) -> int:
        """The position of "now" in the change log (see :mod:`postgres_changes`)."""
        return await self._read(changes.horizon)

    async def changes_since(self, after: int, limit: int = 10_000) -> ChangeBatch:
        return await self._read(lambda s: changes.changes_since(s, after, limit))

    async def stock_event_sequence(self) -> int:
        """The number of the latest committed stock event (0 when none)."""
        return await self._read(events.sequence)

    async def stock_events_since(self, after: int, limit: int = 500) -> list[StockEvent]:
        """Stock events numbered after ``after`` (at most ``limit``), in commit order."""
        return await self._read(lambda s: events.since(s, after, limit))

    # -- write transactions ---------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        """A write transaction (see :mod:`gateway.store.postgres_tx`): committed when the block
        ends, rolled back (and the exception re-raised) when it raises. Its connection goes
        back to the pool either way, also when the request is cancelled meanwhile."""
        self._opened()
        tx = PostgresTransaction(self._link)
        try:
            yield tx
        except BaseException:
            await asyncio.shield(self._finish(tx, commit=False))
            raise
        await asyncio.shield(self._finish(tx, commit=True))

    @staticmethod
    async def _finish(tx: PostgresTransaction, *, commit: bool) -> None:
        try:
            if commit:
                await tx.commit()
            else:
                await tx.rollback()
        except BaseException:
            with contextlib.suppress(Exception):
                await tx.rollback()
            raise
        finally:
            await tx.release()

    async def import_catalog(self, catalog: Catalog, *, replace: bool) -> None:
        async with self.transaction() as tx:
            await tx.import_catalog(catalog, replace=replace)

    async def delete_product(self, sku: str) -> bool:
        async with self.transaction() as tx:
            if not await tx.load_products([sku]):
                return False
            await tx.delete_product(sku)
        return True

    async def compact_reservations(self) -> int:
        """Remove reservations of orders whose (sku, stock) sum is zero; salable qty unchanged.
        One statement reads the zero-sum groups, one deletes exactly those rows."""
        async def run(s: Session) -> int:
            async with s.conn.transaction():
                return await writes.compact(s)

        return await self._read(run)

    # -- other replicas -------------------------------------------------------------------------

    def watch_data_version(self, callback: VersionCallback) -> None:
        """Call ``callback(version)`` when any process changes the data version (NOTIFY
        hint, and a poll every second); starts the one listening connection."""
        self._opened()
        self._watch.subscribe(callback)

    async def wait_for_changes(self, within: float) -> bool:
        """Wait for a hint that some process committed change-log rows; False on timeout."""
        self._opened()
        return await self._watch.wait_for_changes(within)

    def _changes_committed(self) -> None:
        self._watch.changes_here()
        if self._hint is None or self._hint.done():
            self._hint = asyncio.get_running_loop().create_task(self._send_hint())

    async def _send_hint(self) -> None:
        await asyncio.sleep(HINT_DELAY)
        try:  # not counted in ``statements``: it is no part of any request's work
            conn = await self._acquire()
            try:
                await conn.execute("SELECT pg_notify($1, '')", CHANGES_CHANNEL)
            finally:
                await self._release(conn)
        except Exception as exc:  # a hint is an optimisation: the poll catches up
            log.debug("change hint not sent: %s", exc)
