"""A storefront request costs a constant number of SQL statements whatever the SKU count."""

from __future__ import annotations

from typing import Any

from tests.api.test_storefront import AVAILABILITY, VALIDATE
from tests.support import Api


def many_products(count: int) -> dict[str, Any]:
    return {
        "format": "availability-catalog/1",
        "products": [{"sku": f"BULK-{n:04d}"} for n in range(count)],
        "source_items": [{"sku": f"BULK-{n:04d}", "source": "eu-1", "quantity": n,
                          "status": "in_stock"} for n in range(count)],
    }


async def statements_for(api: Api, query: str, variables: dict[str, Any]) -> int:
    store: Any = api.services.store
    before = store.statements
    await api.data(query, variables)
    count: int = store.statements - before
    return count


async def test_availability_statement_count_is_constant(api: Api) -> None:
    await api.load(many_products(500), replace=False)
    skus = [f"BULK-{n:04d}" for n in range(500)]
    await api.data(AVAILABILITY, {"channel": "eu_website", "skus": skus[:1]})  # warm the cache
    one = await statements_for(api, AVAILABILITY, {"channel": "eu_website", "skus": skus[:1]})
    many = await statements_for(api, AVAILABILITY, {"channel": "eu_website", "skus": skus})
    assert one == many == 1  # products, items, totals and the data version in one statement


async def test_validate_cart_statement_count_is_constant(api: Api) -> None:
    await api.load(many_products(300), replace=False)
    lines = [{"sku": f"BULK-{n:04d}", "quantity": 1} for n in range(1, 300)]
    await api.data(VALIDATE, {"channel": "eu_website", "lines": lines[:1]})
    one = await statements_for(api, VALIDATE, {"channel": "eu_website", "lines": lines[:1]})
    many = await statements_for(api, VALIDATE, {"channel": "eu_website", "lines": lines})
    assert one == many == 1


async def test_topology_is_cached_until_the_data_version_changes(api: Api) -> None:
    variables = {"channel": "eu_website", "skus": ["SHIRT"]}
    await api.data(AVAILABILITY, variables)
    steady = await statements_for(api, AVAILABILITY, variables)
    await api.load({"format": "availability-catalog/1",
                    "config": {"stock_threshold_qty": 100}}, replace=False)
    after_write = await statements_for(api, AVAILABILITY, variables)
    assert after_write > steady  # the topology was reloaded once
    assert await statements_for(api, AVAILABILITY, variables) == steady


async def test_another_app_instance_sees_an_import_on_its_next_request(make_api: Any) -> None:
    from tests.support import SHOP

    async with make_api() as first, make_api() as second:
        await first.load(SHOP)
        query = "{ availability(channel: \"eu_website\", skus: [\"SHIRT\"]) { onlyXLeft } }"
        assert (await second.data(query))["availability"][0]["onlyXLeft"] is None
        await first.load({"format": "availability-catalog/1",
                          "stocks": [{"id": 10, "name": "EU", "channels": ["eu_website"],
                                      "sources": [{"code": "eu-1", "priority": 1},
                                                  {"code": "eu-2", "priority": 2}],
                                      "config": {"stock_threshold_qty": 50}}]}, replace=False)
        assert (await second.data(query))["availability"][0]["onlyXLeft"] == 7
