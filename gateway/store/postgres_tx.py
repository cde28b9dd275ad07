"""A write transaction on PostgreSQL: lock what the decision reads, write at the commit.

READ COMMITTED (or whatever the server's default is; the store's behaviour is the same under
SERIALIZABLE). What a use case reads is locked according to what it is, told apart by its
first read (see the Transaction contract: what is read cannot change before the commit):

- **placement** (the order id is unknown): nothing is locked and reads run outside the
  transaction; the commit inserts the order (``ON CONFLICT DO NOTHING``), its reservations and
  change keys, then the guarded update of each (sku, stock) total in sorted order, last. A
  taken order id or a refusing guard rolls back and raises :class:`WriteConflict` /
  :class:`StockConflict`: the service re-checks on fresh data.
- **order update** (cancel, ship, refund: the order exists): the order row is locked
  ``FOR UPDATE``; SKU reads lock the data-version row ``FOR SHARE`` and then the products,
  sorted by SKU, ``FOR UPDATE``.
- **configuration and catalog writes** (anything else: the first read is the data version,
  the topology or products): the data-version row is locked ``FOR UPDATE``, which excludes
  every other configuration, catalog and SKU-level writer until the commit.

Writes are deferred to the commit and applied in one go with the change-log keys, the guard
recomputation (:mod:`gateway.store.postgres_facts`) and the data-version bump.

**Retries.** On a serialization failure or deadlock (SQLSTATE 40001/40P01), and once on a
connection lost before the commit, the transaction rolls back, waits a jittered back-off and
replays what it read inside the transaction (locks included) on a new transaction: when every
read answers the same, the writes decided from them are still right and are applied again;
when one differs, or after :data:`MAX_ATTEMPTS`, the write is refused with ``STORE_BUSY``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from gateway.domain.orders import Order, ReservationDelta, ShelfChange
from gateway.domain.records import (
    Catalog,
    ChangedKey,
    ProductView,
    ReservationRecord,
    SkuData,
    Topology,
)
from gateway.store import codec
from gateway.store import postgres_changes as changes
from gateway.store import postgres_events as events
from gateway.store import postgres_reads as reads
from gateway.store import postgres_sql as sql
from gateway.store import postgres_writes as writes
from gateway.store.errors import StockConflict, StoreBusy, WriteConflict
from gateway.store.order_codec import reservation_records
from gateway.store.postgres_conn import (
    MAX_ATTEMPTS,
    Conn,
    Session,
    backoff,
    is_conflict,
    is_connection_loss,
    translated,
)

T = TypeVar("T")
Step = Callable[[Session], Awaitable[Any]]
Write = Callable[[Session], Awaitable[list[ChangedKey]]]

VERSION_CHANNEL = "gateway_data_version"
_NOTHING = SkuData(products={}, source_items={}, reserved={})


class Mode(Enum):
    NEW = "new"
    PLACEMENT = "placement"
    ORDER = "order"
    CONFIG = "config"


@dataclass
class Link:
    """What a transaction needs from its store."""

    acquire: Callable[[], Awaitable[Conn]]
    release: Callable[[Conn], Awaitable[None]]
    session: Callable[[Conn], Session]
    where: str
    changes_committed: Callable[[], None]


class PostgresTransaction:
    """The :class:`~gateway.store.protocol.Transaction` contract on one pooled connection."""

    def __init__(self, link: Link) -> None:
        self._link = link
        self._conn: Conn | None = None
        self._mode = Mode.NEW
        self._begun = False
        self._steps: list[tuple[Step, Any]] = []  # reads inside the transaction, replayed
        self._writes: list[Write] = []
        self._placement: tuple[Order, list[ReservationRecord]] | None = None
        self._bump = False
        self._recompute: set[str] | None = set()  # None: every SKU
        self._shared = False
        self._locked: set[str] = set()
        self._attempt = 0
        self._logged = False
        # SKUs whose answers the writes may change (None: every SKU), for stock events.
        self._touched: set[str] | None = set()

    # -- connection and transaction control ----------------------------------------------------

    async def _session(self) -> Session:
        if self._conn is None:
            self._conn = await self._link.acquire()
        return self._link.session(self._conn)

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._link.release(conn)

    async def _begin(self) -> Session:
        s = await self._session()
        if not self._begun:
            await s.execute("BEGIN")
            self._begun = True
        return s

    async def _abort(self, *, lost: bool = False) -> None:
        """Roll back, or drop a connection that is gone or unusable (``lost``); the
        transaction may begin again on a fresh one."""
        self._begun = False
        conn = self._conn
        if conn is None:
            return
        if not lost:
            try:
                await self._link.session(conn).execute("ROLLBACK")
                return
            except Exception:  # a connection that cannot even roll back is dropped
                pass
        self._conn = None
        with contextlib.suppress(Exception):  # already released by the pool when it died
            conn.terminate()
        await self._link.release(conn)

    async def _recover(self, exc: BaseException) -> None:
        """After a retryable failure: roll back, wait, begin again and replay every read;
        raises StoreBusy/StoreUnavailable when that is not possible."""
        self._attempt += 1
        lost = is_connection_loss(exc)
        await self._abort(lost=lost)
        if self._attempt >= MAX_ATTEMPTS or (lost and self._attempt > 1):
            with translated(self._link.where):
                raise exc
        await asyncio.sleep(backoff(self._attempt))
        if not self._steps:
            return
        s = await self._begin()
        for step, seen in self._steps:
            if await step(s) != seen:
                raise StoreBusy("what this write was decided on changed meanwhile: retry in a "
                                "moment; nothing was written", retry_after=0.5)

    async def _inside(self, step: Step) -> Any:
        """``step`` inside the transaction (begun if needed), remembered for replays."""
        while True:
            with translated(self._link.where):
                try:
                    result = await step(await self._begin())
                except Exception as exc:
                    if not (is_conflict(exc) or is_connection_loss(exc)):
                        raise
                    await self._recover(exc)
                    continue
            self._steps.append((step, result))
            return result

    async def _outside(self, step: Callable[[Session], Awaitable[T]]) -> T:
        """``step`` as statements of their own (placements lock nothing while they read)."""
        while True:
            with translated(self._link.where):
                try:
                    return await step(await self._session())
                except Exception as exc:
                    if not (is_conflict(exc) or is_connection_loss(exc)):
                        raise
                    await self._recover(exc)

    async def _config(self) -> None:
        """Become a configuration/catalog write: lock the data-version row FOR UPDATE."""
        if self._mode is Mode.NEW:
            self._mode = Mode.CONFIG
            await self._inside(_lock_version)

    async def _lock_skus(self, skus: Sequence[str]) -> None:
        """Order updates reading SKUs: the version row FOR SHARE, then the products."""
        if not self._shared:
            self._shared = True
            await self._inside(_share_version)
        wanted = sorted(set(skus) - self._locked)
        if wanted:
            self._locked.update(wanted)
            await self._inside(lambda s: _lock_products(s, wanted))

    async def _read(self, step: Callable[[Session], Awaitable[T]],
                    skus: Sequence[str] | None = None) -> T:
        """``step`` with the locks of this transaction's kind (see the module docstring)."""
        if self._mode is Mode.PLACEMENT:
            return await self._outside(step)
        if self._mode is Mode.ORDER:
            await self._lock_skus(skus or ())
        else:
            await self._config()
        result: T = await self._inside(step)
        return result

    # -- reads ----------------------------------------------------------------------------------

    async def data_version(self) -> int:
        return await self._read(reads.data_version)

    async def load_topology(self) -> Topology:
        if self._mode is Mode.PLACEMENT:
            return await self._outside(_snapshot_topology)
        return await self._read(reads.topology)

    async def load_skus(self, skus: Sequence[str], stock_id: int) -> SkuData:
        return await self._read(lambda s: reads.skus(s, skus, stock_id), skus)

    async def load_products(self, skus: Sequence[str]) -> dict[str, ProductView]:
        return await self._read(lambda s: reads.products(s, skus), skus)

    async def known_skus(self, skus: Sequence[str]) -> set[str]:
        return await self._read(lambda s: reads.known_skus(s, skus), skus)

    async def get_order(self, order_id: str) -> Order | None:
        if self._mode in (Mode.NEW, Mode.PLACEMENT):
            found = await self._outside(lambda s: reads.order(s, order_id))
            if found is None:
                self._mode = Mode.PLACEMENT
                return None
            self._mode = Mode.ORDER
        result: Order | None = await self._inside(lambda s: reads.order(s, order_id, lock=True))
        return result

    async def load_placement(self, order_id: str, skus: Sequence[str], stock_id: int
                             ) -> tuple[Order | None, SkuData]:
        """:meth:`get_order` then :meth:`load_skus` in one statement while nothing is read yet
        (outside the transaction, as a placement reads); an order found is then read again,
        locked, as :meth:`get_order` does."""
        if self._mode is Mode.NEW:
            taken, data = await self._outside(
                lambda s: reads.placement(s, order_id, skus, stock_id))
            if not taken:
                self._mode = Mode.PLACEMENT
                return None, data
        found = await self.get_order(order_id)  # (a replay: rare)
        return found, (await self.load_skus(skus, stock_id) if found is None else _NOTHING)

    # -- writes (deferred to the commit) --------------------------------------------------------

    async def import_catalog(self, catalog: Catalog, *, replace: bool) -> None:
        self._bump = True
        if replace or catalog.config is not None or catalog.sources or catalog.stocks:
            self._touched = None
        else:
            self._touch_skus(p.sku for p in catalog.products)
            self._touch_skus(i.sku for i in catalog.source_items)
            self._touch_skus(r.sku for r in catalog.reservations)

        async def write(s: Session) -> list[ChangedKey]:
            keys, skus = await writes.import_catalog(s, catalog, replace=replace)
            self._touch(skus)
            return keys
        self._writes.append(write)

    async def delete_product(self, sku: str) -> None:
        self._bump = True
        self._touch_skus([sku])

        async def write(s: Session) -> list[ChangedKey]:
            self._touch({sku})
            return await writes.delete_product(s, sku)
        self._writes.append(write)

    async def save_order(self, order: Order, *, new: bool) -> None:
        if new and self._mode is Mode.PLACEMENT:
            self._placement = (order, [])
            return

        async def write(s: Session) -> list[ChangedKey]:
            await writes.save_order(s, order, new=new)
            return []
        self._writes.append(write)

    async def append_reservations(self, order: Order,
                                  deltas: Sequence[ReservationDelta]) -> None:
        records = reservation_records(order, deltas)
        if self._placement is not None and self._placement[0].order_id == order.order_id:
            self._placement[1].extend(records)
            return
        self._touch_skus(r.sku for r in records)
        self._writes.append(lambda s: writes.append_reservations(s, records))

    async def update_source_items(self, changes: Sequence[ShelfChange]) -> None:
        if not changes:
            return
        self._touch_skus(c.sku for c in changes)

        async def write(s: Session) -> list[ChangedKey]:
            self._touch({c.sku for c in changes})
            return await writes.update_source_items(s, changes)
        self._writes.append(write)

    def _touch_skus(self, skus: Iterable[str]) -> None:
        if self._touched is not None:
            self._touched.update(skus)

    def _touch(self, skus: set[str] | None) -> None:
        if skus is None or self._recompute is None:
            self._recompute = None
        else:
            self._recompute |= skus

    # -- end ------------------------------------------------------------------------------------

    async def commit(self) -> None:
        """Apply the writes and commit; a transaction that wrote nothing just ends."""
        if self._placement is not None:
            if self._writes:
                raise RuntimeError("a placement writes its order and reservations only")
            await self._commit_placement(*self._placement)
        elif self._writes:
            await self._commit_writes()
        elif self._begun:
            await self._end("COMMIT")

    async def rollback(self) -> None:
        self._writes, self._placement = [], None
        if self._begun:
            await self._end("ROLLBACK")

    async def _end(self, statement: str) -> None:
        self._begun = False
        with translated(self._link.where):
            await (await self._session()).execute(statement)

    async def _commit_placement(self, order: Order, records: list[ReservationRecord]) -> None:
        deltas = codec.reservation_deltas(records)

        async def fast(s: Session) -> None:
            if not await writes.place_fast(s, order, records):
                raise WriteConflict(f"order {order.order_id} was placed concurrently")

        try:  # one statement, its own transaction, when no stock event can result
            await self._retrying(fast, begin=False)
        except writes.Declined:
            pass
        else:
            self._link.changes_committed()
            return

        async def place(s: Session) -> None:
            inserted, refused, guarded = await writes.place(s, order, records)
            if not inserted or refused:
                await self._abort()
                if not inserted:
                    raise WriteConflict(f"order {order.order_id} was placed concurrently")
                raise StockConflict(refused)
            await events.record(s, events.placement_crossings(guarded, deltas))

        await self._retrying(place)
        await self._commit_now()

    async def _commit_writes(self) -> None:
        await self._retrying(self._apply)
        await self._commit_now()

    async def _retrying(self, work: Callable[[Session], Awaitable[None]], *,
                        begin: bool = True) -> None:
        """``work`` inside the transaction (``begin=False``: one statement that is its own
        transaction), replayed after a retryable failure."""
        while True:
            with translated(self._link.where):
                try:
                    await work(await self._begin() if begin else await self._session())
                    return
                except Exception as exc:
                    if not (is_conflict(exc) or is_connection_loss(exc)):
                        raise
                    await self._recover(exc)

    async def _apply(self, s: Session) -> None:
        if self._bump or self._mode is Mode.NEW:
            await self._config()  # configuration and catalog writes hold the version row
        self._recompute = set()
        touched = None if self._touched is None else sorted(self._touched)
        before = await events.lock_states(s, touched)  # (sku, stock) order, like every writer
        changed: list[ChangedKey] = []
        for write in self._writes:
            changed.extend(await write(s))
        if self._recompute is None or self._recompute:
            await writes.refresh_facts(s, self._recompute)
        await events.record(s, events.between(before, await events.read_states(s, touched)))
        if self._bump:
            version = await writes.bump_version(s)
            await s.execute("SELECT pg_notify($1, $2)", VERSION_CHANNEL, str(version))
        last = await changes.record(s, changed)
        if last is not None and last % changes.PRUNE_EVERY < len(changed):
            await changes.prune(s)
        self._logged = last is not None

    async def _commit_now(self) -> None:
        """COMMIT. A connection lost here leaves the outcome unknown: StoreUnavailable (an
        order retried with the same id is never placed twice)."""
        await self._end("COMMIT")
        if self._placement is not None or self._logged:
            self._link.changes_committed()


async def _lock_version(s: Session) -> int:
    return int(await s.fetchval(sql.LOCK_VERSION_FOR_UPDATE))


async def _share_version(s: Session) -> int:
    return int(await s.fetchval(sql.LOCK_VERSION_FOR_SHARE))


async def _lock_products(s: Session, skus: list[str]) -> list[str]:
    return [str(row[0]) for row in await s.fetch(sql.LOCK_PRODUCTS, skus)]


async def _snapshot_topology(s: Session) -> Topology:
    """The topology from one consistent snapshot, outside any write transaction."""
    async with s.conn.transaction(isolation="repeatable_read", readonly=True):
        return await reads.topology(s)
