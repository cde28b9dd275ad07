"""The compiled lane: taken for known availability queries, identical answers, the normal path
for everything else, and what the request middleware sees."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway.api.lane import Miss
from gateway.api.lane.runner import MAX_PLANS
from tests.api.lane_support import Pair, open_pair

QUERY = ("query Page($c: String!, $s: [String!]!, $g: String) { availability(channel: $c, "
         "skus: $s, customerGroup: $g) { sku stockStatus salableQty onlyXLeft backorders stockId "
         "quantityRule { minimum maximum increment allowsDecimals } } }")
SKUS = ["SHIRT", "FABRIC", "PACK", "BACKORDER", "EBOOK", "GONE", "US-ONLY", "NOPE"]


def page(**variables: Any) -> dict[str, Any]:
    return {"query": QUERY, "variables": {"c": "eu_website", "s": SKUS, **variables}}


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async with open_pair(tmp_path / "gateway.sqlite3", max_skus=10) as opened:
        yield opened


async def same(pair: Pair, body: Any, **options: Any) -> Any:
    """The answer (decoded) of both apps, which must be identical."""
    lane, normal = await pair.both(body, **options)
    assert lane == normal
    return lane.json() if lane.body.startswith(b"{") else lane.body


async def test_the_second_request_of_a_document_takes_the_lane(pair: Pair) -> None:
    first = await same(pair, page())
    assert pair.lane.answered == 0 and pair.lane.missed[Miss.UNKNOWN] == 1
    second = await same(pair, page())
    assert pair.lane.answered == 1
    assert first == second
    assert [item and item["sku"] for item in second["data"]["availability"]] == [
        *SKUS[:-1], None]
    assert second["extensions"] == {"cost": {"requested": 16, "limit": 2000}}


async def test_other_variables_groups_and_tokens_take_the_lane(pair: Pair) -> None:
    await same(pair, page())
    for variables in ({"s": ["PACK"], "g": "wholesale"}, {"c": "us_website", "g": None},
                      {"s": []}, {"s": ["SHIRT", "SHIRT"]}):
        await same(pair, page(**variables))
    back_office = await same(pair, page(), token=True)
    assert back_office["extensions"]["cost"]["limit"] == 50000
    assert pair.lane.answered == 5


@pytest.mark.parametrize(("variables", "why"), [
    ({"c": "nope"}, Miss.FAILED),  # CHANNEL_NOT_FOUND from the service
    ({"s": [f"S{n}" for n in range(11)]}, Miss.REFUSED),  # LIMIT_EXCEEDED
    ({"s": ["SHIRT\n"]}, Miss.REFUSED),  # an identifier with a control character
    ({"s": [""]}, Miss.ARGUMENTS),  # the resolver's SKU check
    ({"s": ["X" * 65]}, Miss.ARGUMENTS),
    ({"s": "SHIRT"}, Miss.VARIABLES),  # graphql-core makes a list of one: left to it
    ({"s": [None]}, Miss.VARIABLES),
    ({"c": 5}, Miss.VARIABLES),
    ({"c": None}, Miss.VARIABLES),
    ({"g": 7}, Miss.VARIABLES),
])
async def test_what_the_lane_does_not_answer_is_answered_by_the_normal_path(
        pair: Pair, variables: dict[str, Any], why: Miss) -> None:
    await same(pair, page())
    body = await same(pair, page(**variables))
    assert pair.lane.answered == 0 and pair.lane.missed[why] == 1
    assert body["data"] is None or "errors" in body or variables == {"s": "SHIRT"}


async def test_explain_and_mutations_are_never_learnt(pair: Pair) -> None:
    explain = {"query": '{ availability(channel: "eu_website", skus: ["SHIRT"]) '
                        '{ sku explain { name value level } } }'}
    cart = {"query": 'mutation { validateCart(channel: "eu_website", lines: '
                     '[{sku: "PACK", quantity: 6}]) { ok } }'}
    for body in (explain, explain, cart, cart):
        answer = await same(pair, body)
        assert "errors" not in answer
    # each learnt by its first request as one the lane does not cover
    assert pair.lane.missed == {Miss.UNKNOWN: 2, Miss.NOT_COVERED: 2}
    assert pair.lane.answered == 0


async def test_a_selection_switched_by_a_variable_is_compiled_per_value(pair: Pair) -> None:
    query = ("query($e: Boolean!) { availability(channel: \"eu_website\", skus: [\"SHIRT\"]) "
             "{ sku explain @include(if: $e) { name } } }")
    assert "explain" in (await same(pair, {"query": query, "variables": {"e": True}})
                         )["data"]["availability"][0]
    assert "explain" not in (await same(pair, {"query": query, "variables": {"e": False}})
                             )["data"]["availability"][0]
    await same(pair, {"query": query, "variables": {"e": True}})
    assert pair.lane.answered == 1  # e=false: the lane; e=true: explain, the normal path
    assert pair.lane.missed[Miss.NOT_COVERED] == 1


async def test_a_null_where_a_value_is_required_is_reported_by_the_normal_path(
        pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    await same(pair, page())
    for app in pair.apps:
        storefront = app.state.services.storefront
        real = storefront.availability

        async def without_sku(*args: Any, real: Any = real, **kwargs: Any) -> Any:
            return [a and dataclasses.replace(a, sku=None) for a in await real(*args, **kwargs)]
        monkeypatch.setattr(storefront, "availability", without_sku)
    body = await same(pair, page())
    # sku is String!: each item is nulled, with an error (masked: a bug, not a refusal)
    assert body["data"]["availability"][0] is None
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_ERROR"
    assert pair.lane.missed[Miss.FAILED] == 1 and pair.lane.answered == 0


async def test_a_read_after_an_order_sees_it(pair: Pair) -> None:
    await same(pair, page(s=["PACK"]))
    before = (await same(pair, page(s=["PACK"])))["data"]["availability"][0]["salableQty"]
    placed = await pair.send(pair.off, {"query": 'mutation { placeOrder(orderId: "L1", channel: '
                                                 '"eu_website", lines: [{sku: "PACK", '
                                                 'quantity: 12}]) { ok } }'}, token=True)
    assert placed.json()["data"]["placeOrder"]["ok"] is True
    after = (await same(pair, page(s=["PACK"])))["data"]["availability"][0]["salableQty"]
    assert after == before - 12 and pair.lane.answered == 2


async def test_metrics_see_the_operation_the_lane_answered(pair: Pair) -> None:
    for _ in range(3):
        await same(pair, page())
    assert pair.lane.answered == 2
    metrics = (await pair.on.get("/metrics")).text
    assert 'gateway_graphql_requests_total{operation="Page",type="query"} 3.0' in metrics


async def test_the_plan_cache_is_bounded(pair: Pair) -> None:
    pair.lane.plans.size = 3
    queries = [f'{{ a{n}: availability(channel: "eu_website", skus: ["SHIRT"]) {{ sku }} }}'
               for n in range(5)]
    for query in queries:
        await same(pair, {"query": query})
    assert len(pair.lane.plans) == 3
    await same(pair, {"query": queries[0]})  # forgotten: learnt again by the normal path
    await same(pair, {"query": queries[-1]})
    assert pair.lane.answered == 1
    assert MAX_PLANS >= 256


async def test_a_body_the_lane_does_not_read_goes_to_the_normal_path(pair: Pair) -> None:
    await same(pair, page())
    for options in ({"content_type": "text/plain"}, {"raw": b'{"query": 1}'},
                    {"raw": b"[]"}, {"raw": b'{"query": "{ x }", "variables": [1]}'},
                    {"raw": b'{"query": "\\ud800"}'}, {"raw": b"\xff"}):
        await same(pair, page(), **options)
    assert pair.lane.answered == 0 and pair.lane.missed[Miss.BODY] == 6


async def test_production_mode_answers_the_same_through_the_lane(tmp_path: Path) -> None:
    async with open_pair(tmp_path / "gateway.sqlite3", env="production") as pair:
        typed = {"query": "{ __typename " + QUERY.split("{", 1)[1].replace("$c", '"eu_website"')
                 .replace("$s", '["SHIRT"]').replace("$g", "null"), "variables": {}}
        for body in (page(), page(), typed, typed):
            answer = await same(pair, body)
            assert "errors" not in answer
        introspection = {"query": "{ __schema { queryType { name } } }"}
        for _ in range(2):  # refused in production, by the normal path both times
            assert (await same(pair, introspection))["errors"]
        assert pair.lane.answered == 2


TWO_READS = ('query A { availability(channel: "eu_website", skus: ["SHIRT"]) { sku } } '
             'query B { availability(channel: "eu_website", skus: ["SHIRT"]) '
             "{ sku salableQty } }")


async def test_the_named_operation_of_several_takes_the_lane(pair: Pair) -> None:
    for name, wanted in (("B", {"sku": "SHIRT", "salableQty": 7}), ("A", {"sku": "SHIRT"})):
        for _ in range(2):  # learnt, then answered by the lane
            answer = await same(pair, {"query": TWO_READS, "operationName": name})
            assert answer["data"] == {"availability": [wanted]}
    assert pair.lane.answered == 2


async def test_several_operations_without_a_name_are_refused_on_both_paths(
        pair: Pair) -> None:
    for _ in range(2):  # nothing is learnt from a refusal
        answer = await same(pair, {"query": TWO_READS})
        assert answer["data"] is None
        (error,) = answer["errors"]
        assert error["extensions"]["code"] == "BAD_REQUEST", error
        assert "operationName" in error["message"]
    assert pair.lane.answered == 0
