"""The store contract every backend (SQLite now, PostgreSQL later) implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gateway.domain.records import Catalog, SkuData, Topology


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

    async def load_topology(self) -> Topology:
        """Global config, sources, stocks (links, channels, overrides) and the data version."""

    async def load_skus(self, skus: Sequence[str], stock_id: int) -> SkuData:
        """Products, their source items and their reservation totals in ``stock_id``."""

    async def import_catalog(self, catalog: Catalog, *, replace: bool) -> None:
        """Merge ``catalog`` by key (or start from empty when ``replace``) in one transaction.

        The caller has validated the catalog, including references to stored entities.
        """

    async def export_catalog(self) -> Catalog:
        """Everything stored, in a stable order (sources, stocks by id, SKUs, reservations)."""

    async def known_source_codes(self) -> set[str]:
        """Codes of every stored source (for validating references on merge)."""

    async def known_skus(self, skus: Sequence[str]) -> set[str]:
        """Which of ``skus`` exist as products."""
