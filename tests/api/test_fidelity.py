"""The Magento-fidelity rules over GraphQL (docs/rules.md §2, §5, §6, §7): shipment deduction,
the increments tolerance, can_subtract, can_back_in_stock, show_out_of_stock and "only X left"
under unlimited backorders. Each test sets up its own numbers on the shared test shop."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_admin import RESULT, admin
from tests.api.test_orders import CANCEL, ORDER, PLACE, REFUND, SHIP, lines, op
from tests.api.test_storefront import availability, codes, explain, validate
from tests.support import TOKEN, Api

SET_GLOBAL = f"mutation($c: JSON!) {{ setGlobalConfig(config: $c) {RESULT} }}"
SET_STOCK = (f"mutation($id: Int!, $c: JSON!) "
             f"{{ setStockConfig(stockId: $id, config: $c) {RESULT} }}")
SET_ITEMS = f"mutation($items: [SourceItemInput!]!) {{ setSourceItems(items: $items) {RESULT} }}"
PRODUCT = """query($sku: String!) { product(sku: $sku) {
  sourceItems { sourceCode quantity status } } }"""
CONFIG = "{ inventoryConfig { settings { name value } options { name default levels } } }"


async def upsert(api: Api, sku: str, config: dict[str, Any], **sources: float) -> None:
    """A product with items on the given EU sources (in stock)."""
    query = f"mutation($p: ProductInput!) {{ upsertProduct(product: $p) {RESULT} }}"
    assert (await admin(api, query, p={"sku": sku, "name": sku, "config": config}))["ok"]
    items = [{"sku": sku, "source": source.replace("_", "-"), "quantity": qty,
              "status": "IN_STOCK"} for source, qty in sources.items()]
    assert (await admin(api, SET_ITEMS, items=items))["ok"]


async def shelf(api: Api, sku: str) -> dict[str, tuple[float, str]]:
    data = await api.data(PRODUCT, {"sku": sku}, token=TOKEN)
    return {i["sourceCode"]: (i["quantity"], i["status"])
            for i in data["product"]["sourceItems"]}


async def salable(api: Api, sku: str) -> float:
    (entry,) = await availability(api, sku)
    assert entry is not None
    value: float = entry["salableQty"]
    return value


# --- §7 shipment deduction -------------------------------------------------------------------

async def test_issue_example_units_below_the_threshold_stay_salable(api: Api) -> None:
    # 15 + 15 on two sources, Out-of-Stock Threshold 10, order 12 shipped from the first.
    await upsert(api, "TENT", {"min_qty": 10}, eu_1=15, eu_2=15)
    assert await salable(api, "TENT") == 20
    assert (await op(api, PLACE, id="T-1", channel="eu_website",
                     lines=lines(("TENT", 12))))["ok"]
    shipped = await op(api, SHIP, id="T-1")
    assert shipped["shipments"] == [{"sourceCode": "eu-1", "sku": "TENT", "qty": 12}]
    # eu-1 keeps its 3 units in stock: 3 + 15 - 10 = 8 (not 15 - 10 = 5).
    assert await shelf(api, "TENT") == {"eu-1": (3, "IN_STOCK"), "eu-2": (15, "IN_STOCK")}
    assert await salable(api, "TENT") == 8


async def test_a_source_item_left_exactly_at_the_threshold_goes_out_of_stock(api: Api) -> None:
    await upsert(api, "TENT", {"min_qty": 10}, eu_1=15, eu_2=15)
    await op(api, PLACE, id="T-2", channel="eu_website", lines=lines(("TENT", 5)))
    assert (await op(api, SHIP, id="T-2"))["ok"]
    assert await shelf(api, "TENT") == {"eu-1": (10, "OUT_OF_STOCK"), "eu-2": (15, "IN_STOCK")}
    assert await salable(api, "TENT") == 5  # only eu-2 counts now: 15 - 10


async def test_with_backorders_a_shipment_never_flips_a_source(api: Api) -> None:
    await upsert(api, "TENT", {"backorders": "allow"}, eu_1=4)
    await op(api, PLACE, id="T-3", channel="eu_website", lines=lines(("TENT", 4)))
    assert (await op(api, SHIP, id="T-3"))["ok"]
    assert await shelf(api, "TENT") == {"eu-1": (0, "IN_STOCK")}


# --- §7 can_subtract -------------------------------------------------------------------------

async def test_without_can_subtract_orders_reserve_nothing(api: Api) -> None:
    assert (await admin(api, SET_GLOBAL, c={"can_subtract": False}))["ok"]
    assert (await explain(api, "SHIRT"))["can_subtract"]["level"] == "GLOBAL"
    placed = await op(api, PLACE, id="S-1", channel="eu_website", lines=lines(("SHIRT", 4)))
    assert placed["ok"] is True and placed["lines"][0]["reservedQty"] == 0
    assert await salable(api, "SHIRT") == 7  # nothing reserved
    # Checks still run: more than is salable is refused.
    refused = await op(api, PLACE, id="S-2", channel="eu_website", lines=lines(("SHIRT", 8)))
    assert refused["ok"] is False
    assert [e["code"] for e in refused["lines"][0]["errors"]] == ["INSUFFICIENT_STOCK"]
    # Shipping deducts the source and compensates nothing: 7 - 4 = 3.
    assert (await op(api, SHIP, id="S-1"))["ok"]
    assert await salable(api, "SHIRT") == 3
    view = (await api.data(ORDER, {"id": "S-1"}, token=TOKEN))["order"]
    assert view["reservations"] == []


async def test_an_order_placed_without_can_subtract_releases_nothing_later(api: Api) -> None:
    await admin(api, SET_GLOBAL, c={"can_subtract": False})
    await op(api, PLACE, id="S-3", channel="eu_website", lines=lines(("SHIRT", 2)))
    # Switching the option back on does not make the old order's cancellation release stock.
    await admin(api, SET_GLOBAL, c={"can_subtract": None})
    assert (await op(api, CANCEL, id="S-3"))["ok"]
    assert await salable(api, "SHIRT") == 7
    await op(api, PLACE, id="S-4", channel="eu_website", lines=lines(("SHIRT", 2)))
    assert await salable(api, "SHIRT") == 5  # on again: reserved


async def test_can_subtract_is_global_only(api: Api) -> None:
    refused = await admin(api, SET_STOCK, id=10, c={"can_subtract": False})
    assert refused["ok"] is False and refused["errors"][0]["path"] == "config.can_subtract"


# --- §7 can_back_in_stock --------------------------------------------------------------------

@pytest.mark.parametrize(("back_in_stock", "status", "salable_after"),
                         [(None, "IN_STOCK", 4), (False, "OUT_OF_STOCK", 0)])
async def test_returned_quantity_and_can_back_in_stock(api: Api, back_in_stock: bool | None,
                                                       status: str, salable_after: float) -> None:
    assert (await admin(api, SET_GLOBAL, c={"can_back_in_stock": back_in_stock}))["ok"]
    await upsert(api, "TENT", {}, eu_1=4)
    await op(api, PLACE, id="R-1", channel="eu_website", lines=lines(("TENT", 4)))
    await op(api, SHIP, id="R-1")
    assert await shelf(api, "TENT") == {"eu-1": (0, "OUT_OF_STOCK")}
    assert (await op(api, REFUND, id="R-1"))["ok"]
    assert await shelf(api, "TENT") == {"eu-1": (4, status)}
    assert await salable(api, "TENT") == salable_after


async def test_a_return_up_to_the_threshold_does_not_put_it_back(api: Api) -> None:
    await upsert(api, "TENT", {"min_qty": 2}, eu_1=4, eu_2=10)
    await op(api, PLACE, id="R-2", channel="eu_website", lines=lines(("TENT", 2)))
    await op(api, SHIP, id="R-2")
    assert await shelf(api, "TENT") == {"eu-1": (2, "OUT_OF_STOCK"), "eu-2": (10, "IN_STOCK")}
    # The merchant empties eu-1; the refund brings it back to 2 = the threshold: still out.
    items = [{"sku": "TENT", "source": "eu-1", "quantity": 0, "status": "OUT_OF_STOCK"}]
    assert (await admin(api, SET_ITEMS, items=items))["ok"]
    await op(api, REFUND, id="R-2")
    assert (await shelf(api, "TENT"))["eu-1"] == (2, "OUT_OF_STOCK")


# --- §6 increments tolerance -----------------------------------------------------------------

@pytest.mark.parametrize(("step", "qty", "ok"), [
    (1, 2.0001, False), (1, 2.0000, True), (3, 5.9997, False), (3, 5.9998, True),
    (3, 6.0003, False), (3, 6.0002, True), (0.5, 1.5, True)])
async def test_increments_tolerance_is_strict(api: Api, step: float, qty: float,
                                              ok: bool) -> None:
    query = (f"mutation($c: JSON!) {{ setProductConfig(sku: \"FABRIC\", config: $c) "
             f"{RESULT} }}")
    assert (await admin(api, query, c={"enable_qty_increments": True,
                                        "qty_increments": step}))["ok"]
    (line,) = (await validate(api, ("FABRIC", qty)))["lines"]
    assert codes(line) == ([] if ok else ["QTY_INCREMENTS"])


# --- §5 only X left and show_out_of_stock ----------------------------------------------------

@pytest.mark.parametrize(("config", "only"), [
    ({}, 2), ({"backorders": "allow"}, None), ({"backorders": "allow", "min_qty": 5}, None),
    ({"backorders": "allow", "min_qty": -3}, 5), ({"backorders": "allow_notify", "min_qty": -1},
                                                  3)])
async def test_only_x_left_hidden_under_unlimited_backorders(api: Api, config: dict[str, Any],
                                                             only: float | None) -> None:
    await upsert(api, "TENT", config, eu_1=2)
    (entry,) = await availability(api, "TENT")
    assert entry is not None and entry["onlyXLeft"] == only  # threshold 5 on stock 10


async def test_display_when_out_of_stock_follows_stock_and_global(api: Api) -> None:
    (eu,), (us,) = await availability(api, "GONE"), await availability(api, "SHIRT",
                                                                        channel="us_website")
    assert eu is not None and eu["displayWhenOutOfStock"] is False
    assert eu["stockStatus"] == "OUT_OF_STOCK"
    assert (await admin(api, SET_GLOBAL, c={"show_out_of_stock": True}))["ok"]
    assert (await admin(api, SET_STOCK, id=20, c={"show_out_of_stock": False}))["ok"]
    (eu,), (us,) = await availability(api, "GONE"), await availability(api, "SHIRT",
                                                                        channel="us_website")
    assert eu is not None and eu["displayWhenOutOfStock"] is True
    assert us is not None and us["displayWhenOutOfStock"] is False
    assert (await explain(api, "GONE"))["show_out_of_stock"]["level"] == "GLOBAL"


async def test_inventory_config_lists_the_new_options(api: Api) -> None:
    await admin(api, SET_GLOBAL, c={"can_subtract": False, "show_out_of_stock": True})
    data = (await api.data(CONFIG, token=TOKEN))["inventoryConfig"]
    options = {o["name"]: o for o in data["options"]}
    assert options["can_subtract"] == {"name": "can_subtract", "default": True,
                                       "levels": ["GLOBAL"]}
    assert options["can_back_in_stock"]["levels"] == ["GLOBAL"]
    assert options["show_out_of_stock"] == {"name": "show_out_of_stock", "default": False,
                                            "levels": ["STOCK", "GLOBAL"]}
    settings = {s["name"]: s["value"] for s in data["settings"]}
    assert settings["can_subtract"] is False and settings["show_out_of_stock"] is True
