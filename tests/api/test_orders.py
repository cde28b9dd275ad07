"""Orders over GraphQL: place, replay, cancel, ship, refund, order view, low stock."""

from __future__ import annotations

from typing import Any

from tests.api.test_storefront import availability
from tests.support import TOKEN, Api

RESULT = """ok orderId status replayed error { code message }
  lines { sku quantity ok reservedQty backorderQty errors { code } notices { code } }
  shipments { sourceCode sku qty }
  order { status skus { sku ordered shipped cancelled returned open managed } }"""

PLACE = f"""mutation($id: String!, $lines: [CartLineInput!]!, $channel: String!) {{
  placeOrder(orderId: $id, channel: $channel, lines: $lines) {{ {RESULT} }} }}"""
CANCEL = f"""mutation($id: String!) {{ cancelOrder(orderId: $id) {{ {RESULT} }} }}"""
SHIP = f"""mutation($id: String!, $lines: [CartLineInput!]) {{
  shipOrder(orderId: $id, lines: $lines) {{ {RESULT} }} }}"""
REFUND = f"""mutation($id: String!, $lines: [CartLineInput!]) {{
  refundOrder(orderId: $id, lines: $lines) {{ {RESULT} }} }}"""
ORDER = """query($id: String!) { order(orderId: $id) { orderId status
  skus { sku open } shipments { sourceCode sku qty } reservations { sku quantity eventType } } }"""
LOW = """query($source: String, $channel: String) { lowStock(source: $source, channel: $channel)
  { sku sourceCode quantity notifyStockQty level settingSourceCode } }"""


async def op(api: Api, query: str, **variables: Any) -> dict[str, Any]:
    data = await api.data(query, variables, token=TOKEN)
    result: dict[str, Any] = next(iter(data.values()))
    return result


def lines(*pairs: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"sku": sku, "quantity": qty} for sku, qty in pairs]


async def salable(api: Api, sku: str) -> float:
    (entry,) = await availability(api, sku)
    assert entry is not None
    value: float = entry["salableQty"]
    return value


async def test_place_reserves_and_replay_reserves_nothing_more(api: Api) -> None:
    placed = await op(api, PLACE, id="A-1", channel="eu_website",
                      lines=lines(("SHIRT", 2), ("EBOOK", 1)))
    assert placed["ok"] is True and placed["status"] == "placed"
    assert [line["reservedQty"] for line in placed["lines"]] == [2, 0]
    assert await salable(api, "SHIRT") == 5
    replay = await op(api, PLACE, id="A-1", channel="eu_website",
                      lines=lines(("SHIRT", 2), ("EBOOK", 1)))
    assert replay["ok"] is True and replay["replayed"] is True
    assert await salable(api, "SHIRT") == 5
    conflict = await op(api, PLACE, id="A-1", channel="eu_website", lines=lines(("SHIRT", 3)))
    assert conflict["ok"] is False and conflict["error"]["code"] == "ORDER_ID_CONFLICT"
    assert await salable(api, "SHIRT") == 5


async def test_rejected_order_reserves_nothing_at_all(api: Api) -> None:
    rejected = await op(api, PLACE, id="B-1", channel="eu_website",
                        lines=lines(("SHIRT", 2), ("SHIRT", 6)))
    assert rejected["ok"] is False and rejected["status"] == "rejected"
    assert [line["errors"] for line in rejected["lines"]] == [[{"code": "INSUFFICIENT_STOCK"}]] * 2
    assert await salable(api, "SHIRT") == 7
    assert (await api.data(ORDER, {"id": "B-1"}, token=TOKEN))["order"] is None
    # Rejected orders are not stored: the same id may be placed once it fits.
    assert (await op(api, PLACE, id="B-1", channel="eu_website",
                     lines=lines(("SHIRT", 7))))["ok"] is True
    assert await salable(api, "SHIRT") == 0


async def test_backordered_line_says_so(api: Api) -> None:
    placed = await op(api, PLACE, id="C-1", channel="eu_website", lines=lines(("BACKORDER", 5)))
    assert placed["ok"] is True
    assert placed["lines"][0]["backorderQty"] == 3
    assert placed["lines"][0]["notices"] == [{"code": "BACKORDERED"}]


async def test_cancel_gives_back_open_quantity_once(api: Api) -> None:
    await op(api, PLACE, id="D-1", channel="eu_website", lines=lines(("SHIRT", 4)))
    assert await salable(api, "SHIRT") == 3
    cancelled = await op(api, CANCEL, id="D-1")
    assert cancelled["ok"] is True and cancelled["status"] == "cancelled"
    assert await salable(api, "SHIRT") == 7
    again = await op(api, CANCEL, id="D-1")
    assert again["ok"] is True and await salable(api, "SHIRT") == 7
    missing = await op(api, CANCEL, id="nope")
    assert missing["ok"] is False and missing["error"]["code"] == "ORDER_NOT_FOUND"
    assert missing["status"] == "not_found"


async def test_ship_deducts_sources_and_refund_puts_it_back(api: Api) -> None:
    await op(api, PLACE, id="E-1", channel="eu_website", lines=lines(("SHIRT", 7)))
    shipped = await op(api, SHIP, id="E-1", lines=lines(("SHIRT", 6)))
    assert shipped["ok"] is True and shipped["status"] == "partially_shipped"
    assert shipped["shipments"] == [{"sourceCode": "eu-1", "sku": "SHIRT", "qty": 5.5},
                                    {"sourceCode": "eu-2", "sku": "SHIRT", "qty": 0.5}]
    # physical 2.5 (eu-2), reserved -1.5 (fixture) -1 (open) -> 0
    assert await salable(api, "SHIRT") == 0
    rest = await op(api, SHIP, id="E-1")
    assert rest["status"] == "shipped"
    view = (await api.data(ORDER, {"id": "E-1"}, token=TOKEN))["order"]
    assert [r["eventType"] for r in view["reservations"]] == \
        ["order_placed", "shipment_created", "shipment_created"]
    refunded = await op(api, REFUND, id="E-1", lines=lines(("SHIRT", 2)))
    assert refunded["ok"] is True
    assert refunded["shipments"] == [{"sourceCode": "eu-2", "sku": "SHIRT", "qty": -1.5},
                                     {"sourceCode": "eu-1", "sku": "SHIRT", "qty": -0.5}]
    # eu-2 back to 3, eu-1 back to 0.5 (and in stock again); fixture reservation -1.5
    assert await salable(api, "SHIRT") == 2
    too_much = await op(api, REFUND, id="E-1", lines=lines(("SHIRT", 6)))
    assert too_much["ok"] is False and too_much["error"]["code"] == "QTY_EXCEEDS_ORDER"


async def test_source_item_goes_out_of_stock_when_emptied(api: Api) -> None:
    await op(api, PLACE, id="F-1", channel="eu_website", lines=lines(("SHIRT", 5)))
    await op(api, SHIP, id="F-1")
    (entry,) = await availability(api, "SHIRT")
    assert entry is not None and entry["salableQty"] == 2  # 0.5 + 3 - 1.5 reserved
    selection = await api.data(
        """query { sourceSelection(channel: "eu_website", lines: [{sku: "SHIRT", quantity: 1}])
        { items { sourceCode qtyAvailable } } }""", token=TOKEN)
    # 5.5 - 5 = 0.5 is left on eu-1, which stays in stock and is listed first.
    assert selection["sourceSelection"]["items"][0] == {"sourceCode": "eu-1",
                                                        "qtyAvailable": 0.5}
    await op(api, PLACE, id="F-2", channel="eu_website", lines=lines(("SHIRT", 2)))
    await op(api, SHIP, id="F-2")
    selection = await api.data(
        """query { sourceSelection(channel: "eu_website", lines: [{sku: "SHIRT", quantity: 1}])
        { items { sourceCode qtyAvailable } } }""", token=TOKEN)
    # eu-1 gave its last 0.5 and is now out of stock: only eu-2 (3 - 1.5) is listed.
    assert selection["sourceSelection"]["items"] == [{"sourceCode": "eu-2",
                                                      "qtyAvailable": 1.5}]


async def test_shipping_more_than_the_shelves_hold_is_refused_whole(api: Api) -> None:
    await op(api, PLACE, id="G-1", channel="eu_website", lines=lines(("BACKORDER", 7)))
    refused = await op(api, SHIP, id="G-1")
    assert refused["ok"] is False and refused["error"]["code"] == "SHIPMENT_SHORTFALL"
    assert refused["error"]["message"] == \
        "Not all of your products are available in the requested quantity."
    assert (await op(api, SHIP, id="G-1", lines=lines(("BACKORDER", 2))))["ok"] is True


async def test_low_stock_report(api: Api) -> None:
    rows = await op(api, LOW)
    assert {"sku": "SHIRT", "sourceCode": "eu-2", "quantity": 3, "notifyStockQty": 4,
            "level": "SOURCE_ITEM", "settingSourceCode": "eu-2"} in rows
    assert all(r["quantity"] < r["notifyStockQty"] for r in rows)
    assert await op(api, LOW, source="us-1") == []
    body = await api.gql(LOW, {"source": "nowhere"}, token=TOKEN)
    assert body["errors"][0]["extensions"]["code"] == "SOURCE_NOT_FOUND"


async def test_order_operations_need_the_token(api: Api) -> None:
    body = await api.gql(PLACE, {"id": "X", "channel": "eu_website",
                                 "lines": lines(("SHIRT", 1))})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await salable(api, "SHIRT") == 7
