"""What one replica learns of another's writes on PostgreSQL.

- the data version: a NOTIFY hint makes it quick, the poll makes it certain (each proven alone,
  with the other switched off), and the watch reconnects by itself after a server restart;
- the change log: a transaction that commits after a later-numbered one is not skipped by a
  reader that already moved past the later one; a commit that appended changes wakes the
  waiters of other processes.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg

from gateway.domain.records import Catalog, ProductRecord, ReservationRecord
from gateway.store.postgres import PostgresStore
from tests.pgcluster import Cluster
from tests.postgres.conftest import OpenPostgres
from tests.postgres_support import PostgresServer, with_database
from tests.store.conftest import rich_catalog


class Seen:
    """Data versions a watch reported, with when."""

    def __init__(self) -> None:
        self.versions: list[tuple[float, int]] = []
        self.changed = asyncio.Event()

    def __call__(self, version: int) -> None:
        self.versions.append((time.monotonic(), version))
        self.changed.set()

    async def version(self, wanted: int, within: float) -> float:
        """Seconds until ``wanted`` was reported (fails after ``within``)."""
        started = time.monotonic()
        async with asyncio.timeout(within):
            while not any(v == wanted for _, v in self.versions):
                self.changed.clear()
                await self.changed.wait()
        return next(t for t, v in self.versions if v == wanted) - started


async def test_a_notify_hint_reports_another_replicas_write_at_once(
        open_postgres: OpenPostgres) -> None:
    watching = await open_postgres(poll_interval=30.0)  # the poll alone would take 30 s
    writer = await open_postgres()
    seen = Seen()
    watching.watch_data_version(seen)
    await seen.version(await writer.data_version(), 5.0)
    await writer.import_catalog(rich_catalog(), replace=False)
    assert await seen.version(await writer.data_version(), 2.0) < 1.0


async def test_the_poll_alone_reports_another_replicas_write_within_2_seconds(
        open_postgres: OpenPostgres) -> None:
    watching = await open_postgres(listen=False)  # no hint: as behind a proxy that drops them
    writer = await open_postgres()
    seen = Seen()
    watching.watch_data_version(seen)
    await seen.version(await writer.data_version(), 5.0)
    for _ in range(3):
        await writer.import_catalog(Catalog(products=(ProductRecord("P"),)), replace=False)
        assert await seen.version(await writer.data_version(), 2.0) < 2.0


async def test_the_watch_reconnects_after_a_server_restart(private_cluster: Cluster) -> None:
    url = with_database(private_cluster.url(), "postgres")
    watching, writer = PostgresStore(url, pool_size=2), PostgresStore(url, pool_size=2)
    await watching.open()
    await writer.open()
    try:
        seen = Seen()
        watching.watch_data_version(seen)
        await seen.version(await writer.data_version(), 5.0)
        private_cluster.restart()
        await asyncio.sleep(0.5)
        async with asyncio.timeout(20):  # the writer's pool reconnects on first use, too
            while True:
                try:
                    await writer.import_catalog(rich_catalog(), replace=False)
                    break
                except Exception:
                    await asyncio.sleep(0.2)
        await seen.version(await writer.data_version(), 10.0)
        assert watching._watch.connections == 2  # the watch connected again by itself
    finally:
        await watching.close()
        await writer.close()


async def test_a_commit_with_changes_wakes_other_processes(open_postgres: OpenPostgres) -> None:
    waiting = await open_postgres(poll_interval=30.0)
    writer = await open_postgres()
    assert await waiting.wait_for_changes(5.0)  # the watch connected: read the log now
    assert not await waiting.wait_for_changes(0.3)  # nothing since
    for catalog in (rich_catalog(),
                    Catalog(reservations=(ReservationRecord("SKU-1", 10, -1),))):
        waiter = asyncio.create_task(waiting.wait_for_changes(5.0))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await writer.import_catalog(catalog, replace=False)
        assert await waiter
        # Woken by the hint, not the 30 s poll (the import's own time included: slow CI).
        assert time.monotonic() - started < 5.0
        assert not await waiting.wait_for_changes(0.3)  # one hint per commit (or fewer)


async def test_a_transaction_committing_late_is_not_skipped(
        postgres_server: PostgresServer, open_postgres: OpenPostgres,
        postgres_url: str) -> None:
    store = await open_postgres()
    await store.import_catalog(rich_catalog(), replace=False)
    start = await store.change_sequence()
    late = await asyncpg.connect(postgres_url)
    try:
        # A writer that appended its change first but commits last (an import that takes a
        # while, a slow client): its row has the lower number.
        await late.execute("BEGIN")
        await late.execute("INSERT INTO changes (sku, stock_id) VALUES ('LATE', 10)")
        await store.import_catalog(Catalog(reservations=(ReservationRecord("SKU-1", 10, -1),)),
                                   replace=False)
        first = await store.changes_since(start)
        assert ("LATE", 10) not in first.keys  # not committed: not visible, not skipped
        await late.execute("COMMIT")
    finally:
        await late.close()
    keys = list(first.keys)
    second = await store.changes_since(first.sequence)
    keys.extend(second.keys)
    assert ("LATE", 10) in keys and ("SKU-1", 10) in keys
    assert (await store.changes_since(second.sequence)).keys == ()


async def test_a_transaction_numbered_later_but_committed_first_is_not_skipped(
        open_postgres: OpenPostgres, postgres_url: str) -> None:
    store = await open_postgres()
    await store.import_catalog(rich_catalog(), replace=False)
    start = await store.change_sequence()
    early = await asyncpg.connect(postgres_url)
    try:
        await early.execute("BEGIN")
        await early.execute("SELECT pg_current_xact_id()")  # started (an id) before the other
        await store.import_catalog(Catalog(reservations=(ReservationRecord("SKU-1", 10, -1),)),
                                   replace=False)
        await early.execute("INSERT INTO changes (sku, stock_id) VALUES ('EARLY', 10)")
        seen = await store.changes_since(start)
        await early.execute("COMMIT")
    finally:
        await early.close()
    keys = [*seen.keys, *(await store.changes_since(seen.sequence)).keys]
    assert ("EARLY", 10) in keys and ("SKU-1", 10) in keys
