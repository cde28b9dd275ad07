"""Back-office operations: token required; sourceSelection; importCatalog validation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import SHOP, TOKEN, Api

SELECTION = """
query($channel: String!, $lines: [CartLineInput!]!, $algorithm: SourceSelectionAlgorithm!,
      $destination: DestinationInput) {
  sourceSelection(channel: $channel, lines: $lines, algorithm: $algorithm,
                  destination: $destination) {
    shippable items { sourceCode sku qtyToDeduct qtyAvailable }
  }
}"""

IMPORT = """mutation($d: JSON!, $r: Boolean!) {
  importCatalog(document: $d, replace: $r) { ok errors { path message } } }"""


async def select(api: Api, lines: list[tuple[str, float]], algorithm: str = "PRIORITY",
                 destination: dict[str, Any] | None = None) -> dict[str, Any]:
    data = await api.data(SELECTION, {
        "channel": "eu_website", "algorithm": algorithm, "destination": destination,
        "lines": [{"sku": s, "quantity": q} for s, q in lines]}, token=TOKEN)
    result: dict[str, Any] = data["sourceSelection"]
    return result


async def test_priority_selection(api: Api) -> None:
    result = await select(api, [("SHIRT", 7)])
    assert result == {"shippable": True, "items": [
        {"sourceCode": "eu-1", "sku": "SHIRT", "qtyToDeduct": 5.5, "qtyAvailable": 5.5},
        {"sourceCode": "eu-2", "sku": "SHIRT", "qtyToDeduct": 1.5, "qtyAvailable": 3}]}
    short = await select(api, [("SHIRT", 9)])
    assert short["shippable"] is False


async def test_distance_selection_prefers_the_nearest_source(api: Api) -> None:
    berlin = {"latitude": 52.5, "longitude": 13.4}
    result = await select(api, [("SHIRT", 4)], "DISTANCE", berlin)
    assert [(i["sourceCode"], i["qtyToDeduct"]) for i in result["items"]] == \
        [("eu-2", 3), ("eu-1", 1)]


@pytest.mark.parametrize("token", [None, "wrong-token", TOKEN + "x"])
async def test_back_office_needs_the_token(api: Api, token: str | None) -> None:
    body = await api.gql(SELECTION, {"channel": "eu_website", "algorithm": "PRIORITY",
                                     "lines": [{"sku": "SHIRT", "quantity": 1}]}, token=token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await api.gql(IMPORT, {"d": {"format": "availability-catalog/1"}, "r": True},
                         token=token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["data"] is None
    # Nothing was replaced: the shop is still there.
    data = await api.data("{ availability(channel: \"eu_website\", skus: [\"SHIRT\"]) "
                          "{ salableQty } }")
    assert data["availability"][0]["salableQty"] == 7


async def test_without_configured_token_back_office_is_refused(make_api: Any) -> None:
    async with make_api(admin_token=None) as api:
        body = await api.gql(IMPORT, {"d": SHOP, "r": True}, token="anything")
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def export(api: Api) -> dict[str, Any]:
    return await api.services.catalog.export_document()


@pytest.mark.parametrize(("document", "paths"), [
    ({"format": "nope"}, ["$.format"]),
    ({"format": "availability-catalog/1", "source_items": [
        {"sku": "SHIRT", "source": "nowhere", "quantity": 1, "status": "in_stock"}]},
     ["$.source_items[0].source"]),
    ({"format": "availability-catalog/1", "products": [
        {"sku": "X", "config": {"backorders": "sometimes", "min_sale_qty": -1}}]},
     ["$.products[0].config.backorders", "$.products[0].config.min_sale_qty"]),
    ({"format": "availability-catalog/1", "source_items": [
        {"sku": "SHIRT", "source": "eu-1", "quantity": 1.00001, "status": "in_stock"},
        {"sku": "SHIRT", "source": "eu-2", "quantity": 1, "status": "maybe"}]},
     ["$.source_items[0].quantity", "$.source_items[1].status"]),
], ids=["format", "unknown-source", "bad-config", "bad-items"])
async def test_broken_import_reports_every_path_and_changes_nothing(
        api: Api, document: dict[str, Any], paths: list[str]) -> None:
    before = await export(api)
    data = await api.data(IMPORT, {"d": document, "r": False}, token=TOKEN)
    assert data["importCatalog"]["ok"] is False
    reported = [e["path"] for e in data["importCatalog"]["errors"]]
    for path in paths:
        assert path in reported
    assert await export(api) == before
