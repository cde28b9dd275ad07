"""Availability facts answer exactly what the inheritance engine answers.

The storefront reads precomputed facts (docs/architecture.md); ``explain`` and cart checks walk
the engine. Both must agree on every answer, for every SKU, channel and customer group, after
any sequence of writes: random configurations at every level, source items, links, disabled
sources, deleted products, orders, shipments, refunds.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.catalog import dump_config
from gateway.domain.availability import Availability
from gateway.domain.cart import RequestedLine
from gateway.domain.options import OPTIONS, Level
from gateway.services import Services, build_services
from gateway.store.sqlite import SqliteStore
from tests.support import SHOP
from tests.unit.test_properties import level_config

CHANNELS = ("eu_website", "us_website")
GROUPS = (None, "wholesale", "retail", "nobody")
SKUS = [*sorted({p["sku"] for p in SHOP["products"]}), "UNKNOWN"]


def answer(a: Availability | None) -> tuple[Any, ...] | None:
    """Everything a storefront can be told (the settings' values, not their provenance)."""
    if a is None:
        return None
    r = a.rules
    return (a.sku, a.stock_id, a.is_assigned, a.any_in_stock, a.is_salable, a.salable_qty,
            a.left_to_sell, a.physical, a.reserved, a.only_x_left, a.low_stock,
            a.stock_status, r.manage_stock, r.backorders, r.min_sale_qty, r.max_sale_qty,
            r.qty_increments, r.is_qty_decimal, r.is_decimal_divided, r.show_out_of_stock,
            r.unlimited_backorders, r.adapted_min_qty, r.notify_stock_qty,
            r.stock_threshold_qty)


async def assert_facts_agree(services: Services) -> int:
    """Compare both reads everywhere; returns how many answers were compared."""
    compared = 0
    for channel in CHANNELS:
        for group in GROUPS:
            facts = await services.storefront.availability(channel, SKUS, group)
            engine = await services.storefront.availability(channel, SKUS, group,
                                                            provenance=True)
            for sku, f, e in zip(SKUS, facts, engine, strict=True):
                assert answer(f) == answer(e), (channel, group, sku)
                compared += 1
    return compared


@contextmanager
def opened(tmp: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, Services, SqliteStore]]:
    loop = asyncio.new_event_loop()
    store = SqliteStore(tmp / "gateway.sqlite3")
    try:
        loop.run_until_complete(store.open())
        services = build_services(store)
        assert loop.run_until_complete(services.catalog.import_document(SHOP, replace=True)) == []
        yield loop, services, store
    finally:
        loop.run_until_complete(store.close())
        loop.close()


async def test_facts_agree_with_the_engine_on_the_test_shop(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "gateway.sqlite3")
    await store.open()
    try:
        services = build_services(store)
        assert await services.catalog.import_document(SHOP, replace=True) == []
        assert await assert_facts_agree(services) == len(CHANNELS) * len(GROUPS) * len(SKUS)
    finally:
        await store.close()


WRITES = st.one_of(
    st.tuples(st.just("global"), level_config(Level.GLOBAL)),
    st.tuples(st.just("stock"), st.sampled_from([10, 20]), level_config(Level.STOCK)),
    st.tuples(st.just("product"), st.sampled_from(SKUS[:-1]), level_config(Level.PRODUCT)),
    st.tuples(st.just("item"), st.sampled_from(SKUS[:-1]),
              st.sampled_from(["eu-1", "eu-2", "eu-off", "us-1"]),
              st.integers(-2, 40).map(Decimal), st.booleans(),
              level_config(Level.SOURCE_ITEM)),
    st.tuples(st.just("source"), st.sampled_from(["eu-1", "eu-2", "eu-off"]), st.booleans()),
    st.tuples(st.just("links"), st.sampled_from([["eu-1"], ["eu-2", "eu-1"], ["eu-off"]])),
    st.tuples(st.just("delete"), st.sampled_from(SKUS[:-1])),
    st.tuples(st.just("order"), st.sampled_from(SKUS[:-1]), st.integers(1, 6)),
)


def _plain(config: dict[str, Any]) -> dict[str, Any]:
    return dump_config(config)


async def apply(services: Services, write: tuple[Any, ...], n: int) -> None:
    """Apply one write; refusals are fine (the point is the state afterwards)."""
    admin = services.admin
    kind = write[0]
    if kind == "global":
        patch = {**dict.fromkeys(_plain_names(Level.GLOBAL)), **_plain(write[1])}
        await admin.set_global_config(patch)
    elif kind == "stock":
        await admin.set_stock_config(write[1], {**dict.fromkeys(_plain_names(Level.STOCK)),
                                                **_plain(write[2])})
    elif kind == "product":
        await admin.set_product_config(write[1], {**dict.fromkeys(_plain_names(Level.PRODUCT)),
                                                  **_plain(write[2])})
    elif kind == "item":
        _, sku, source, quantity, in_stock, config = write
        await admin.set_source_items([{
            "sku": sku, "source": source, "quantity": int(quantity),
            "status": "in_stock" if in_stock else "out_of_stock", "config": _plain(config)}])
    elif kind == "source":
        await admin.upsert_source({"code": write[1], "name": write[1], "enabled": write[2]})
    elif kind == "links":
        await admin.upsert_stock({"id": 10, "name": "EU", "channels": ["eu_website"],
                                  "sources": [{"code": c, "priority": i + 1}
                                              for i, c in enumerate(write[1])]})
    elif kind == "delete":
        await admin.delete_product(write[1])
    else:
        _, sku, qty = write
        order_id = f"o{n}"
        placed = await services.orders.place_order(order_id, "eu_website",
                                                   [RequestedLine(sku, qty)])
        if placed.ok and n % 3 == 0:
            await services.orders.ship_order(order_id)
        if placed.ok and n % 3 == 1:
            await services.orders.cancel_order(order_id)
        if placed.ok and n % 3 == 0 and n % 2 == 0:
            await services.orders.refund_order(order_id)


def _plain_names(level: Level) -> list[str]:
    return [name for name, option in OPTIONS.items() if level in option.levels]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(writes=st.lists(WRITES, min_size=1, max_size=8))
def test_facts_agree_with_the_engine_after_any_writes(writes: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, opened(Path(tmp)) as (loop, services, _):
        for n, write in enumerate(writes):
            loop.run_until_complete(apply(services, write, n))
            loop.run_until_complete(assert_facts_agree(services))


async def test_facts_survive_a_restart_and_a_stale_facts_version(tmp_path: Path) -> None:
    """Opening a database whose facts were computed by another version rebuilds them all."""
    import sqlite3

    path = tmp_path / "gateway.sqlite3"
    store = SqliteStore(path)
    await store.open()
    services = build_services(store)
    assert await services.catalog.import_document(SHOP, replace=True) == []
    before = [answer(a) for a in await services.storefront.availability("eu_website", SKUS)]
    await store.close()
    with sqlite3.connect(path) as conn:  # as an older version would have left them
        conn.execute("UPDATE stock_facts SET rules = '{}', physical = '0', known = 0")
        conn.execute("UPDATE meta SET facts_version = 0")
    conn.close()
    store = SqliteStore(path)
    await store.open()
    try:
        services = build_services(store)
        after = [answer(a) for a in await services.storefront.availability("eu_website", SKUS)]
        assert after == before
        assert await assert_facts_agree(services) > 0
    finally:
        await store.close()
