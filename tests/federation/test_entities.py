"""``_entities``: a router's product representations answered with their availability.

The answers are the storefront's (same object as the ``availability`` query), malformed
representations are refused one by one with a code, and any number of products costs one
store read per (channel, customer group).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_performance_shape import many_products
from tests.support import SHOP, Api

FIELDS = ("sku channel stockId stockStatus isSalable salableQty onlyXLeft lowStock manageStock "
          "backorders assigned quantityRule { minimum maximum increment allowsDecimals "
          "allowsMultipleBoxes }")
ENTITIES = ("query($r: [_Any!]!, $channel: String!, $group: String) { _entities(representations: "
            "$r) { __typename ... on Product { sku availability(channel: $channel, "
            "customerGroup: $group) { " + FIELDS + " } } } }")
AVAILABILITY = ("query($skus: [String!]!, $channel: String!, $group: String) { availability("
                "channel: $channel, skus: $skus, customerGroup: $group) { " + FIELDS + " } }")


def products(*skus: str) -> list[dict[str, Any]]:
    return [{"__typename": "Product", "sku": sku} for sku in skus]


def codes(body: dict[str, Any]) -> list[str | None]:
    return [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]


async def test_entities_answer_what_the_availability_query_answers(api: Api) -> None:
    skus = ["SHIRT", "PACK", "NOPE", "EBOOK", "SHIRT"]
    for channel, group in (("eu_website", None), ("eu_website", "wholesale"),
                           ("us_website", None)):
        variables = {"channel": channel, "group": group}
        entities = (await api.data(ENTITIES, {**variables, "r": products(*skus)}))["_entities"]
        expected = (await api.data(AVAILABILITY, {**variables, "skus": skus}))["availability"]
        assert [e["sku"] for e in entities] == skus
        assert {e["__typename"] for e in entities} == {"Product"}
        assert [e["availability"] for e in entities] == expected
    wholesale = await api.data(ENTITIES, {"channel": "eu_website", "group": "wholesale",
                                          "r": products("SHIRT")})
    assert wholesale["_entities"][0]["availability"]["quantityRule"]["minimum"] == 10


async def test_entities_explain_like_the_availability_query(api: Api) -> None:
    """``explain`` needs every setting's origin, which the precomputed facts do not hold."""
    explained = FIELDS + " explain { name value level sourceCode overrides note }"
    query = ENTITIES.replace(FIELDS, explained)
    variables = {"channel": "eu_website", "group": "wholesale"}
    entities = (await api.data(query, {**variables, "r": products("SHIRT", "PACK")}))
    expected = await api.data(AVAILABILITY.replace(FIELDS, explained),
                              {**variables, "skus": ["SHIRT", "PACK"]})
    assert [e["availability"] for e in entities["_entities"]] == expected["availability"]
    assert len(expected["availability"][0]["explain"]) > 10


async def test_entities_are_public(api: Api) -> None:
    body = await api.gql(ENTITIES, {"channel": "eu_website", "r": products("SHIRT")})
    assert "errors" not in body, body
    assert body["data"]["_entities"][0]["availability"]["salableQty"] == 7


async def test_malformed_representations_are_refused_one_by_one(api: Api) -> None:
    representations: list[Any] = [
        {"__typename": "Product", "sku": "SHIRT"}, "SHIRT", {"sku": "SHIRT"},
        {"__typename": "ProductSettings", "sku": "SHIRT"}, {"__typename": "Product"},
        {"__typename": "Product", "sku": ""}, {"__typename": "Product", "sku": "X" * 65},
        {"__typename": "Product", "sku": 7}, [], {"__typename": "Product", "sku": "PACK"}]
    body = await api.gql(ENTITIES, {"channel": "eu_website", "r": representations})
    entities = body["data"]["_entities"]
    assert entities[0]["availability"]["sku"] == "SHIRT"
    assert entities[-1]["availability"]["sku"] == "PACK"
    assert entities[1:-1] == [None] * (len(representations) - 2)
    assert codes(body) == ["BAD_USER_INPUT"] * (len(representations) - 2)
    assert sorted(e["path"][1] for e in body["errors"]) == list(range(1, len(representations) - 1))


async def test_too_many_representations_is_a_limit(make_api: Any) -> None:
    async with make_api(max_skus=3) as api:
        await api.load(SHOP)
        body = await api.gql(ENTITIES, {"channel": "eu_website", "r": products(*"ABCD")})
        assert body["data"] is None
        assert codes(body) == ["LIMIT_EXCEEDED"]
        body = await api.gql(ENTITIES, {"channel": "eu_website", "r": products(*"ABC")})
        assert "errors" not in body


async def test_an_unknown_channel_fails_only_the_fields_asking_for_it(api: Api) -> None:
    query = ('query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { sku '
             'good: availability(channel: "eu_website") { salableQty } '
             'bad: availability(channel: "mars") { salableQty } } } }')
    body = await api.gql(query, {"r": products("SHIRT", "PACK")})
    assert codes(body) == ["CHANNEL_NOT_FOUND", "CHANNEL_NOT_FOUND"]
    assert [e["good"] for e in body["data"]["_entities"]] == [{"salableQty": 7},
                                                              {"salableQty": 60}]
    assert [e["bad"] for e in body["data"]["_entities"]] == [None, None]


async def statements(api: Api, query: str, variables: dict[str, Any]) -> int:
    store: Any = api.services.store
    before = store.statements
    await api.data(query, variables)
    count: int = store.statements - before
    return count


async def test_any_number_of_entities_costs_one_read_per_channel_and_group(api: Api) -> None:
    await api.load(many_products(300), replace=False)
    skus = [f"BULK-{n:04d}" for n in range(300)]
    one = {"channel": "eu_website", "r": products(skus[0])}
    await api.data(ENTITIES, one)  # warm the topology cache
    assert await statements(api, ENTITIES, one) == 1
    assert await statements(api, ENTITIES, {"channel": "eu_website", "r": products(*skus)}) == 1
    grouped = ('query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { '
               'a: availability(channel: "eu_website") { salableQty } '
               'b: availability(channel: "eu_website", customerGroup: "wholesale") '
               '{ quantityRule { minimum } } '
               'c: availability(channel: "us_website") { salableQty } '
               'd: availability(channel: "eu_website") { isSalable } } } }')
    assert await statements(api, grouped, {"r": products(*skus)}) == 3  # a and d share a read


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=70)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["__typename", "sku", "id", "x"]), children, max_size=3),
    max_leaves=8)
REPRESENTATION = st.one_of(
    st.fixed_dictionaries({"__typename": st.sampled_from(["Product", "Query", "_Service", ""]),
                           "sku": st.one_of(st.sampled_from(["SHIRT", "PACK", "NOPE"]),
                                            JSONISH)}),
    JSONISH.filter(lambda value: value is not None))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(representations=st.lists(REPRESENTATION, max_size=6))
async def test_no_representation_is_an_internal_error(api: Api,
                                                      representations: list[Any]) -> None:
    body = await api.gql(ENTITIES, {"channel": "eu_website", "r": representations})
    assert "INTERNAL_ERROR" not in codes(body), body
    entities = body["data"]["_entities"]
    assert len(entities) == len(representations)
    for representation, entity in zip(representations, entities, strict=True):
        wellformed = (isinstance(representation, dict)
                      and representation.get("__typename") == "Product"
                      and isinstance(representation.get("sku"), str)
                      and 0 < len(representation["sku"]) <= 64)
        assert (entity is not None) == wellformed, (representation, body)
