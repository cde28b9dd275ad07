"""Snapshots of one (sku, stock) from stored records: the input of every availability rule."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from gateway.domain.model import ConfigChain, SourceItemState, StockSnapshot
from gateway.domain.records import ProductRecord, SourceItemRecord, StockRecord, Topology


def snapshot_of(product: ProductRecord, stock: StockRecord, topology: Topology,
                items: Sequence[SourceItemRecord], reserved: Decimal) -> StockSnapshot:
    """The (sku, stock) snapshot of ``product`` with its source items (on any source): each item
    knows whether its source is enabled and linked to ``stock``, so every rule can be
    evaluated without another lookup."""
    sources = topology.sources
    linked = {link.source_code for link in stock.sources}
    states = tuple(
        SourceItemState(
            source_code=item.source, quantity=item.quantity, in_stock=item.in_stock,
            source_enabled=(src := sources.get(item.source)) is not None and src.enabled,
            linked=item.source in linked, config=item.config)
        for item in items)
    chain = ConfigChain(product.config, stock.config, topology.global_config)
    return StockSnapshot(product.sku, stock.id, states, reserved, chain)
