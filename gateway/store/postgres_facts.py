"""Availability facts on PostgreSQL: the rows of ``stock_facts``, computed by the domain.

One row per (product, stock) holds what a storefront answer needs and the placement guard
(``floor``, ``sellable``), rewritten in the same transaction as every write that changes their
inputs (source items, products, configuration, sources, stocks and links); ``reserved`` is
only ever changed by adding reservations to it. Every column but ``reserved`` comes from
:func:`gateway.domain.facts.facts_of` — the same function the SQLite store uses — and a read
is :func:`gateway.domain.facts.availability_of` on a row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from gateway.domain.facts import StockFacts, dump_rules, facts_of
from gateway.domain.records import FactsData, ProductView, Topology
from gateway.domain.settings_memo import SettingsCache
from gateway.domain.snapshots import snapshot_of
from gateway.store import codec

#: (sku, stock_id, assigned, in_stock, physical, floor, sellable, rules): UPSERT_FACTS' columns.
FactsRow = tuple[str, int, bool, bool, Decimal, Decimal | None, bool, str]


def facts_rows(topology: Topology, views: Mapping[str, ProductView]) -> list[FactsRow]:
    """The facts of every (product, stock) pair of ``views`` × the topology's stocks, sorted
    by (sku, stock): the order every writer locks rows of ``stock_facts`` in."""
    stocks = sorted(topology.stocks.values(), key=lambda stock: stock.id)
    memo = SettingsCache()
    rows: list[FactsRow] = []
    for sku in sorted(views):
        view = views[sku]
        for stock in stocks:
            snapshot = snapshot_of(view.product, stock, topology, view.source_items,
                                   Decimal(0))
            found = facts_of(snapshot, memo.settings(snapshot, topology.version, None))
            rows.append((sku, stock.id, found.is_assigned, found.any_in_stock, found.physical,
                         found.floor, found.sellable, dump_rules(found.rules)))
    return rows


def facts_data(stock_id: int, rows: Sequence[Sequence[Any]]) -> FactsData:
    """FactsData from the rows of FACTS_FOR_SKUS (the version row has no SKU)."""
    version = 0
    found: dict[str, StockFacts] = {}
    for sku, data_version, assigned, in_stock, physical, reserved, rules in rows:
        if sku is None:
            version = int(data_version)
            continue
        found[sku] = StockFacts(sku, stock_id, bool(assigned), bool(in_stock), physical,
                                reserved, codec.load_rules(rules))
    return FactsData(version, found)
