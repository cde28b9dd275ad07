"""The Store contract, run against every backend of ``conftest.BACKENDS``.

Only the tests marked "sqlite-specific" look below the Protocol (schema table, triggers).
"""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.domain.options import Backorders, Level
from gateway.domain.orders import Order, OrderSku, PlacedLine
from gateway.domain.records import (
    Catalog,
    LinkRecord,
    ProductRecord,
    ReservationRecord,
    SourceItemRecord,
    SourceRecord,
    StockRecord,
)
from gateway.store.errors import ConstraintViolation
from gateway.store.protocol import Store
from gateway.store.schema import SCHEMA_VERSION, SchemaError
from gateway.store.sqlite import SqliteStore
from tests.store.conftest import OpenStore, cfg, rich_catalog

D = Decimal


# -- round trip and basic reads ---------------------------------------------------------


async def test_round_trip_of_a_rich_catalog(store: Store) -> None:
    catalog = rich_catalog()
    await store.import_catalog(catalog, replace=False)
    exported = await store.export_catalog()
    assert exported == catalog
    # typed values, not JSON leftovers
    assert exported.config is not None
    assert exported.config["backorders"] is Backorders.NO
    assert exported.config["min_sale_qty_by_group"] == {"wholesale": D(10), "retail": D("2.5")}
    assert isinstance(exported.products[1].config["qty_increments"], Decimal)
    assert exported.source_items[1].quantity == D("-9.33")
    # exporting again and re-importing into an emptied store changes nothing
    await store.import_catalog(exported, replace=True)
    again = await store.export_catalog()
    assert again.reservations == catalog.reservations
    assert again == catalog


async def test_export_orders_everything_stably(store: Store) -> None:
    catalog = rich_catalog()
    shuffled = Catalog(config=catalog.config, sources=catalog.sources[::-1],
                       stocks=catalog.stocks[::-1], products=catalog.products[::-1],
                       source_items=catalog.source_items[::-1],
                       reservations=catalog.reservations)
    await store.import_catalog(shuffled, replace=False)
    exported = await store.export_catalog()
    assert [s.code for s in exported.sources] == ["eu-1", "eu-2", "us-1"]
    assert [s.id for s in exported.stocks] == [10, 20]
    # links by priority then code, channels sorted
    assert exported.stocks[1].sources == (LinkRecord("eu-1", 3), LinkRecord("us-1", 3))
    assert exported.stocks[0].channels == ("eu_b2b", "eu_website")
    assert [p.sku for p in exported.products] == ["SKU-1", "SKU-2", "SKU-3"]
    assert [(i.sku, i.source) for i in exported.source_items] == [
        ("SKU-1", "eu-1"), ("SKU-1", "eu-2"), ("SKU-2", "eu-1"), ("SKU-2", "us-1")]


async def test_empty_store_exports_an_empty_catalog(store: Store) -> None:
    assert await store.export_catalog() == Catalog(config={})
    assert await store.known_source_codes() == set()
    assert await store.known_skus(["SKU-1"]) == set()


async def test_load_topology(store: Store) -> None:
    await store.import_catalog(rich_catalog(), replace=False)
    topology = await store.load_topology()
    assert topology.version == await store.data_version()
    assert topology.global_config["stock_threshold_qty"] == D(3)
    assert list(topology.sources) == ["eu-1", "eu-2", "us-1"]
    assert topology.sources["eu-2"].enabled is False
    assert topology.stocks[10].config == {"stock_threshold_qty": D(5),
                                          "backorders": Backorders.ALLOW}
    assert topology.stocks[10].sources == (LinkRecord("eu-2", 1), LinkRecord("eu-1", 2))
    assert topology.channels == {"eu_b2b": 10, "eu_website": 10, "us_website": 20}


async def test_known_codes_and_skus(store: Store) -> None:
    await store.import_catalog(rich_catalog(), replace=False)
    assert await store.known_source_codes() == {"eu-1", "eu-2", "us-1"}
    assert await store.known_skus(["SKU-3", "nope", "SKU-1", "SKU-1"]) == {"SKU-1", "SKU-3"}
    assert await store.known_skus([]) == set()


# -- load_skus --------------------------------------------------------------------------


async def test_load_skus_returns_products_items_and_totals(store: Store) -> None:
    await store.import_catalog(rich_catalog(), replace=False)
    data = await store.load_skus(["SKU-1", "SKU-3", "unknown"], 10)
    assert set(data.products) == {"SKU-1", "SKU-3"}
    assert data.products["SKU-1"].config["min_qty"] == D(-5)
    assert [i.source for i in data.source_items["SKU-1"]] == ["eu-1", "eu-2"]
    assert data.source_items["SKU-3"] == ()
    assert "unknown" not in data.source_items
    assert data.reserved == {"SKU-1": D("-0.5")}
    assert (await store.load_skus(["SKU-1"], 20)).reserved == {"SKU-1": D(-1)}
    assert (await store.load_skus(["SKU-1"], 99)).reserved == {}


async def test_load_skus_costs_the_same_statements_for_1_and_500_skus(store: Store) -> None:
    skus = [f"SKU-{n:04}" for n in range(500)]
    await store.import_catalog(Catalog(
        sources=(SourceRecord("s", "S"),),
        stocks=(StockRecord(1, "one", ("web",), (LinkRecord("s", 1),)),),
        products=tuple(ProductRecord(sku) for sku in skus),
        source_items=tuple(SourceItemRecord(sku, "s", D(n), True) for n, sku in enumerate(skus)),
        reservations=tuple(ReservationRecord(sku, 1, D(-1)) for sku in skus),
    ), replace=False)
    assert hasattr(store, "statements")  # the counter is backend instrumentation

    before = store.statements
    one = await store.load_skus(skus[:1], 1)
    cost_one = store.statements - before

    before = store.statements
    many = await store.load_skus(skus, 1)
    cost_many = store.statements - before

    assert cost_one == cost_many == 1
    assert len(one.products) == 1
    assert len(many.products) == 500
    assert many.source_items["SKU-0499"][0].quantity == D(499)
    assert many.reserved["SKU-0250"] == D(-1)


async def test_a_placements_first_read_is_the_order_lookup_and_the_sku_read_at_once(
        store: Store) -> None:
    """What ``get_order`` then ``load_skus`` answer, in one statement (one round trip):
    unknown order id: no order and the SKU data; taken id: the order, no SKU data."""
    await store.import_catalog(rich_catalog(), replace=False)
    skus = ["SKU-1", "SKU-3", "unknown"]
    expected = await store.load_skus(skus, 10)
    placed = Order("o-1", "eu_website", 10, None, (OrderSku("SKU-3", D(1), False),),
                   lines=(PlacedLine("SKU-3", D(1)),), request_key="key")
    # A round trip: a statement on PostgreSQL, a hop to the writer thread on SQLite.
    trips = "hops" if isinstance(store, SqliteStore) else "statements"
    async with store.transaction() as tx:
        before = getattr(store, trips)
        found, data = await tx.load_placement("o-1", skus, 10)
        assert getattr(store, trips) - before == 1
        assert found is None and data == expected
        await tx.save_order(placed, new=True)
    async with store.transaction() as tx:
        found, data = await tx.load_placement("o-1", skus, 10)
        assert found == placed and data.products == {}


# -- merge, replace, rollback -------------------------------------------------------------


async def test_merge_upserts_by_key(store: Store) -> None:
    base = rich_catalog()
    await store.import_catalog(base, replace=False)
    await store.import_catalog(Catalog(
        config=None,  # no section: the global config stays
        sources=(SourceRecord("eu-2", "EU 2 renamed", True), SourceRecord("new", "New")),
        stocks=(StockRecord(20, "US+", ("eu_website", "us_website"), (LinkRecord("new", 1),),
                            cfg({"backorders": "allow"}, Level.STOCK)),),
        products=(ProductRecord("SKU-3", "Hat", cfg({"max_sale_qty": 7}, Level.PRODUCT)),
                  ProductRecord("SKU-4", "Shoe")),
        source_items=(SourceItemRecord("SKU-1", "eu-1", D(1), False),
                      SourceItemRecord("SKU-4", "new", D(3), True)),
        reservations=(ReservationRecord("SKU-1", 10, D("0.5")),),
    ), replace=False)

    out = await store.export_catalog()
    assert out.config == base.config
    assert {s.code: s.name for s in out.sources} == {
        "eu-1": "EU warehouse 1", "eu-2": "EU 2 renamed", "new": "New", "us-1": "US warehouse"}
    assert next(s for s in out.sources if s.code == "eu-2") == SourceRecord(
        "eu-2", "EU 2 renamed", True)  # every field upserted, coordinates cleared
    stock10, stock20 = out.stocks
    assert stock10 == StockRecord(10, "EU stock", ("eu_b2b",), base.stocks[0].sources,
                                  base.stocks[0].config)  # eu_website moved away
    assert stock20 == StockRecord(20, "US+", ("eu_website", "us_website"),
                                  (LinkRecord("new", 1),), {"backorders": Backorders.ALLOW})
    assert [(p.sku, p.name) for p in out.products] == [
        ("SKU-1", "Shirt"), ("SKU-2", "Fabric"), ("SKU-3", "Hat"), ("SKU-4", "Shoe")]
    assert out.products[2].config == {"max_sale_qty": D(7)}
    assert out.source_items[0] == SourceItemRecord("SKU-1", "eu-1", D(1), False)  # config gone
    assert len(out.source_items) == 5
    assert len(out.reservations) == 5
    assert (await store.load_skus(["SKU-1"], 10)).reserved.get("SKU-1", D(0)) == 0  # absent = 0
    assert (await store.load_topology()).channels["eu_website"] == 20


async def test_config_section_replaces_the_whole_global_config(store: Store) -> None:
    await store.import_catalog(rich_catalog(), replace=False)
    await store.import_catalog(Catalog(config=cfg({"min_qty": 2}, Level.GLOBAL)), replace=False)
    assert (await store.load_topology()).global_config == {"min_qty": D(2)}
    await store.import_catalog(Catalog(config={}), replace=False)
    assert (await store.load_topology()).global_config == {}


async def test_replace_starts_from_an_empty_store(store: Store) -> None:
    await store.import_catalog(rich_catalog(), replace=False)
    small = Catalog(config={}, sources=(SourceRecord("x", "X"),),
                    stocks=(StockRecord(1, "only", ("web",), (LinkRecord("x", 1),)),),
                    products=(ProductRecord("P", "p"),),
                    source_items=(SourceItemRecord("P", "x", D(2), True),),
                    reservations=(ReservationRecord("P", 1, D(-1)),))
    await store.import_catalog(small, replace=True)
    assert await store.export_catalog() == small
    data = await store.load_skus(["SKU-1", "P"], 10)
    assert set(data.products) == {"P"}
    assert data.reserved == {}  # SKU-1's old totals went with its reservations
    assert (await store.load_skus(["P"], 1)).reserved == {"P": D(-1)}


@pytest.mark.parametrize("replace", [False, True])
async def test_a_failing_import_writes_nothing(store: Store, replace: bool) -> None:
    await store.import_catalog(rich_catalog(), replace=False)
    before = await store.export_catalog()
    version = await store.data_version()
    broken = Catalog(
        config={},
        sources=(SourceRecord("added", "Added"),),
        products=(ProductRecord("SKU-9", "new"),),
        # the last item references a source that does not exist: the foreign key fails
        source_items=(SourceItemRecord("SKU-9", "added", D(1), True),
                      SourceItemRecord("SKU-9", "missing", D(1), True)),
        reservations=(ReservationRecord("SKU-1", 10, D(-1)),),
    )
    with pytest.raises(ConstraintViolation):
        await store.import_catalog(broken, replace=replace)
    assert await store.export_catalog() == before
    assert await store.data_version() == version
    assert (await store.load_skus(["SKU-1"], 10)).reserved == {"SKU-1": D("-0.5")}
    # the store is usable afterwards
    await store.import_catalog(Catalog(products=(ProductRecord("SKU-9"),)), replace=False)
    assert await store.known_skus(["SKU-9"]) == {"SKU-9"}


async def test_a_bad_link_priority_is_refused_by_the_schema(store: Store) -> None:
    await store.import_catalog(rich_catalog(), replace=False)
    before = await store.export_catalog()
    with pytest.raises(ConstraintViolation):
        await store.import_catalog(Catalog(stocks=(
            StockRecord(10, "EU", (), (LinkRecord("eu-1", 0),)),)), replace=False)
    assert await store.export_catalog() == before


# -- reservations ---------------------------------------------------------------------------


async def test_reservation_totals_are_the_exact_decimal_sum(store: Store) -> None:
    await store.import_catalog(Catalog(
        sources=(SourceRecord("s", "S"),), stocks=(StockRecord(1, "one"), StockRecord(2, "two")),
        products=(ProductRecord("A"), ProductRecord("B"))), replace=False)
    # 0.1 and 0.0001 are not exact in binary floating point: a float SUM would drift.
    for batch in range(5):
        await store.import_catalog(Catalog(reservations=tuple(
            ReservationRecord(sku, stock, qty)
            for sku in ("A", "B") for stock in (1, 2)
            for qty in (D("0.1"), D("-0.0001"), D("-9.33"), D("8.5"), D(batch)))),
            replace=False)
    reservations = (await store.export_catalog()).reservations
    assert len(reservations) == 5 * 2 * 2 * 5
    for stock in (1, 2):
        data = await store.load_skus(["A", "B"], stock)
        for sku in ("A", "B"):
            expected = sum((r.quantity for r in reservations
                            if r.sku == sku and r.stock == stock), D(0))
            assert data.reserved[sku] == expected == D("-3.6505") + D(10)


async def test_concurrent_imports_are_serialised(store: Store) -> None:
    await store.import_catalog(Catalog(products=(ProductRecord("A"),),
                                       stocks=(StockRecord(1, "one"),)), replace=False)
    version = await store.data_version()
    await asyncio.gather(*(
        store.import_catalog(Catalog(reservations=(ReservationRecord("A", 1, D("-0.1")),)),
                             replace=False) for _ in range(20)))
    assert (await store.load_skus(["A"], 1)).reserved == {"A": D("-2.0")}
    assert await store.data_version() == version + 20


# -- data version, lifecycle, schema --------------------------------------------------------


async def test_data_version_bumps_on_every_write_and_is_shared(
        store: Store, open_store: OpenStore) -> None:
    other = await open_store()
    start = await store.data_version()
    assert await other.data_version() == start
    await store.import_catalog(rich_catalog(), replace=False)
    assert await store.data_version() == start + 1
    assert await other.data_version() == start + 1
    await other.import_catalog(Catalog(reservations=(ReservationRecord("SKU-1", 10, D(1)),)),
                               replace=False)
    assert await store.data_version() == start + 2
    assert (await store.load_skus(["SKU-1"], 10)).reserved == {"SKU-1": D("0.5")}
    assert (await store.load_topology()).version == start + 2


async def test_reopening_keeps_data_and_close_is_idempotent(
        store: Store, open_store: OpenStore) -> None:
    await store.import_catalog(rich_catalog(), replace=False)
    version = await store.data_version()
    await store.close()
    await store.close()
    reopened = await open_store()
    assert await reopened.export_catalog() == rich_catalog()
    assert await reopened.data_version() == version
    await reopened.open()  # already open: no-op


async def test_a_closed_store_refuses_work(store: Store) -> None:
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await store.data_version()


# -- sqlite-specific ------------------------------------------------------------------------


#: The tests below are about the SQLite file itself: they run on that backend only (a direct
#: parametrization overrides the backend fixture's list).
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


def _db_file(store: Store) -> Path:
    assert isinstance(store, SqliteStore)
    return store.path


@sqlite_only
async def test_sqlite_schema_version_and_pragmas(store: Store) -> None:
    path = _db_file(store)
    with sqlite3.connect(path) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


@sqlite_only
async def test_sqlite_refuses_a_newer_schema(store: Store, tmp_path: Path) -> None:
    path = _db_file(store)
    await store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    conn.close()
    newer = SqliteStore(path)
    with pytest.raises(SchemaError):
        await newer.open()
    await newer.close()


@sqlite_only
async def test_sqlite_reservations_are_append_only(store: Store) -> None:
    await store.import_catalog(rich_catalog(), replace=False)
    with sqlite3.connect(_db_file(store)) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE reservations SET quantity = '5'")
    conn.close()


def test_sqlite_needs_a_file() -> None:
    with pytest.raises(ValueError, match="file"):
        SqliteStore(":memory:")


async def test_reads_never_see_an_unfinished_import(store: Store) -> None:
    skus = [f"P{n:05}" for n in range(3000)]
    await store.import_catalog(Catalog(sources=(SourceRecord("s", "S"),),
                                       stocks=(StockRecord(1, "one"),)), replace=False)
    big = Catalog(products=tuple(ProductRecord(sku) for sku in skus),
                  source_items=tuple(SourceItemRecord(sku, "s", D(1), True) for sku in skus),
                  reservations=tuple(ReservationRecord(sku, 1, D(-1)) for sku in skus))
    task = asyncio.create_task(store.import_catalog(big, replace=False))
    seen: set[int] = set()
    while not task.done():
        data = await store.load_skus(skus, 1)
        # all or nothing: never products without their items or totals
        assert (len(data.products), sum(map(len, data.source_items.values())),
                len(data.reserved)) in {(0, 0, 0), (3000, 3000, 3000)}
        seen.add(len(data.products))
        await asyncio.sleep(0)  # small reads answer on the loop without yielding
    await task
    assert len((await store.load_skus(skus, 1)).products) == 3000
    assert 0 in seen  # the reads really ran while the import was in progress


async def test_reads_never_see_an_import_that_rolls_back(store: Store) -> None:
    skus = [f"P{n:05}" for n in range(3000)]
    await store.import_catalog(Catalog(sources=(SourceRecord("s", "S"),),
                                       stocks=(StockRecord(1, "one"),)), replace=False)
    doomed = Catalog(products=tuple(ProductRecord(sku) for sku in skus),
                     source_items=(*(SourceItemRecord(sku, "s", D(1), True) for sku in skus),
                                   SourceItemRecord(skus[0], "missing", D(1), True)))
    task = asyncio.create_task(store.import_catalog(doomed, replace=False))
    reads = 0
    while not task.done():
        assert await store.known_skus(skus) == set()
        reads += 1
        await asyncio.sleep(0)  # reads of the storefront answer on the loop without yielding
    with pytest.raises(ConstraintViolation):
        await task
    assert reads > 0
    assert await store.known_skus(skus) == set()
