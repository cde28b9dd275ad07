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
from dataclasses import replace
from decimal import Decimal
from typing import Any

from gateway.domain.facts import StockFacts, availability_of, dump_rules, facts_of
from gateway.domain.records import FactsData, ProductView, Topology
from gateway.domain.settings_memo import SettingsCache
from gateway.domain.snapshots import snapshot_of
from gateway.store import codec

#: (sku, stock_id, assigned, in_stock, physical, floor, sellable, rules, quiet_from): the
#: columns of UPSERT_FACTS.
FactsRow = tuple[str, int, bool, bool, Decimal, Decimal | None, bool, str, Decimal | None]

#: The quantity step of the rules (4 decimal places): "just above" a boundary.
STEP = Decimal("0.0001")
#: Totals above the quiet boundary the domain is asked about, to confirm it.
CONFIRM = (Decimal(0), Decimal(1), Decimal(1000), Decimal(10) ** 9)


def quiet_from(facts: StockFacts) -> Decimal | None:
    """The reservation total from which up the pair's stock state no longer changes: for every
    total at or above it, the domain answers the same ``is_salable`` and ``low_stock``. A
    placement that leaves the total there cannot cross anything (no stock event), so it may
    commit in the statement of its guarded update. None: no such bound is known (such a
    placement takes the transaction in which the domain decides its events).

    The candidates are where the amount left to sell (the domain's ``left_to_sell``, which
    moves one for one with the total) reaches 0 and the notify quantity; the bound is
    confirmed by asking the domain itself at several totals above it.
    """
    left_at_zero = availability_of(replace(facts, reserved=Decimal(0))).left_to_sell
    notify = facts.rules.notify_stock_qty
    bound = max(-left_at_zero, notify - left_at_zero) + STEP
    states = {(a.is_salable, a.low_stock) for a in (
        availability_of(replace(facts, reserved=bound + extra)) for extra in CONFIRM)}
    return bound if len(states) == 1 else None


def facts_rows(topology: Topology, views: Mapping[str, ProductView]) -> list[FactsRow]:
    """The facts of every (product, stock) pair of ``views`` × the topology's stocks, sorted
    by (sku, stock): the order every writer locks rows of ``stock_facts`` in."""
    stocks = sorted(topology.stocks.values(), key=lambda stock: stock.id)
    memo = SettingsCache()
    quiet: dict[tuple[object, ...], Decimal | None] = {}
    rows: list[FactsRow] = []
    for sku in sorted(views):
        view = views[sku]
        for stock in stocks:
            snapshot = snapshot_of(view.product, stock, topology, view.source_items,
                                   Decimal(0))
            found = facts_of(snapshot, memo.settings(snapshot, topology.version, None))
            rules = dump_rules(found.rules)
            key = (found.is_assigned, found.any_in_stock, found.physical, rules)
            if key not in quiet:
                quiet[key] = quiet_from(found)
            rows.append((sku, stock.id, found.is_assigned, found.any_in_stock, found.physical,
                         found.floor, found.sellable, rules, quiet[key]))
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
