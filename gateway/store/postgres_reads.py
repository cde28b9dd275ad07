"""Reads of the PostgreSQL schema, shared by the store and its transactions.

Each function runs a fixed number of statements on one :class:`Session`, whatever the number
of SKUs (SKU lists are bound as one array parameter). Rows come back in the shapes of
:mod:`gateway.store.codec`, which turns them into the same records as on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.domain.orders import Order
from gateway.domain.records import (
    Catalog,
    FactsData,
    ProductRecord,
    ProductView,
    ReservationRecord,
    SkuData,
    SourceItemRecord,
    Topology,
)
from gateway.store import codec
from gateway.store import postgres_sql as sql
from gateway.store.order_codec import order_from_row
from gateway.store.postgres_conn import Session, rows
from gateway.store.postgres_facts import facts_data


async def data_version(s: Session) -> int:
    return int(await s.fetchval(sql.DATA_VERSION))


async def topology(s: Session) -> Topology:
    """Global config, sources, stocks (links, channels, config), channel map: 6 statements.

    Call inside one snapshot (a REPEATABLE READ transaction, or a write transaction holding
    the data-version row) so that the parts agree and carry their version.
    """
    version = await data_version(s)
    found = [rows(await s.fetch(statement)) for statement in (
        sql.SELECT_GLOBAL_CONFIG, sql.SELECT_SOURCES, sql.SELECT_STOCKS, sql.SELECT_CHANNELS,
        sql.SELECT_LINKS)]
    return codec.topology(version, *found)


async def skus(s: Session, wanted: Sequence[str], stock_id: int) -> SkuData:
    """Products, all their source items, reservation totals in ``stock_id`` and the data
    version: ONE statement, one snapshot."""
    return codec.sku_snapshot(rows(await s.fetch(sql.SKU_SNAPSHOT, list(dict.fromkeys(wanted)),
                                                 stock_id)))


async def placement(s: Session, order_id: str, wanted: Sequence[str], stock_id: int
                    ) -> tuple[bool, SkuData]:
    """Whether ``order_id`` is taken, and what :func:`skus` reads: ONE statement."""
    found = rows(await s.fetch(sql.PLACEMENT_SNAPSHOT, list(dict.fromkeys(wanted)), stock_id,
                               order_id))
    version_row = found[-1]  # ("v", …) sorts after every other kind
    return version_row[4] == "true", codec.sku_snapshot(found)


async def facts(s: Session, wanted: Sequence[str], stock_id: int) -> FactsData:
    """The availability facts of the known ones of ``wanted`` in ``stock_id`` and the data
    version: ONE statement."""
    return facts_data(stock_id, rows(await s.fetch(sql.FACTS_FOR_SKUS,
                                                   list(dict.fromkeys(wanted)), stock_id)))


async def products(s: Session, wanted: Sequence[str]) -> dict[str, ProductView]:
    """The known ones of ``wanted`` with every source item of each: one statement."""
    data = codec.sku_snapshot(rows(await s.fetch(sql.PRODUCT_VIEWS,
                                                 list(dict.fromkeys(wanted)))))
    return {sku: ProductView(product, data.source_items[sku])
            for sku, product in data.products.items()}


async def known_skus(s: Session, wanted: Sequence[str]) -> set[str]:
    return {str(row[0]) for row in await s.fetch(sql.KNOWN_SKUS, list(dict.fromkeys(wanted)))}


async def list_skus(s: Session, after: str | None, limit: int | None) -> list[str]:
    return [str(row[0]) for row in await s.fetch(sql.LIST_SKUS, after, limit)]


async def order(s: Session, order_id: str, *, lock: bool = False) -> Order | None:
    row = await s.fetchrow(sql.LOCK_ORDER if lock else sql.SELECT_ORDER, order_id)
    return order_from_row(tuple(row)) if row is not None else None


async def order_reservations(s: Session, order_id: str) -> list[ReservationRecord]:
    return [codec.reservation_from_row(row)
            for row in rows(await s.fetch(sql.RESERVATIONS_OF_ORDER, order_id))]


async def catalog(s: Session) -> Catalog:
    """Everything stored, in a stable order (call inside one snapshot)."""
    found = await topology(s)
    return codec.catalog(found, rows(await s.fetch(sql.SELECT_PRODUCTS)),
                         rows(await s.fetch(sql.SELECT_SOURCE_ITEMS)),
                         rows(await s.fetch(sql.SELECT_RESERVATIONS)))


async def low_stock_candidates(s: Session, source: str | None
                               ) -> list[tuple[SourceItemRecord, ProductRecord]]:
    found = await s.fetch(sql.LOW_STOCK_CANDIDATES, source)
    return [(codec.source_item_from_row(tuple(row)[:5]),
             codec.product_from_row((row[0], row[5], row[6]))) for row in found]
