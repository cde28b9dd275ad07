"""Writes of the PostgreSQL schema; each runs inside the caller's transaction.

Guarantees: reservation totals are exact NUMERIC sums updated in the same transaction as
every reservation insert (``reserved = reserved + delta``, never a value computed elsewhere,
so concurrent writers compose); reservations stay append-only; every write reports the keys
whose availability inputs it changed, for the change log; rows of ``stock_facts`` are always
locked in (sku, stock) order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from gateway.domain.facts import FACTS_VERSION
from gateway.domain.orders import Order, ShelfChange
from gateway.domain.records import (
    Catalog,
    ChangedKey,
    ReservationRecord,
    SourceItemStatus,
    Topology,
)
from gateway.store import codec
from gateway.store import postgres_reads as reads
from gateway.store import postgres_sql as sql
from gateway.store.order_codec import order_row
from gateway.store.postgres_conn import Session
from gateway.store.postgres_facts import facts_rows

EVERYTHING: ChangedKey = (None, None)
#: SKUs per statement when recomputing guards.
PAGE = 1000

#: Tables emptied by a replacing import, children before parents (foreign keys).
DATA_TABLES: tuple[str, ...] = (
    "orders", "stock_facts", "reservations", "source_items", "stock_source_links",
    "stock_channels", "products", "stocks", "sources", "global_config")


def _columns(rows: Iterable[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as ``width`` column lists (the parameters of an ``unnest`` insert)."""
    columns: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


def _last_by_key(rows: Iterable[Sequence[Any]], key_width: int) -> list[Sequence[Any]]:
    """One row per key, the last one given winning (one statement cannot upsert a key twice)."""
    return list({tuple(row[:key_width]): row for row in rows}.values())


async def import_catalog(s: Session, catalog: Catalog, *, replace: bool
                         ) -> tuple[list[ChangedKey], set[str] | None]:
    """Merge ``catalog`` by key, or replace everything (see Store.import_catalog).

    Returns the change-log keys and the SKUs whose guards need recomputing (None: every one:
    configuration, sources or stocks changed).
    """
    if replace:
        for table in DATA_TABLES:
            await s.execute(sql.DELETE_ALL.format(table=table))
    if catalog.config is not None:
        await s.execute(sql.DELETE_GLOBAL_CONFIG)
        config = codec.global_config_rows(catalog.config)
        if config:
            await s.execute(sql.INSERT_GLOBAL_CONFIG, *_columns(config, 2))
    if catalog.sources:
        rows: list[Sequence[Any]] = _last_by_key(
            ((r.code, r.name, r.enabled, r.latitude, r.longitude, r.country, r.postcode)
             for r in catalog.sources), 1)
        await s.execute(sql.UPSERT_SOURCES, *_columns(rows, 7))
    if catalog.stocks:
        stocks = list({stock.id: stock for stock in catalog.stocks}.values())
        await s.execute(sql.UPSERT_STOCKS, *_columns(
            ((stock.id, stock.name, codec.dump_config(stock.config)) for stock in stocks), 3))
        ids = [stock.id for stock in stocks]
        await s.execute(sql.DELETE_CHANNELS_OF_STOCKS, ids)
        await s.execute(sql.DELETE_LINKS_OF_STOCKS, ids)
        channels = _last_by_key(((channel, stock.id) for stock in stocks
                                 for channel in stock.channels), 1)
        if channels:
            await s.execute(sql.UPSERT_CHANNELS, *_columns(channels, 2))
        links = [(stock.id, link.source_code, link.priority) for stock in stocks
                 for link in stock.sources]
        if links:
            await s.execute(sql.INSERT_LINKS, *_columns(links, 3))
    if catalog.products:
        rows = _last_by_key(((p.sku, p.name, codec.dump_config(p.config))
                             for p in catalog.products), 1)
        await s.execute(sql.UPSERT_PRODUCTS, *_columns(rows, 3))
    if catalog.source_items:
        rows = _last_by_key(((i.sku, i.source, i.quantity, SourceItemStatus.of(i.in_stock).value,
                              codec.dump_config(i.config)) for i in catalog.source_items), 2)
        await s.execute(sql.UPSERT_SOURCE_ITEMS, *_columns(rows, 5))
    changed = await append_reservations(s, catalog.reservations)
    if replace or catalog.config is not None or catalog.sources or catalog.stocks:
        return [EVERYTHING], None
    skus = {p.sku for p in catalog.products} | {i.sku for i in catalog.source_items}
    return [*((sku, None) for sku in sorted(skus)), *changed], skus


async def append_reservations(s: Session, reservations: Sequence[ReservationRecord]
                              ) -> list[ChangedKey]:
    """Append ``reservations`` and add them to their totals, unguarded (imports, releases)."""
    if not reservations:
        return []
    await s.execute(sql.INSERT_RESERVATIONS, *_columns(
        ((r.sku, r.stock, r.quantity, codec.dump_metadata(r.metadata),
          r.metadata.get("order_id")) for r in reservations), 5))
    deltas = sorted(codec.reservation_deltas(reservations).items())
    await s.execute(sql.ADD_RESERVED, *_columns(
        ((sku, stock, delta) for (sku, stock), delta in deltas), 3))
    return [key for key, _ in deltas]


Placed = tuple[bool, list[tuple[str, int]], list[tuple[Any, ...]]]


async def place(s: Session, order: Order, reservations: Sequence[ReservationRecord]) -> Placed:
    """A new order's writes, the guarded reservation last (docs/architecture.md "PostgreSQL").

    Inserts the order (``ON CONFLICT DO NOTHING``), its reservation rows and change-log keys,
    and, per (sku, stock) in sorted order, the guarded update of its total — in ONE statement
    when the order reserves one (sku, stock). Returns whether the order id was free, the keys
    whose guard refused (not enough stock left) and the guarded facts rows as they are now.
    The caller rolls back unless the id was free and nothing was refused.
    """
    deltas = sorted(codec.reservation_deltas(reservations).items())
    row = order_row(order)
    skus = [r.sku for r in reservations]
    quantities = [r.quantity for r in reservations]
    metadata = [codec.dump_metadata(r.metadata) for r in reservations]
    if len(deltas) == 1 and deltas[0][1] < 0:
        ((sku, stock), delta), = deltas
        found = await s.fetchrow(sql.PLACE_ONE, *row, skus, quantities, metadata, sku, delta)
        assert found is not None
        if not found["placed"]:
            return False, [], []
        if found["sku"] is None:
            return True, [(sku, stock)], []
        return True, [], [tuple(found)[1:]]  # without the ``placed`` column
    if not await s.fetchval(sql.PLACE_ORDER, *row, skus, quantities, metadata):
        return False, [], []
    guarded: list[tuple[Any, ...]] = []
    for (sku, stock), delta in deltas:
        if delta < 0:
            after = await s.fetchrow(sql.GUARDED_RESERVE, sku, stock, delta)
            if after is None:
                return True, [(sku, stock)], []  # rolled back: no need to lock further rows
            guarded.append(tuple(after))
        else:
            await s.execute(sql.ADD_RESERVED, [sku], [stock], [delta])
    return True, [], guarded


class Declined(Exception):
    """The fast placement wrote nothing: place the order in a transaction instead."""


async def place_fast(s: Session, order: Order, reservations: Sequence[ReservationRecord]
                     ) -> bool:
    """A new order in ONE statement that is its own transaction (see sql.PLACE_FAST), when it
    reserves one (sku, stock) and leaves its total in the quiet band, or reserves nothing:
    whether the order was placed (False: its id was taken). Raises :class:`Declined` (nothing
    written) when it must take a transaction: several totals, not enough stock, or a total
    near a stock-state boundary."""
    deltas = sorted(codec.reservation_deltas(reservations).items())
    row = order_row(order)
    skus = [r.sku for r in reservations]
    quantities = [r.quantity for r in reservations]
    metadata = [codec.dump_metadata(r.metadata) for r in reservations]
    if not deltas:  # nothing reserved (stock not managed): nothing guarded, no stock event
        return bool(await s.fetchval(sql.PLACE_ORDER, *row, skus, quantities, metadata))
    if len(deltas) > 1 or deltas[0][1] >= 0:
        raise Declined
    ((sku, _), delta), = deltas
    try:
        placed = await s.fetchval(sql.PLACE_FAST, *row, skus, quantities, metadata, sku,
                                  delta)
    except asyncpg.DivisionByZeroError:  # see sql.PLACE_FAST
        raise Declined from None
    return bool(placed)


async def save_order(s: Session, order: Order, *, new: bool) -> None:
    row = order_row(order)
    await s.execute(sql.INSERT_ORDER if new else sql.UPDATE_ORDER, *row)


async def update_source_items(s: Session, changes: Sequence[ShelfChange]) -> list[ChangedKey]:
    if not changes:
        return []
    await s.execute(sql.UPDATE_SOURCE_ITEMS, *_columns(
        ((c.sku, c.source_code, c.quantity, SourceItemStatus.of(c.in_stock).value)
         for c in changes), 4))
    return [(sku, None) for sku in sorted({c.sku for c in changes})]


async def delete_product(s: Session, sku: str) -> list[ChangedKey]:
    """Delete a product and (cascade) its source items; reservations stay as history."""
    return [(sku, None)] if await s.fetchval(sql.DELETE_PRODUCT, sku) is not None else []


async def bump_version(s: Session) -> int:
    return int(await s.fetchval(sql.BUMP_VERSION))


async def refresh_facts(s: Session, skus: set[str] | None) -> None:
    """Recompute, through the domain, the facts of every (product, stock) pair of ``skus``
    (None: of every product) from what the transaction sees now (its own writes included),
    and forget the rows of SKUs or stocks that are gone (they keep their reservation totals,
    and sell nothing). ``reserved`` is left as it is."""
    topology = await reads.topology(s)
    if skus is None:
        after = ""
        while True:
            page = [str(row[0]) for row in await s.fetch(sql.SKU_PAGE, after, PAGE)]
            if not page:
                break
            await _write_facts(s, topology, page)
            after = page[-1]
        await s.execute(sql.FORGET_ORPHAN_FACTS)
        return
    wanted = sorted(skus)
    for start in range(0, len(wanted), PAGE):
        page = wanted[start:start + PAGE]
        found = await _write_facts(s, topology, page)
        if len(found) < len(page):
            await s.execute(sql.FORGET_FACTS_OF_SKUS, [sku for sku in page if sku not in found])


async def _write_facts(s: Session, topology: Topology, skus: list[str]) -> set[str]:
    views = await reads.products(s, skus)
    rows = facts_rows(topology, views)
    if rows:
        await s.execute(sql.UPSERT_FACTS, *_columns(rows, 9))
    return set(views)


async def rebuild_facts_if_stale(s: Session) -> bool:
    """Recompute every row when they were computed by an older :data:`FACTS_VERSION` (or not
    at all); call inside a write transaction holding the data-version row. Returns whether
    it did."""
    if int(await s.fetchval(sql.FACTS_VERSION)) >= FACTS_VERSION:
        return False
    await refresh_facts(s, None)
    await s.execute(sql.SET_FACTS_VERSION, FACTS_VERSION)
    return True


async def compact(s: Session) -> int:
    """Delete the reservations of (order, sku, stock) groups that sum to exactly zero.

    Only rows read as a zero-sum group are deleted, so whatever a concurrent writer appends
    meanwhile stays, and totals are untouched (removing rows that sum to zero cannot change
    them). Returns the number of reservation rows removed.
    """
    doomed = [int(row[0]) for row in await s.fetch(sql.ZERO_SUM_ROWS)]
    if not doomed:
        return 0
    status = await s.execute(sql.DELETE_RESERVATIONS, doomed)
    return int(status.split()[-1])
