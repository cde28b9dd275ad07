"""Synchronous writes of the SQLite schema; each runs inside the caller's write transaction.

Guarantees: reservation totals are exact Decimal sums maintained in the same transaction as
every reservation insert; reservations stay append-only; every write reports the keys whose
availability inputs it changed, for the change log.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from gateway.domain.facts import FACTS_VERSION, facts_of
from gateway.domain.orders import Order, ShelfChange
from gateway.domain.records import Catalog, ChangedKey, ReservationRecord, SourceItemStatus
from gateway.domain.settings_memo import SettingsCache
from gateway.domain.snapshots import snapshot_of
from gateway.domain.stock_events import StockState, crossings, state_of
from gateway.store import codec
from gateway.store import schema as sql
from gateway.store import sqlite_reads as reads
from gateway.store.order_codec import order_row
from gateway.store.sqlite_conn import Session

EVERYTHING: ChangedKey = (None, None)
#: Change-log rows kept (older ones are pruned): a subscriber further behind resyncs whole.
KEEP_CHANGES = 100_000

Totals = dict[tuple[str, int], Decimal]


def import_catalog(s: Session, catalog: Catalog, *, replace: bool) -> list[ChangedKey]:
    """Merge ``catalog`` by key, or replace everything (see Store.import_catalog)."""
    if replace:
        for table in sql.DATA_TABLES:
            s.run(f"DELETE FROM {table}")
    if catalog.config is not None:
        s.run("DELETE FROM global_config")
        s.many(sql.INSERT_GLOBAL_CONFIG, codec.global_config_rows(catalog.config))
    s.many(sql.UPSERT_SOURCE, map(codec.source_row, catalog.sources))
    if catalog.stocks:
        stock_ids = codec.json_list(stock.id for stock in catalog.stocks)
        s.many(sql.UPSERT_STOCK, map(codec.stock_row, catalog.stocks))
        s.run(sql.DELETE_CHANNELS_OF_STOCKS, (stock_ids,))
        s.run(sql.DELETE_LINKS_OF_STOCKS, (stock_ids,))
        s.many(sql.UPSERT_CHANNEL, [(channel, stock.id) for stock in catalog.stocks
                                    for channel in stock.channels])
        s.many(sql.INSERT_LINK, [(stock.id, link.source_code, link.priority)
                                 for stock in catalog.stocks for link in stock.sources])
    s.many(sql.UPSERT_PRODUCT, map(codec.product_row, catalog.products))
    s.many(sql.UPSERT_SOURCE_ITEM, map(codec.source_item_row, catalog.source_items))
    changed = append_reservations(s, catalog.reservations, {})
    if replace or catalog.config is not None or catalog.sources or catalog.stocks:
        return [EVERYTHING]
    return [*((p.sku, None) for p in catalog.products),
            *((i.sku, None) for i in catalog.source_items), *changed]


def append_reservations(s: Session, reservations: Sequence[ReservationRecord],
                        known: Totals) -> list[ChangedKey]:
    """Append ``reservations`` and update their totals (exact: Decimal text, not SQLite's
    float SUM). ``known`` holds totals already read in this transaction (absent keys are
    read) and receives the new ones."""
    if not reservations:
        return []
    s.many(sql.INSERT_RESERVATION, map(codec.reservation_row, reservations))
    deltas = codec.reservation_deltas(reservations)
    missing = [key for key in deltas if key not in known]
    if missing:
        for sku, stock_id, total in s.run(sql.TOTALS_FOR_KEYS, (codec.json_list(missing),)):
            known[sku, stock_id] = codec.load_qty(total)
    for key, delta in deltas.items():
        known[key] = known.get(key, Decimal(0)) + delta
    s.many(sql.UPSERT_TOTAL, [(sku, stock_id, codec.dump_qty(known[sku, stock_id]))
                              for sku, stock_id in deltas])
    return list(deltas)


def save_order(s: Session, order: Order, *, new: bool) -> None:
    row = order_row(order)
    if new:
        s.run(sql.INSERT_ORDER, row)
    else:
        s.run(sql.UPDATE_ORDER, (*row[1:], row[0]))


def update_source_items(s: Session, changes: Sequence[ShelfChange]) -> list[ChangedKey]:
    s.many(sql.UPDATE_SOURCE_ITEM_QTY, [
        (codec.dump_qty(c.quantity), SourceItemStatus.of(c.in_stock).value, c.sku,
         c.source_code) for c in changes])
    return [(c.sku, None) for c in changes]


def delete_product(s: Session, sku: str) -> list[ChangedKey]:
    """Delete a product and (cascade) its source items; reservations stay as history."""
    return [(sku, None)] if s.run(sql.DELETE_PRODUCT, (sku,)) else []


#: Facts are recomputed this many SKUs at a time (two statements per chunk and stock).
FACTS_CHUNK = 2000


def refresh_facts(s: Session, keys: Sequence[ChangedKey]) -> None:
    """Recompute, through the domain, the facts of the SKUs whose inputs ``keys`` changed
    (every SKU when they hold the "everything" key); ``reserved`` is left as it is.

    Changes of the reservations alone (keys with a stock) need nothing: the reservation
    append keeps ``reserved`` current.
    """
    everything = EVERYTHING in keys
    if not everything:
        skus = list(dict.fromkeys(sku for sku, stock in keys if stock is None and sku))
        if not skus:
            return
    else:
        skus = [str(row[0]) for row in s.run(sql.LIST_ALL_SKUS)]
        s.run(sql.FORGET_STOCKS)
    topology = reads.topology(s)
    memo = SettingsCache()
    for start in range(0, len(skus), FACTS_CHUNK):
        chunk = skus[start:start + FACTS_CHUNK]
        views = reads.products(s, chunk)
        rows = []
        for stock in topology.stocks.values():
            for view in views.values():
                snapshot = snapshot_of(view.product, stock, topology, view.source_items,
                                       Decimal(0))
                settings = memo.settings(snapshot, topology.version, None)
                rows.append(codec.facts_row(facts_of(snapshot, settings)))
        s.many(sql.UPSERT_FACTS, rows)
        if len(views) < len(chunk):
            s.run(sql.FORGET_FACTS, (codec.json_list(chunk),))


def rebuild_facts_if_stale(s: Session) -> bool:
    """Recompute every row when they were computed by an older :data:`FACTS_VERSION` (or
    not at all); call inside a write transaction. Returns whether it did."""
    if int(s.run(sql.FACTS_VERSION)[0][0]) >= FACTS_VERSION:
        return False
    refresh_facts(s, [EVERYTHING])
    s.run(sql.SET_FACTS_VERSION, (FACTS_VERSION,))
    return True


States = dict[tuple[str, int], StockState]


def stock_states(s: Session, skus: Sequence[str] | None) -> States:
    """The stock state (docs/rules.md §5) of every known pair of ``skus`` (None: of all)."""
    if skus is not None and not skus:
        return {}
    rows = (s.run(sql.ALL_FACTS) if skus is None
            else s.run(sql.FACTS_OF_SKUS, (codec.json_list(skus),)))
    return {(sku, stock_id): state_of(codec.stock_facts(stock_id, (sku, *row)))
            for sku, stock_id, *row in rows}


def record_stock_events(s: Session, before: States, after: States) -> None:
    """Record the crossings between the states before and after this transaction's writes."""
    events = [(sku, stock_id, kind.value,
               None if now.salable_qty is None else codec.dump_qty(now.salable_qty))
              for (sku, stock_id), now in after.items()
              for kind in crossings(before.get((sku, stock_id)), now)]
    if events:
        s.many(sql.INSERT_STOCK_EVENT, events)
        last = int(s.run(sql.LAST_CHANGE)[0][0])
        if last % 1000 < len(events):
            s.run(sql.PRUNE_STOCK_EVENTS, (last - KEEP_CHANGES,))


def record_changes(s: Session, keys: Sequence[ChangedKey]) -> None:
    """Append ``keys`` to the change log (one "everything" row stands for all of them)."""
    if not keys:
        return
    unique = [EVERYTHING] if EVERYTHING in keys else list(dict.fromkeys(keys))
    s.many(sql.INSERT_CHANGE, unique)
    last = int(s.run(sql.LAST_CHANGE)[0][0])
    if last % 1000 < len(unique):  # about once per thousand rows
        s.run(sql.PRUNE_CHANGES, (last - KEEP_CHANGES,))


def bump_version(s: Session) -> None:
    s.run(sql.BUMP_VERSION)


def compact(s: Session) -> int:
    """Delete the reservations of (order, sku, stock) groups that sum to exactly zero.

    Totals are untouched: removing rows that sum to zero cannot change them. Returns the
    number of reservation rows removed.
    """
    candidates = s.run(sql.ZERO_SUM_ORDERS)
    if not candidates:
        return 0
    rows = s.run(sql.RESERVATIONS_OF_KEYS, (codec.json_list([list(c) for c in candidates]),))
    sums: dict[tuple[str, str, int], Decimal] = {}
    ids: dict[tuple[str, str, int], list[int]] = {}
    for row_id, order_id, sku, stock_id, quantity in rows:
        key = (order_id, sku, stock_id)
        sums[key] = sums.get(key, Decimal(0)) + codec.load_qty(quantity)
        ids.setdefault(key, []).append(row_id)
    doomed = [row_id for key, total in sums.items() if total == 0 for row_id in ids[key]]
    if doomed:
        s.run(sql.DELETE_RESERVATIONS, (codec.json_list(doomed),))
    return len(doomed)
