"""Backend fixtures: every test in this package runs against each store backend.

Following strawberry's pattern, the backend is a fixture parameter: SQLite, PostgreSQL, and
PostgreSQL once more in a database whose transactions are all SERIALIZABLE (the retry path
that CockroachDB makes routine). The PostgreSQL variants skip, with the reason, when no server
can be started (see tests/postgres_support.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.domain.options import Level, OptionValue, parse_config
from gateway.domain.records import (
    Catalog,
    LinkRecord,
    ProductRecord,
    ReservationRecord,
    SourceItemRecord,
    SourceRecord,
    StockRecord,
)
from gateway.store.postgres import PostgresStore
from gateway.store.protocol import Store
from gateway.store.sqlite import SqliteStore
from tests.postgres_support import start_server

BACKENDS = ["sqlite", "postgresql", "postgresql-serializable"]

OpenStore = Callable[[], Awaitable[Store]]
D = Decimal


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    """Where the test's stores live: a SQLite file, or a fresh PostgreSQL database."""
    if backend == "sqlite":
        yield str(tmp_path / "gateway.sqlite3")
        return
    server = start_server()
    url = server.create_database(serializable=backend == "postgresql-serializable")
    yield url
    server.drop_database(url)


def _make(backend: str, database: str) -> Store:
    if backend == "sqlite":
        return SqliteStore(database)
    return PostgresStore(database, pool_size=4)


@pytest.fixture
async def open_store(backend: str, database: str) -> AsyncIterator[OpenStore]:
    """Opens another store on the same database (a second process, or a restart)."""
    opened: list[Store] = []

    async def factory() -> Store:
        store = _make(backend, database)
        await store.open()
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_store: OpenStore) -> Store:
    """An opened, empty store; closed at teardown."""
    return await open_store()


def cfg(raw: Mapping[str, object], level: Level) -> dict[str, OptionValue]:
    """Typed option values, parsed exactly the way the catalog file is."""
    values, problems = parse_config(raw, level)
    assert problems == []
    return values


def rich_catalog() -> Catalog:
    return Catalog(
        config=cfg({"manage_stock": True, "backorders": "no", "min_qty": 0, "min_sale_qty": 1,
                    "min_sale_qty_by_group": {"wholesale": 10, "retail": 2.5},
                    "max_sale_qty": 10000, "notify_stock_qty": 1,
                    "enable_qty_increments": False, "qty_increments": 1,
                    "stock_threshold_qty": 3, "auto_return": False}, Level.GLOBAL),
        sources=(
            SourceRecord("eu-1", "EU warehouse 1", True, 48.85, 2.35, "FR", "75001"),
            SourceRecord("eu-2", "EU warehouse 2", False, -33.8688, 151.2093, "DE", None),
            SourceRecord("us-1", "US warehouse"),
        ),
        stocks=(
            StockRecord(10, "EU stock", ("eu_b2b", "eu_website"),
                        (LinkRecord("eu-2", 1), LinkRecord("eu-1", 2)),
                        cfg({"stock_threshold_qty": 5, "backorders": "allow"}, Level.STOCK)),
            StockRecord(20, "US stock", ("us_website",),
                        (LinkRecord("eu-1", 3), LinkRecord("us-1", 3))),
        ),
        products=(
            ProductRecord("SKU-1", "Shirt", cfg({"backorders": "allow_notify", "min_qty": -5,
                                                "min_sale_qty_by_group": {"b2b": 4}},
                                               Level.PRODUCT)),
            ProductRecord("SKU-2", "Fabric", cfg({"is_qty_decimal": True,
                                                 "is_decimal_divided": True,
                                                 "enable_qty_increments": True,
                                                 "qty_increments": 0.5, "manage_stock": True},
                                                Level.PRODUCT)),
            ProductRecord("SKU-3", ""),
        ),
        source_items=(
            SourceItemRecord("SKU-1", "eu-1", D("8.5"), True,
                             cfg({"notify_stock_qty": 2, "backorders": "no"}, Level.SOURCE_ITEM)),
            SourceItemRecord("SKU-1", "eu-2", D("-9.33"), False),
            SourceItemRecord("SKU-2", "eu-1", D("0.0001"), True,
                             cfg({"is_qty_decimal": True}, Level.SOURCE_ITEM)),
            SourceItemRecord("SKU-2", "us-1", D("99999999.9999"), True),
        ),
        reservations=(
            ReservationRecord("SKU-1", 10, D("-2"), {"event_type": "order_placed",
                                                     "order_id": "100001"}),
            ReservationRecord("SKU-2", 10, D("-0.17")),
            ReservationRecord("SKU-1", 10, D("1.5"), {"event_type": "order_canceled",
                                                      "order_id": "100001"}),
            ReservationRecord("SKU-1", 20, D("-1")),
        ),
    )
