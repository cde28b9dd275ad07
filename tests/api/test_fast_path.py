"""The plain-attribute fast path answers exactly what graphql-core answers, and is used."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.api import fast_path
from gateway.api.fast_path import FastPathExecutionContext
from tests.support import TOKEN, Api

QUERIES = [
    pytest.param('{ availability(channel: "eu_website", skus: ["SHIRT", "NOPE", "EBOOK"]) '
                 '{ sku salableQty onlyXLeft stockStatus backorders manageStock __typename '
                 'quantityRule { minimum maximum increment allowsDecimals __typename } } }',
                 id="scalars-enums-nulls-nested"),
    pytest.param('{ a: availability(channel: "eu_website", skus: ["SHIRT"]) { s: sku q: salableQty'
                 ' r: quantityRule { m: minimum } } b: availability(channel: "us_website", '
                 'skus: ["SHIRT"]) { sku salableQty } }', id="aliases"),
    pytest.param('query($yes: Boolean!) { availability(channel: "eu_website", skus: ["PACK"]) '
                 '{ ...F sku @include(if: $yes) salableQty @skip(if: $yes) } } '
                 'fragment F on ProductAvailability { isSalable quantityRule { increment } }',
                 id="fragments-and-directives"),
    pytest.param('{ availability(channel: "eu_website", skus: ["SHIRT"]) { sku '
                 'explain { name value level overrides } } }', id="resolver-field-falls-back"),
    pytest.param('mutation { validateCart(channel: "eu_website", lines: [{sku: "PACK", '
                 'quantity: 7}, {sku: "NOPE", quantity: 1}]) { ok lines { sku ok suggestedQty '
                 'errors { code message limit level setting } notices { code } } } }',
                 id="cart-lists"),
    pytest.param('{ inventoryConfig { settings { name value } options { name levels default } }'
                 ' stocks { id channels sources { sourceCode priority } } }', id="admin-reads"),
]


async def answer(api: Api, query: str) -> dict[str, Any]:
    return await api.gql(query, {"yes": True}, token=TOKEN)


@pytest.mark.parametrize("query", QUERIES)
async def test_fast_path_is_transparent(api: Api, query: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    fast = await answer(api, query)
    monkeypatch.setattr(FastPathExecutionContext, "_plan", lambda self, t, g: None)
    slow = await answer(api, query)
    assert fast == slow
    assert "errors" not in fast


async def test_fast_path_is_taken_for_plain_objects(api: Api,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    original = FastPathExecutionContext._build

    def counting(self: FastPathExecutionContext, plan: Any, source: Any) -> Any:
        built.append(source)
        return original(self, plan, source)

    monkeypatch.setattr(FastPathExecutionContext, "_build", counting)
    await answer(api, '{ availability(channel: "eu_website", skus: ["SHIRT", "PACK"]) '
                      '{ sku quantityRule { minimum } } }')
    kinds = [type(source).__name__ for source in built]
    assert kinds.count("ProductAvailability") == 2 and kinds.count("QuantityRule") == 2


async def test_a_null_for_a_non_null_field_falls_back_to_graphql_core(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    real = fast_path._plain_attribute
    monkeypatch.setattr(fast_path, "_plain_attribute",
                        lambda field: "no_such_attribute" if real(field) == "sku" else real(field))
    body = await answer(api, '{ availability(channel: "eu_website", skus: ["SHIRT"]) { sku } }')
    # the fast path reads nothing for the non-null sku, gives up, and graphql-core answers
    assert body["data"] == {"availability": [{"sku": "SHIRT"}]} and "errors" not in body
