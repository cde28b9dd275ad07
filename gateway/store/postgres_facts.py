"""The placement guard of each (sku, stock): ``floor`` and ``sellable``, computed by the domain.

``floor`` is the lowest the reservation total may reach (``adapted min_qty − physical``; None:
no limit, because stock is not managed or backorders are unlimited) and ``sellable`` whether
anything may be reserved at all (managed stock needs an in-stock item on an enabled linked
source). The guarded update of a placement compares against them, so they are rewritten in
the same transaction as every write that changes their inputs (source items, products,
configuration, sources, stocks and links).

Every rule comes from the domain: the settings are resolved by the one inheritance engine, the
physical quantity and stock status by the snapshot. :func:`guard_rows` is the only place the
store turns entities into guard values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from gateway.domain.inheritance import resolve
from gateway.domain.model import ConfigChain, SourceItemState, StockSnapshot
from gateway.domain.records import ProductView, StockRecord, Topology

GuardRow = tuple[str, int, Decimal | None, bool]


def guard_of(snapshot: StockSnapshot) -> tuple[Decimal | None, bool]:
    """(floor, sellable) of one (sku, stock) snapshot; its reservation total does not
    matter."""
    settings = resolve(snapshot.chain, snapshot.source_items)
    if not settings.manage_stock:
        return None, True
    if settings.unlimited_backorders:
        return None, snapshot.any_in_stock
    return settings.adapted_min_qty - snapshot.physical, snapshot.any_in_stock


def _snapshot(view: ProductView, stock: StockRecord, topology: Topology) -> StockSnapshot:
    linked = {link.source_code for link in stock.sources}
    items = tuple(
        SourceItemState(source_code=item.source, quantity=item.quantity, in_stock=item.in_stock,
                        source_enabled=(src := topology.sources.get(item.source)) is not None
                        and src.enabled,
                        linked=item.source in linked, config=item.config)
        for item in view.source_items)
    chain = ConfigChain(view.product.config, stock.config, topology.global_config)
    return StockSnapshot(view.product.sku, stock.id, items, Decimal(0), chain)


def guard_rows(topology: Topology, views: Mapping[str, ProductView]) -> list[GuardRow]:
    """The guard of every (product, stock) pair of ``views`` × the topology's stocks, sorted
    by (sku, stock) (the order writers lock rows in)."""
    stocks = sorted(topology.stocks.values(), key=lambda stock: stock.id)
    memo: dict[tuple[object, ...], tuple[Decimal | None, bool]] = {}
    rows: list[GuardRow] = []
    for sku in sorted(views):
        view = views[sku]
        for stock in stocks:
            snapshot = _snapshot(view, stock, topology)
            key = _inputs(snapshot)
            found = memo.get(key)
            if found is None:
                found = memo[key] = guard_of(snapshot)
            rows.append((sku, stock.id, found[0], found[1]))
    return rows


def _inputs(snapshot: StockSnapshot) -> tuple[object, ...]:
    """Everything :func:`guard_of` reads. Configs are interned by the codec (equal stored
    text, same object) and kept alive by the snapshot, so their identities are stable keys
    while the memo lives."""
    chain = snapshot.chain
    return (id(chain.product), id(chain.stock), id(chain.global_config), snapshot.physical,
            tuple((i.source_code, id(i.config), i.counts, i.contributes, i.in_stock)
                  for i in snapshot.source_items))


def skus_of(rows: Iterable[GuardRow]) -> list[str]:
    return sorted({sku for sku, _, _, _ in rows})
