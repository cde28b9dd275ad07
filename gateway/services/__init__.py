"""Use cases: thin orchestration over the store, with every rule left to the domain.

All services share one :class:`~gateway.services.reader.InventoryReader` (the topology cache
and the bulk SKU load), built once per process by :func:`build_services` (or opened with their
store by :func:`gateway.services.runtime.open_services`). Callers above this layer (the API,
the command line) reach the database only through these services; :class:`StoreError` is
re-exported here because it is part of what a use case may raise.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.services.admin import AdminService
from gateway.services.catalog import CatalogService
from gateway.services.health import HealthService
from gateway.services.lint import LintService
from gateway.services.orders import OrderService
from gateway.services.reader import InventoryReader
from gateway.services.stock_events import StockEventService
from gateway.services.storefront import StorefrontService
from gateway.store.errors import StoreError
from gateway.store.protocol import Store

__all__ = ["Services", "StoreError", "build_services"]


@dataclass(frozen=True)
class Services:
    """Every use case of the gateway over one store."""

    reader: InventoryReader
    storefront: StorefrontService
    orders: OrderService
    catalog: CatalogService
    admin: AdminService
    lint: LintService
    health: HealthService
    stock_events: StockEventService

    @property
    def store(self) -> Store:
        return self.reader.store


def build_services(store: Store) -> Services:
    """The services of one process over ``store`` (which the caller opens and closes)."""
    reader = InventoryReader(store)
    catalog = CatalogService(reader)
    return Services(reader=reader, storefront=StorefrontService(reader),
                    orders=OrderService(reader), catalog=catalog,
                    admin=AdminService(reader, catalog), lint=LintService(reader),
                    health=HealthService(reader), stock_events=StockEventService(reader))
