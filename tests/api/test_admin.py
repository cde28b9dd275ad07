"""Back-office administration: every level of the chain, field-level problems, reads."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_storefront import availability, explain
from tests.support import SHOP, TOKEN, Api

RESULT = "{ ok errors { path message } }"


async def admin(api: Api, query: str, **variables: Any) -> dict[str, Any]:
    data = await api.data(query, variables, token=TOKEN)
    result: dict[str, Any] = next(iter(data.values()))
    return result


async def test_global_config_set_and_cleared(api: Api) -> None:
    query = f"mutation($c: JSON!) {{ setGlobalConfig(config: $c) {RESULT} }}"
    assert await admin(api, query, c={"backorders": "allow"}) == {"ok": True, "errors": []}
    (shirt,) = await availability(api, "SHIRT")
    assert shirt is not None and shirt["backorders"] == "ALLOW"
    assert (await explain(api, "SHIRT"))["backorders"]["level"] == "GLOBAL"
    # other global options are untouched by a patch
    assert (await explain(api, "SHIRT", group="wholesale"))["min_sale_qty"]["value"] == "10"
    assert (await admin(api, query, c={"backorders": None}))["ok"] is True
    assert (await explain(api, "SHIRT"))["backorders"]["level"] == "DEFAULT"


@pytest.mark.parametrize(("config", "paths"), [
    ({"backorders": "sometimes"}, ["config.backorders"]),
    ({"qty_increments": 2.5, "min_sale_qty": -1}, ["config.min_sale_qty",
                                                   "config.qty_increments"]),
    ({"is_qty_decimal": True}, ["config.is_qty_decimal"]),  # not settable globally
    ({"nonsense": 1}, ["config.nonsense"]),
    ([1, 2], ["config"]),
])
async def test_global_config_problems_change_nothing(api: Api, config: Any,
                                                     paths: list[str]) -> None:
    before = await api.services.catalog.export_document()
    result = await admin(api, f"mutation($c: JSON!) {{ setGlobalConfig(config: $c) {RESULT} }}",
                         c=config)
    assert result["ok"] is False
    assert sorted(e["path"] for e in result["errors"]) == sorted(paths)
    assert await api.services.catalog.export_document() == before


async def test_stock_and_product_levels(api: Api) -> None:
    stock = (f"mutation($id: Int!, $c: JSON!) "
             f"{{ setStockConfig(stockId: $id, config: $c) {RESULT} }}")
    assert (await admin(api, stock, id=10, c={"stock_threshold_qty": 10}))["ok"] is True
    (shirt,) = await availability(api, "SHIRT")
    assert shirt is not None and shirt["onlyXLeft"] == 7
    missing = await admin(api, stock, id=99, c={})
    assert missing["errors"][0]["path"] == "stockId"

    product = (f"mutation($s: String!, $c: JSON!) "
               f"{{ setProductConfig(sku: $s, config: $c) {RESULT} }}")
    assert (await admin(api, product, s="SHIRT", c={"min_sale_qty": 2}))["ok"] is True
    (shirt,) = await availability(api, "SHIRT")
    assert shirt is not None and shirt["quantityRule"]["minimum"] == 2
    assert (await admin(api, product, s="SHIRT", c={"min_sale_qty": None}))["ok"] is True
    (shirt,) = await availability(api, "SHIRT")
    assert shirt is not None and shirt["quantityRule"]["minimum"] == 1
    bad = await admin(api, product, s="SHIRT", c={"backorders": "x"})
    assert [e["path"] for e in bad["errors"]] == ["config.backorders"]
    assert (await admin(api, product, s="NOPE", c={}))["errors"][0]["path"] == "sku"


async def test_sources_stocks_items_and_delete(api: Api) -> None:
    upsert_source = f"mutation($s: SourceInput!) {{ upsertSource(source: $s) {RESULT} }}"
    assert (await admin(api, upsert_source, s={"code": "eu-3", "name": "Lyon",
                                                "latitude": 45.76, "longitude": 4.83}))["ok"]
    upsert_stock = f"mutation($s: StockInput!) {{ upsertStock(stock: $s) {RESULT} }}"
    stock = {"id": 10, "name": "EU", "channels": ["eu_website", "fr_website"],
             "sources": [{"code": "eu-1", "priority": 1}, {"code": "eu-2", "priority": 2},
                         {"code": "eu-3", "priority": 3}]}
    assert (await admin(api, upsert_stock, s=stock))["ok"] is True
    items = f"mutation($i: [SourceItemInput!]!) {{ setSourceItems(items: $i) {RESULT} }}"
    result = await admin(api, items, i=[
        {"sku": "SHIRT", "source": "eu-3", "quantity": 10, "status": "IN_STOCK"},
        {"sku": "SHIRT", "source": "eu-1", "quantity": 1.00001, "status": "IN_STOCK"},
        {"sku": "SHIRT", "source": "mars", "quantity": 1, "status": "IN_STOCK"}])
    assert [e["path"] for e in result["errors"]] == ["items[1].quantity", "items[2].source"]
    assert (await admin(api, items, i=[{"sku": "SHIRT", "source": "eu-3", "quantity": 10,
                                        "status": "IN_STOCK",
                                        "config": {"backorders": "allow"}}]))["ok"] is True
    (shirt,) = await availability(api, "SHIRT", channel="fr_website")
    assert shirt is not None and shirt["salableQty"] == 17 and shirt["backorders"] == "ALLOW"

    reads = await api.data("""{ sources { code enabled } stocks { id channels sources
        { sourceCode priority } settings { name value } }
        product(sku: "SHIRT") { name settings { name } sourceItems { sourceCode quantity
        status settings { name value } } }
        inventoryConfig { settings { name value } options { name default levels } } }""",
                           token=TOKEN)
    assert {"code": "eu-off", "enabled": False} in reads["sources"]
    assert reads["stocks"][0]["channels"] == ["eu_website", "fr_website"]
    assert {"sourceCode": "eu-3", "quantity": 10, "status": "IN_STOCK",
            "settings": [{"name": "backorders", "value": "allow"}]} in \
        reads["product"]["sourceItems"]
    assert reads["inventoryConfig"]["settings"] == [
        {"name": "min_sale_qty_by_group", "value": {"wholesale": 10}}]
    options = {o["name"]: o for o in reads["inventoryConfig"]["options"]}
    assert options["backorders"]["levels"] == ["SOURCE_ITEM", "PRODUCT", "STOCK", "GLOBAL"]
    assert options["max_sale_qty"]["default"] == 10000

    delete = f"mutation($s: String!) {{ deleteProduct(sku: $s) {RESULT} }}"
    assert (await admin(api, delete, s="SHIRT"))["ok"] is True
    assert await availability(api, "SHIRT") == [None]
    assert (await admin(api, delete, s="SHIRT"))["ok"] is False


async def test_too_many_source_items_are_refused(api: Api) -> None:
    many = [{"sku": "SHIRT", "source": "eu-1", "quantity": 1, "status": "IN_STOCK"}] * 10_001
    result = await admin(api, f"mutation($i: [SourceItemInput!]!) "
                              f"{{ setSourceItems(items: $i) {RESULT} }}", i=many)
    assert result["ok"] is False and result["errors"][0]["path"] == "items"


async def test_a_change_is_visible_to_another_worker(make_api: Any) -> None:
    async with make_api() as first, make_api() as second:
        await first.load(SHOP)
        assert (await availability(second, "SHIRT"))[0]["quantityRule"]["minimum"] == 1  # type: ignore[index]
        await admin(first, f"mutation {{ setProductConfig(sku: \"SHIRT\", config: "
                           f"{{min_sale_qty: 3}}) {RESULT} }}")
        assert (await availability(second, "SHIRT"))[0]["quantityRule"]["minimum"] == 3  # type: ignore[index]
