"""Storefront operations over GraphQL: availability, explain, validateCart."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api

AVAILABILITY = """
query($channel: String!, $skus: [String!]!, $group: String) {
  availability(channel: $channel, skus: $skus, customerGroup: $group) {
    sku channel stockId stockStatus isSalable salableQty onlyXLeft lowStock manageStock
    backorders assigned displayWhenOutOfStock
    quantityRule { minimum maximum increment allowsDecimals allowsMultipleBoxes }
  }
}"""

EXPLAIN = """
query($channel: String!, $skus: [String!]!, $group: String) {
  availability(channel: $channel, skus: $skus, customerGroup: $group) {
    sku explain { name value level sourceCode overrides note }
  }
}"""

VALIDATE = """
mutation($channel: String!, $lines: [CartLineInput!]!, $group: String) {
  validateCart(channel: $channel, lines: $lines, customerGroup: $group) {
    ok
    lines { sku quantity ok backorderQty suggestedQty
            errors { code message setting limit level sourceCode }
            notices { code message setting limit level } }
  }
}"""


async def availability(api: Api, *skus: str, channel: str = "eu_website",
                       group: str | None = None) -> list[dict[str, Any] | None]:
    data = await api.data(AVAILABILITY, {"channel": channel, "skus": list(skus), "group": group})
    result: list[dict[str, Any] | None] = data["availability"]
    return result


async def explain(api: Api, sku: str, group: str | None = None) -> dict[str, dict[str, Any]]:
    data = await api.data(EXPLAIN, {"channel": "eu_website", "skus": [sku], "group": group})
    return {s["name"]: s for s in data["availability"][0]["explain"]}


async def validate(api: Api, *lines: tuple[str, float], group: str | None = None,
                   channel: str = "eu_website") -> dict[str, Any]:
    data = await api.data(VALIDATE, {"channel": channel, "group": group, "lines": [
        {"sku": sku, "quantity": qty} for sku, qty in lines]})
    result: dict[str, Any] = data["validateCart"]
    return result


def codes(line: dict[str, Any]) -> list[str]:
    return [e["code"] for e in line["errors"]]


async def test_availability_answers_in_request_order_with_null_for_unknown(api: Api) -> None:
    result = await availability(api, "EBOOK", "NOPE", "SHIRT")
    assert [r["sku"] if r else None for r in result] == ["EBOOK", None, "SHIRT"]


async def test_salable_qty_counts_enabled_linked_in_stock_items_and_reservations(api: Api) -> None:
    (shirt,) = await availability(api, "SHIRT")
    assert shirt is not None
    # 5.5 (eu-1) + 3 (eu-2) - 1.5 reserved; the disabled eu-off's 100 counts for nothing.
    assert shirt["salableQty"] == 7
    assert shirt["isSalable"] is True and shirt["stockStatus"] == "IN_STOCK"
    assert shirt["stockId"] == 10 and shirt["onlyXLeft"] is None and shirt["lowStock"] is False
    assert shirt["quantityRule"] == {"minimum": 1, "maximum": 10000, "increment": None,
                                     "allowsDecimals": False, "allowsMultipleBoxes": False}
    (us,) = await availability(api, "SHIRT", channel="us_website")
    assert us is not None and us["salableQty"] == 7 and us["stockId"] == 20


async def test_special_products(api: Api) -> None:
    fabric, pack, back, ebook, gone, us_only = await availability(
        api, "FABRIC", "PACK", "BACKORDER", "EBOOK", "GONE", "US-ONLY")
    assert fabric and fabric["quantityRule"]["allowsDecimals"] is True
    assert fabric["quantityRule"]["allowsMultipleBoxes"] is True
    assert pack and pack["quantityRule"]["increment"] == 6
    assert back and back["salableQty"] == 7 and back["backorders"] == "ALLOW_NOTIFY"
    assert ebook and ebook["isSalable"] is True and ebook["salableQty"] is None
    assert ebook["manageStock"] is False
    assert gone and gone["isSalable"] is False and gone["salableQty"] == 0
    assert us_only and us_only["assigned"] is False and us_only["isSalable"] is False


async def test_only_x_left_and_low_stock_follow_updates(api: Api) -> None:
    await api.load({"format": "availability-catalog/1",
                    "products": [{"sku": "SHIRT", "name": "Shirt",
                                  "config": {"notify_stock_qty": 3}}],
                    "source_items": [{"sku": "SHIRT", "source": "eu-1", "quantity": 1,
                                      "status": "in_stock"}]}, replace=False)
    (shirt,) = await availability(api, "SHIRT")
    assert shirt is not None
    assert shirt["salableQty"] == 2.5 and shirt["onlyXLeft"] == 2.5 and shirt["lowStock"] is True


async def test_explain_names_level_source_and_overrides(api: Api) -> None:
    shirt = await explain(api, "SHIRT")
    assert set(shirt) >= {"manage_stock", "backorders", "min_qty", "min_sale_qty",
                          "max_sale_qty", "qty_increments", "stock_threshold_qty",
                          "notify_stock_qty", "is_qty_decimal"}
    assert shirt["stock_threshold_qty"]["level"] == "STOCK"
    assert shirt["stock_threshold_qty"]["value"] == "5"
    assert shirt["stock_threshold_qty"]["overrides"] == ["DEFAULT"]
    assert shirt["backorders"]["level"] == "DEFAULT" and shirt["backorders"]["value"] == "no"
    back = await explain(api, "BACKORDER")
    assert back["backorders"]["level"] == "PRODUCT"
    assert back["backorders"]["value"] == "allow_notify"
    assert back["min_qty"]["value"] == "-5" and back["min_qty"]["overrides"] == ["DEFAULT"]
    wholesale = await explain(api, "SHIRT", group="wholesale")
    assert wholesale["min_sale_qty"]["value"] == "10"
    assert wholesale["min_sale_qty"]["level"] == "GLOBAL"


async def test_source_item_override_is_named_with_its_source(api: Api) -> None:
    await api.load({"format": "availability-catalog/1", "source_items": [
        {"sku": "SHIRT", "source": "eu-2", "quantity": 3, "status": "in_stock",
         "config": {"backorders": "allow"}}]}, replace=False)
    shirt = await explain(api, "SHIRT")
    assert shirt["backorders"]["level"] == "SOURCE_ITEM"
    assert shirt["backorders"]["sourceCode"] == "eu-2"
    assert shirt["backorders"]["value"] == "allow"


async def test_unknown_channel_is_a_graphql_error(api: Api) -> None:
    body = await api.gql(AVAILABILITY, {"channel": "mars", "skus": ["SHIRT"]})
    assert body["errors"][0]["extensions"]["code"] == "CHANNEL_NOT_FOUND"
    body = await api.gql(VALIDATE, {"channel": "mars", "lines": [{"sku": "SHIRT",
                                                                  "quantity": 1}]})
    assert body["errors"][0]["extensions"]["code"] == "CHANNEL_NOT_FOUND"


@pytest.mark.parametrize(("lines", "group", "expected"), [
    ([("SHIRT", 7)], None, [[]]),
    ([("SHIRT", 8)], None, [["INSUFFICIENT_STOCK"]]),
    ([("SHIRT", 4), ("SHIRT", 4)], None, [["INSUFFICIENT_STOCK"], ["INSUFFICIENT_STOCK"]]),
    ([("SHIRT", 1.5)], None, [["DECIMAL_NOT_ALLOWED"]]),
    ([("SHIRT", 5)], "wholesale", [["MIN_SALE_QTY"]]),
    ([("SHIRT", 5)], "retail", [[]]),
    ([("FABRIC", 2.25)], None, [[]]),
    ([("PACK", 7)], None, [["QTY_INCREMENTS"]]),
    ([("PACK", 12)], None, [[]]),
    ([("NOPE", 1)], None, [["PRODUCT_NOT_FOUND"]]),
    ([("SHIRT", 0)], None, [["INVALID_QUANTITY"]]),
    ([("SHIRT", -1)], None, [["INVALID_QUANTITY"]]),
    ([("SHIRT", 1.00001)], None, [["INVALID_QUANTITY"]]),
    ([("SHIRT", 1e300)], None, [["INVALID_QUANTITY"]]),
    ([("US-ONLY", 1)], None, [["NOT_ASSIGNED_TO_STOCK"]]),
    ([("GONE", 1)], None, [["OUT_OF_STOCK"]]),
    ([("EBOOK", 500)], None, [[]]),
    ([("BACKORDER", 7)], None, [[]]),
    ([("BACKORDER", 8)], None, [["INSUFFICIENT_STOCK"]]),
    ([("SHIRT", 20000.5)], None, [["MAX_SALE_QTY", "DECIMAL_NOT_ALLOWED", "INSUFFICIENT_STOCK"]]),
], ids=lambda v: str(v))
async def test_validate_cart_codes(api: Api, lines: list[tuple[str, float]], group: str | None,
                                   expected: list[list[str]]) -> None:
    result = await validate(api, *lines, group=group)
    assert [codes(line) for line in result["lines"]] == expected
    assert result["ok"] is all(not e for e in expected)


async def test_validate_cart_details(api: Api) -> None:
    pack, back = (await validate(api, ("PACK", 7), ("BACKORDER", 7)))["lines"]
    (shirt,) = (await validate(api, ("SHIRT", 5), group="wholesale"))["lines"]
    assert pack["errors"][0]["message"] == \
        "You can buy this product only in quantities of 6 at a time."
    assert pack["errors"][0]["level"] == "PRODUCT" and pack["suggestedQty"] == 6
    assert shirt["errors"][0] == {"code": "MIN_SALE_QTY", "setting": "min_sale_qty", "limit": 10,
                                  "level": "GLOBAL", "sourceCode": None,
                                  "message": "The fewest you may purchase is 10."}
    assert back["backorderQty"] == 5
    assert back["notices"][0]["code"] == "BACKORDERED"
    assert back["notices"][0]["message"].endswith("we'll back order the remaining 5.")


async def test_validate_cart_has_no_side_effects(api: Api) -> None:
    before = await availability(api, "SHIRT", "BACKORDER")
    for _ in range(3):
        await validate(api, ("SHIRT", 7), ("BACKORDER", 7))
    assert await availability(api, "SHIRT", "BACKORDER") == before
