"""The store contract every backend (SQLite now, PostgreSQL later) implements."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from gateway.domain.orders import Order, ReservationDelta, ShelfChange
from gateway.domain.records import (
    Catalog,
    ProductRecord,
    ProductView,
    ReservationRecord,
    SkuData,
    SourceItemRecord,
    Topology,
)


class Transaction(Protocol):
    """Reads and writes of one order use case, inside one serialised write transaction."""

    async def data_version(self) -> int: ...
    async def load_topology(self) -> Topology: ...
    async def load_skus(self, skus: Sequence[str], stock_id: int) -> SkuData: ...
    async def get_order(self, order_id: str) -> Order | None: ...
    async def save_order(self, order: Order, *, new: bool) -> None: ...
    async def append_reservations(self, order: Order,
                                  deltas: Sequence[ReservationDelta]) -> None: ...
    async def update_source_items(self, changes: Sequence[ShelfChange]) -> None: ...


class Store(Protocol):
    """Asynchronous persistence of the inventory.

    Guarantees shared by every backend:
    - every write method is one transaction: it happens completely or not at all;
    - every committed write that changes topology or configuration bumps the data version, so
      other processes notice on their next :meth:`data_version` call;
    - :meth:`load_skus` costs a constant number of statements whatever the number of SKUs.
    """

    async def open(self) -> None:
        """Connect, create or migrate the schema."""

    async def close(self) -> None:
        """Release connections; safe to call twice."""

    async def data_version(self) -> int:
        """A number that changes whenever any committed write changed stored data."""

    async def check_ready(self) -> None:
        """Return when the store can serve reads and take writes now; otherwise raise a
        :class:`~gateway.store.errors.StoreError` saying why (for ``/readyz``)."""

    async def load_topology(self) -> Topology:
        """Global config, sources, stocks (links, channels, overrides) and the data version."""

    async def load_skus(self, skus: Sequence[str], stock_id: int) -> SkuData:
        """Products, their source items, their reservation totals in ``stock_id`` and the data
        version, from one consistent snapshot."""

    async def load_product(self, sku: str) -> ProductView | None:
        """One product with every source item of it (any source); None when unknown."""

    async def import_catalog(self, catalog: Catalog, *, replace: bool) -> None:
        """Merge ``catalog`` by key (or start from empty when ``replace``) in one transaction.

        The caller has validated the catalog, including references to stored entities.
        """

    async def export_catalog(self) -> Catalog:
        """Everything stored, in a stable order (sources, stocks by id, SKUs, reservations)."""

    async def delete_product(self, sku: str) -> bool:
        """Delete a product and its source items (reservations stay); whether it existed."""

    async def known_source_codes(self) -> set[str]:
        """Codes of every stored source (for validating references on merge)."""

    async def known_skus(self, skus: Sequence[str]) -> set[str]:
        """Which of ``skus`` exist as products."""

    async def list_skus(self, after: str | None = None, limit: int | None = None) -> list[str]:
        """Product SKUs in ascending order: only those after ``after`` when given, at most
        ``limit`` when given (for scans of the whole catalog, such as the rule lint)."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A write transaction for an order use case: what is read inside cannot change
        before the commit (no other writer runs meanwhile); an exception rolls it back."""

    async def get_order(self, order_id: str) -> Order | None:
        """The stored order, or None."""

    async def order_reservations(self, order_id: str) -> list[ReservationRecord]:
        """The reservations an order appended, oldest first (until compacted)."""

    async def low_stock_candidates(
            self, source: str | None) -> list[tuple[SourceItemRecord, ProductRecord]]:
        """In-stock source items with quantity > 0 on enabled sources, with their product."""

    async def compact_reservations(self) -> int:
        """Delete reservations of (order, sku, stock) groups summing to zero; returns rows."""
