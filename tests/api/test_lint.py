"""The back-office ruleLint query (docs/rules.md §10): findings with provenance, SKU
selection, pages of whole SKUs, argument errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_admin import RESULT, admin
from tests.support import TOKEN, Api

LINT = """query($channel: String!, $skus: [String!], $after: String, $limit: Int) {
  ruleLint(channel: $channel, skus: $skus, afterSku: $after, limit: $limit) {
    sku code message suggestion settings { name value level sourceCode overrides note } } }"""


async def lint(api: Api, channel: str = "eu_website", **variables: Any) -> list[dict[str, Any]]:
    data = await api.data(LINT, {"channel": channel, **variables}, token=TOKEN)
    found: list[dict[str, Any]] = data["ruleLint"]
    return found


def pairs(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(f["sku"], f["code"]) for f in found]


async def add_products(api: Api) -> None:
    """A product sold only through the disabled source, and one whose min is above its max."""
    query = f"mutation($p: ProductInput!) {{ upsertProduct(product: $p) {RESULT} }}"
    assert (await admin(api, query, p={"sku": "CLOSED", "name": "Closed"}))["ok"]
    assert (await admin(api, query, p={"sku": "TIGHT", "name": "Tight", "config": {
        "min_sale_qty": 4, "max_sale_qty": 2}}))["ok"]
    items = [{"sku": "CLOSED", "source": "eu-off", "quantity": 5, "status": "IN_STOCK"},
             {"sku": "TIGHT", "source": "eu-1", "quantity": 5, "status": "IN_STOCK"}]
    assert (await admin(api, f"mutation($i: [SourceItemInput!]!) {{ setSourceItems(items: $i) "
                             f"{RESULT} }}", i=items))["ok"]


async def test_findings_of_the_test_shop_with_provenance(api: Api) -> None:
    found = await lint(api)
    # PACK is sold in steps of 6 with the default minimum (1), the global wholesale
    # minimum (10) and the default maximum (10000): none of them a multiple of 6.
    assert pairs(found) == [("PACK", "MIN_NOT_MULTIPLE_OF_STEP"),
                            ("PACK", "MIN_NOT_MULTIPLE_OF_STEP"),
                            ("PACK", "MAX_NOT_MULTIPLE_OF_STEP")]
    first = found[0]
    assert first["message"] == (
        "The minimum cart quantity (1) is not a multiple of the step (6): it is refused "
        "itself, and the smallest quantity that can be bought is 6.")
    assert first["suggestion"] == ("Set min_sale_qty to 6 on the product or in the global "
                                   "configuration.")
    assert [(s["name"], s["value"], s["level"]) for s in first["settings"]] == [
        ("min_sale_qty", "1", "DEFAULT"), ("qty_increments", "6", "PRODUCT"),
        ("enable_qty_increments", "true", "PRODUCT")]
    group = found[1]
    assert "customer group 'wholesale'" in group["message"]
    assert group["settings"][0]["level"] == "GLOBAL"
    assert group["settings"][0]["note"] == "customer group wholesale"
    assert await lint(api, "us_website") == []


async def test_a_finding_disappears_when_the_settings_are_fixed(api: Api) -> None:
    query = f"mutation($c: JSON!) {{ setProductConfig(sku: \"PACK\", config: $c) {RESULT} }}"
    assert (await admin(api, query, c={"min_sale_qty": 6, "max_sale_qty": 600,
                                        "min_sale_qty_by_group": {"wholesale": 12}}))["ok"]
    assert await lint(api) == []


async def test_disabled_sources_and_min_above_max(api: Api) -> None:
    await add_products(api)
    found = await lint(api, skus=["TIGHT", "CLOSED", "NOPE"])
    assert pairs(found) == [("CLOSED", "NO_ENABLED_SOURCE"), ("TIGHT", "MIN_ABOVE_MAX")]
    assert found[0]["settings"] == [] and "eu-off" in found[0]["message"]
    assert [(s["name"], s["level"]) for s in found[1]["settings"]] == [
        ("min_sale_qty", "PRODUCT"), ("max_sale_qty", "PRODUCT")]


async def test_pages_hold_whole_skus(api: Api) -> None:
    await add_products(api)
    everything = pairs(await lint(api))
    assert [sku for sku, _ in everything] == ["CLOSED", "PACK", "PACK", "PACK", "TIGHT"]
    # CLOSED (1) fits in 2; PACK's 3 findings would not, so the page stops there.
    page = pairs(await lint(api, limit=2))
    assert page == [("CLOSED", "NO_ENABLED_SOURCE")]
    # A SKU with more findings than the limit still comes whole (paging always progresses).
    page = pairs(await lint(api, limit=1, after="CLOSED"))
    assert [sku for sku, _ in page] == ["PACK", "PACK", "PACK"]
    page = pairs(await lint(api, limit=1, after="PACK"))
    assert page == [("TIGHT", "MIN_ABOVE_MAX")]
    assert await lint(api, after="TIGHT") == []
    assert pairs(await lint(api, skus=["TIGHT", "CLOSED"], after="CLOSED")) == [
        ("TIGHT", "MIN_ABOVE_MAX")]


@pytest.mark.parametrize(("variables", "code"), [
    ({"limit": 0}, "BAD_USER_INPUT"), ({"limit": 1001}, "BAD_USER_INPUT"),
    ({"skus": [""]}, "BAD_USER_INPUT"), ({"skus": ["A"] * 501}, "LIMIT_EXCEEDED"),
    ({"channel": "mars"}, "CHANNEL_NOT_FOUND")])
async def test_bad_arguments_are_clear_errors(api: Api, variables: dict[str, Any],
                                              code: str) -> None:
    body = await api.gql(LINT, {"channel": "eu_website", **variables}, token=TOKEN)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == code


async def test_rule_lint_needs_the_token(api: Api) -> None:
    body = await api.gql(LINT, {"channel": "eu_website"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
