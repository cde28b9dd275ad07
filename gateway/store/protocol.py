"""The store contract every backend (SQLite now, PostgreSQL later) implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from gateway.domain.orders import Order, ReservationDelta, ShelfChange
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
from gateway.domain.stock_events import StockEvent


class Transaction(Protocol):
    """One unit of work: reads, then the writes they justify, atomically.

    What is read inside cannot be changed by another writer before the commit, so a check
    made on it still holds when its writes are applied (backends serialise writers or lock
    what was read). Writes may be deferred to the commit: never read back your own writes.
    A transaction that writes nothing changes nothing (not even the data version).
    """

    async def data_version(self) -> int: ...
    async def load_topology(self) -> Topology: ...
    async def load_skus(self, skus: Sequence[str], stock_id: int) -> SkuData: ...
    async def load_products(self, skus: Sequence[str]) -> dict[str, ProductView]: ...
    async def known_skus(self, skus: Sequence[str]) -> set[str]: ...
    async def get_order(self, order_id: str) -> Order | None: ...

    async def load_placement(self, order_id: str, skus: Sequence[str], stock_id: int
                             ) -> tuple[Order | None, SkuData]:
        """A placement's first read, in one round trip: exactly what :meth:`get_order` then
        :meth:`load_skus` answer (and lock) when called in that order, the SKU data being
        read only when the order is unknown (otherwise it is empty)."""

    async def import_catalog(self, catalog: Catalog, *, replace: bool) -> None: ...
    async def delete_product(self, sku: str) -> None: ...
    async def save_order(self, order: Order, *, new: bool) -> None: ...
    async def append_reservations(self, order: Order,
                                  deltas: Sequence[ReservationDelta]) -> None: ...
    async def update_source_items(self, changes: Sequence[ShelfChange]) -> None: ...


class Store(Protocol):
    """Asynchronous persistence of the inventory.

    Guarantees shared by every backend:
    - every write method is one transaction: it happens completely or not at all;
    - failures of the database surface as :class:`~gateway.store.errors.StoreError`
      (busy, full, unavailable), never as a driver's own exception;
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

    async def load_facts(self, skus: Sequence[str], stock_id: int) -> FactsData:
        """The availability facts (docs/architecture.md) of the known ones of ``skus`` in
        ``stock_id``, kept current by every committed write, with the data version: a
        constant number of statements whatever ``len(skus)``."""

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
        """A write transaction (see :class:`Transaction`): committed when the block ends,
        rolled back (and the exception re-raised) when it raises. Waiting for it is bounded:
        raises :class:`~gateway.store.errors.StoreBusy` rather than waiting forever."""

    async def get_order(self, order_id: str) -> Order | None:
        """The stored order, or None."""

    async def order_reservations(self, order_id: str) -> list[ReservationRecord]:
        """The reservations an order appended, oldest first (until compacted)."""

    async def low_stock_candidates(
            self, source: str | None) -> list[tuple[SourceItemRecord, ProductRecord]]:
        """In-stock source items with quantity > 0 on enabled sources, with their product."""

    async def compact_reservations(self) -> int:
        """Delete reservations of (order, sku, stock) groups summing to zero; returns rows."""

    async def stock_event_sequence(self) -> int:
        """The position of the latest stock event (0 when none)."""

    async def stock_events_since(self, after: int, limit: int = 500) -> list[StockEvent]:
        """The stock events (docs/architecture.md) recorded after position ``after``, at most
        ``limit``, in commit order. Every write transaction records the crossings of the
        pairs it touched, comparing their answers before and after it."""

    async def change_sequence(self) -> int:
        """The position of the latest entry of the change log (0 when none)."""

    async def changes_since(self, after: int, limit: int = 10_000) -> ChangeBatch:
        """The (sku, stock) keys whose availability inputs changed after position ``after``,
        at most ``limit`` of them, in commit order, and the position to ask from next time.
        Every write transaction appends its keys when it commits. When the log no longer
        reaches back to ``after``, the batch says everything may have changed."""


@runtime_checkable
class SharedStore(Protocol):
    """A store that other processes (replicas) write too, and that tells when they did.

    The data version read with every SKU snapshot stays the truth; this only lets a process
    refresh its caches before the next request asks (PostgreSQL: a NOTIFY hint, and a poll as
    the safety net).
    """

    def watch_data_version(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(version)`` on the event loop whenever the data version changes
        (whichever process wrote), within the store's poll interval."""

    async def wait_for_changes(self, within: float) -> bool:
        """Wait up to ``within`` seconds for a hint that some process committed change-log
        entries (then read them with ``changes_since``); False when none came."""
