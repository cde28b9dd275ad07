"""Synchronous reads of the SQLite schema, shared by the store and its transactions.

Each function runs a fixed number of statements on one :class:`Session`, whatever the number
of SKUs (SKU lists are bound as one JSON array parameter read with ``json_each``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

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
from gateway.domain.stock_events import StockEvent, StockEventKind
from gateway.store import codec
from gateway.store import schema as sql
from gateway.store.order_codec import order_from_row
from gateway.store.sqlite_conn import Session


def data_version(s: Session) -> int:
    return int(s.run(sql.DATA_VERSION)[0][0])


def topology(s: Session) -> Topology:
    """Global config, sources, stocks (links, channels, config), channel map: 6 statements.

    The version is read first: when a write commits in between (outside a transaction), the
    result is labelled with the older version and the next version check reloads it.
    """
    version = data_version(s)
    return codec.topology(version, *[s.run(statement) for statement in (
        sql.SELECT_GLOBAL_CONFIG, sql.SELECT_SOURCES, sql.SELECT_STOCKS,
        sql.SELECT_CHANNELS, sql.SELECT_LINKS)])


def skus(s: Session, wanted: Sequence[str], stock_id: int) -> SkuData:
    """Products, all their source items, reservation totals in ``stock_id`` and the data
    version: ONE statement, one consistent snapshot."""
    rows = s.run(sql.SKU_SNAPSHOT, (codec.json_list(dict.fromkeys(wanted)), stock_id))
    return codec.sku_snapshot(rows)


def facts(s: Session, wanted: Sequence[str], stock_id: int) -> FactsData:
    """The availability facts of the known ones of ``wanted`` in ``stock_id`` and the data
    version: ONE statement."""
    rows = s.run(sql.FACTS_FOR_SKUS, (codec.json_list(dict.fromkeys(wanted)), stock_id))
    return codec.facts_from_rows(stock_id, rows)


def products(s: Session, wanted: Sequence[str]) -> dict[str, ProductView]:
    """The known ones of ``wanted`` with every source item of each: one statement."""
    data = codec.sku_snapshot(s.run(sql.PRODUCT_VIEWS, (codec.json_list(dict.fromkeys(wanted)),)))
    return {sku: ProductView(product, data.source_items[sku])
            for sku, product in data.products.items()}


def known_skus(s: Session, wanted: Sequence[str]) -> set[str]:
    return {str(row[0]) for row in s.run(sql.KNOWN_SKUS, (codec.json_list(dict.fromkeys(wanted)),))}


def order(s: Session, order_id: str) -> Order | None:
    rows = s.run(sql.SELECT_ORDER, (order_id,))
    return order_from_row(rows[0]) if rows else None


def order_reservations(s: Session, order_id: str) -> list[ReservationRecord]:
    return [codec.reservation_from_row(row) for row in s.run(sql.RESERVATIONS_OF_ORDER,
                                                            (order_id,))]


def catalog(s: Session) -> Catalog:
    """Everything stored, in a stable order (call inside one read transaction)."""
    found = topology(s)  # its mappings keep the SELECT order
    return codec.catalog(found, s.run(sql.SELECT_PRODUCTS), s.run(sql.SELECT_SOURCE_ITEMS),
                         s.run(sql.SELECT_RESERVATIONS))


def low_stock_candidates(s: Session, source: str | None
                         ) -> list[tuple[SourceItemRecord, ProductRecord]]:
    rows = s.run(sql.LOW_STOCK_CANDIDATES, (source, source))
    return [(codec.source_item_from_row(row[:5]),
             codec.product_from_row((row[0], row[5], row[6]))) for row in rows]


def change_sequence(s: Session) -> int:
    return int(s.run(sql.CHANGE_SEQUENCE)[0][0])


def changes_since(s: Session, after: int, limit: int) -> ChangeBatch:
    """What changed after ``after`` (at most ``limit`` keys). When rows after ``after`` were
    already pruned, the batch says everything may have changed."""
    oldest, latest = s.run(sql.CHANGE_BOUNDS)[0]
    if after > int(latest) or (oldest is not None and int(oldest) > after + 1):
        # Pruned past ``after``, or a log that restarted (a replaced database): resync all.
        return ChangeBatch(int(latest), ((None, None),))
    rows = s.run(sql.CHANGES_SINCE, (after, limit))
    if not rows:
        return ChangeBatch(max(after, int(latest or 0)), ())
    return ChangeBatch(int(rows[-1][0]),
                       tuple((sku, stock) for _, sku, stock in rows))


def stock_event_sequence(s: Session) -> int:
    return int(s.run(sql.STOCK_EVENT_SEQUENCE)[0][0])


def stock_events_since(s: Session, after: int, limit: int) -> list[StockEvent]:
    return [StockEvent(int(seq), sku, int(stock_id), StockEventKind(kind),
                       None if qty is None else Decimal(qty))
            for seq, sku, stock_id, kind, qty in s.run(sql.STOCK_EVENTS_SINCE, (after, limit))]
