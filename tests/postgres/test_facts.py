"""Availability facts on PostgreSQL answer exactly what the inheritance engine answers, after any
sequence of writes (the same property as tests/service/test_facts.py), and the placement guard
stored in each row (``floor``, ``sellable``) is the domain's, so a placement is refused by the
guard exactly when the engine's check refuses it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.domain.facts import StockFacts, availability_of, load_rules
from gateway.services import Services, build_services
from gateway.store.postgres import PostgresStore
from gateway.store.postgres_facts import quiet_from
from tests.postgres_support import PostgresServer, query
from tests.service.test_facts import SKUS, WRITES, answer, apply, assert_facts_agree
from tests.support import SHOP

#: Offsets above a row's quiet boundary at which the domain is asked again.
ABOVE = [Decimal(x) for x in ("0", "0.0001", "0.5", "1", "7.25", "123.4567", "99999")]


def assert_guards_are_the_domains(url: str) -> int:
    """Every known row's stored floor and sellable equal what the domain derives from the
    row's own facts, and above its quiet boundary the domain's stock state never changes (so
    a placement that stays there cannot cross anything)."""
    rows = query(url, "SELECT sku, stock_id, assigned, in_stock, physical, reserved, floor, "
                      "sellable, rules, quiet_from FROM stock_facts WHERE known")
    for (sku, stock_id, assigned, in_stock, physical, reserved, floor, sellable, rules,
         quiet) in rows:
        facts = StockFacts(str(sku), int(str(stock_id)), bool(assigned), bool(in_stock),
                           Decimal(str(physical)), Decimal(str(reserved)),
                           load_rules(str(rules)))
        assert (floor, sellable) == (facts.floor, facts.sellable), sku
        assert quiet == quiet_from(facts), sku
        if quiet is not None:
            states = {(a.is_salable, a.low_stock) for a in (
                availability_of(replace(facts, reserved=Decimal(str(quiet)) + extra))
                for extra in ABOVE)}
            assert len(states) == 1, (sku, stock_id, quiet, states)
    return len(rows)


@pytest.fixture(scope="module")
def shared_database(postgres_server: PostgresServer) -> Any:
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(writes=st.lists(WRITES, min_size=1, max_size=8))
def test_facts_agree_with_the_engine_after_any_writes(shared_database: str,
                                                      writes: list[tuple[Any, ...]]) -> None:
    async def run() -> None:
        store = PostgresStore(shared_database, pool_size=2)
        await store.open()
        try:
            services = build_services(store)
            assert await services.catalog.import_document(SHOP, replace=True) == []
            for n, write in enumerate(writes):
                await apply(services, write, n)
                await assert_facts_agree(services)
            assert assert_guards_are_the_domains(shared_database) > 0
        finally:
            await store.close()

    asyncio.run(run())


async def test_stale_facts_are_rebuilt_on_open(postgres_url: str) -> None:
    store = PostgresStore(postgres_url, pool_size=2)
    await store.open()
    services: Services = build_services(store)
    assert await services.catalog.import_document(SHOP, replace=True) == []
    before = [answer(a) for a in await services.storefront.availability("eu_website", SKUS)]
    await store.close()
    # As an older version would have left them.
    query(postgres_url, "UPDATE stock_facts SET rules = '{}', physical = 0, known = FALSE, "
                        "floor = NULL, sellable = FALSE RETURNING 1")
    query(postgres_url, "UPDATE meta SET facts_version = 0 RETURNING 1")
    store = PostgresStore(postgres_url, pool_size=2)
    await store.open()
    try:
        services = build_services(store)
        after = [answer(a) for a in await services.storefront.availability("eu_website", SKUS)]
        assert after == before
        assert await assert_facts_agree(services) > 0
        assert assert_guards_are_the_domains(postgres_url) > 0
    finally:
        await store.close()
