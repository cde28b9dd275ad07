"""The query cost: the pure computation, and the limit applied before anything executes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import graphql
import pytest

from gateway.api import cost as cost_module
from gateway.api.cost import LIST_SIZES, operation_cost, operation_plan
from gateway.domain.options import OPTIONS
from gateway.settings import Settings
from tests.support import SHOP, TOKEN, Api

FIELDS = ("sku channel stockId stockStatus isSalable salableQty onlyXLeft lowStock manageStock "
          "backorders assigned quantityRule { minimum maximum increment allowsDecimals "
          "allowsMultipleBoxes }")
EXPLAIN = "explain { name value level sourceCode overrides note }"
AVAILABILITY = ("query($skus: [String!]!) { availability(channel: \"eu_website\", skus: $skus) "
                "{ %s } }")
VALIDATE = ("mutation($l: [CartLineInput!]!) { validateCart(channel: \"eu_website\", lines: $l) "
            "{ ok lines { sku ok errors { code message } notices { code } } } }")
DEFAULTS = Settings()


def cost(query: str, variables: dict[str, Any] | None = None,
         operation_name: str | None = None) -> int:
    return operation_cost(graphql.parse(query), variables, operation_name)


def skus(count: int) -> list[str]:
    return [f"SKU-{i:05d}" for i in range(count)]


# --- the computation ------------------------------------------------------------------------

def test_objects_cost_one_scalars_nothing() -> None:
    assert cost("{ __typename }") == 0
    assert cost('{ availability(channel: "c", skus: ["A"]) { sku salableQty } }') == 1
    assert cost('{ availability(channel: "c", skus: ["A"]) { sku quantityRule { minimum } } }'
                ) == 2


def test_a_list_argument_multiplies_the_field_and_its_selection() -> None:
    query = AVAILABILITY % FIELDS
    assert cost(query, {"skus": skus(1)}) == 2
    assert cost(query, {"skus": skus(500)}) == 1000
    literal = '{ availability(channel: "c", skus: ["A", "B", "C"]) { quantityRule { minimum } } }'
    assert cost(literal) == 6
    assert cost(VALIDATE, {"l": [{"sku": "A", "quantity": 1}] * 500}) == 500 * 4


def test_explain_costs_one_per_option_and_sku() -> None:
    assert LIST_SIZES["explain"] == len(OPTIONS)
    query = AVAILABILITY % f"sku {EXPLAIN}"
    assert cost(query, {"skus": skus(10)}) == 10 * (1 + len(OPTIONS))


def test_aliases_and_fragment_spreads_multiply() -> None:
    one = 'a{i}: availability(channel: "c", skus: $skus) {{ sku quantityRule {{ minimum }} }}'
    query = "query($skus: [String!]!) { " + " ".join(one.format(i=i) for i in range(30)) + " }"
    assert cost(query, {"skus": skus(500)}) == 30 * 500 * 2
    spread = ("query($skus: [String!]!) { availability(channel: \"c\", skus: $skus) "
              "{ ...A ...A q: quantityRule { minimum } } } "
              "fragment A on ProductAvailability { quantityRule { minimum } }")
    assert cost(spread, {"skus": skus(10)}) == 10 * (1 + 3)


def test_nested_fragments_are_costed_once_each() -> None:
    """Each fragment doubles the one below: 2**40 objects, computed from 40 fragments."""
    depth = 40
    fragments = " ".join(
        f"fragment F{i} on ProductAvailability {{ ...F{i + 1} a: quantityRule {{ minimum }} "
        f"...F{i + 1} }}" for i in range(depth))
    query = ('{ availability(channel: "c", skus: ["A"]) { ...F0 } } ' + fragments
             + f" fragment F{depth} on ProductAvailability {{ sku }}")
    assert cost(query) == 1 + sum(2 ** i for i in range(depth))


def test_variables_measured_raw_not_coerced() -> None:
    query = AVAILABILITY % "sku"
    assert cost(query, {"skus": "ONE"}) == 1  # a single value is a list of one
    assert cost(query, {"skus": None}) == 1
    assert cost(query, {"skus": [object()] * 7}) == 7  # nothing looks inside the items
    assert cost(query, {}) == 1
    with_default = ('query($s: [String!] = ["A", "B", "C"]) { availability(channel: "c", '
                    "skus: $s) { sku } }")
    assert cost(with_default) == 3
    assert cost(with_default, {"s": ["A"]}) == 1


def test_the_named_operation_is_costed() -> None:
    query = ('query Small { availability(channel: "c", skus: ["A"]) { sku } } '
             'query Big { availability(channel: "c", skus: ["A", "B", "C", "D"]) { sku } }')
    assert cost(query, None, "Small") == 1
    assert cost(query, None, "Big") == 4
    assert cost(query, None, None) == 0  # ambiguous: execution refuses it
    assert cost(query, None, "Nope") == 0


def test_plans_are_made_once_per_document() -> None:
    document = graphql.parse(AVAILABILITY % "sku")
    first = operation_plan(document)
    assert first is not None and operation_plan(document) is first
    assert operation_plan(graphql.parse(AVAILABILITY % "sku")) is not first
    for _ in range(cost_module._PLAN_CACHE_SIZE + 10):  # the cache stays bounded
        operation_plan(graphql.parse("{ __typename }"))
    assert len(cost_module._PLANS) <= cost_module._PLAN_CACHE_SIZE


def test_defaults_let_a_storefront_page_through_and_refuse_the_bomb() -> None:
    page = cost(AVAILABILITY % FIELDS, {"skus": skus(DEFAULTS.max_skus)})
    assert page <= DEFAULTS.max_cost
    bomb = cost("query($skus: [String!]!) { " + " ".join(
        f'a{i}: availability(channel: "c", skus: $skus) {{ sku {EXPLAIN} }}'
        for i in range(30)) + " }", {"skus": skus(500)})
    assert bomb > DEFAULTS.max_back_office_cost > DEFAULTS.max_cost
    items = cost("mutation($i: [SourceItemInput!]!) { setSourceItems(items: $i) "
                 "{ ok errors { path message code } } }", {"i": [{}] * 10_000})
    assert DEFAULTS.max_cost < items <= DEFAULTS.max_back_office_cost


# --- the limit, in the app --------------------------------------------------------------------

async def test_every_answer_reports_its_cost(api: Api) -> None:
    body = await api.gql(AVAILABILITY % FIELDS, {"skus": ["SHIRT", "NOPE"]})
    assert body["extensions"] == {"cost": {"requested": 4, "limit": DEFAULTS.max_cost}}
    body = await api.gql(VALIDATE, {"l": [{"sku": "SHIRT", "quantity": 1}]})
    assert body["extensions"]["cost"] == {"requested": 4, "limit": DEFAULTS.max_cost}
    body = await api.gql("{ inventoryConfig { options { name } } }", token=TOKEN)
    assert body["extensions"]["cost"] == {"requested": 2,
                                          "limit": DEFAULTS.max_back_office_cost}
    body = await api.gql(graphql.get_introspection_query())
    assert "errors" not in body and body["extensions"]["cost"]["requested"] < 100


async def test_over_the_limit_nothing_runs(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []

    async def spy(*args: object, **kwargs: object) -> None:
        calls.append(args)

    monkeypatch.setattr(api.services.storefront, "availability", spy)
    query = "query($skus: [String!]!) { " + " ".join(
        f'a{i}: availability(channel: "eu_website", skus: $skus) {{ sku {EXPLAIN} }}'
        for i in range(30)) + " }"
    body = await api.gql(query, {"skus": skus(500)})
    requested = 30 * 500 * (1 + len(OPTIONS))
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert error["extensions"]["cost"] == {"requested": requested, "limit": DEFAULTS.max_cost}
    assert str(requested) in error["message"] and str(DEFAULTS.max_cost) in error["message"]
    assert body["extensions"]["cost"] == {"requested": requested, "limit": DEFAULTS.max_cost}
    assert calls == []


async def test_the_limit_is_configurable(make_api: Callable[..., Any]) -> None:
    async with make_api(max_cost=3, max_back_office_cost=5) as api:
        await api.load(SHOP)
        query = AVAILABILITY % "sku"
        assert "errors" not in await api.gql(query, {"skus": ["A", "B", "C"]})
        body = await api.gql(query, {"skus": ["A", "B", "C", "D"]})
        assert body["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
        body = await api.gql(query, {"skus": ["A", "B", "C", "D"]}, token=TOKEN)
        assert "errors" not in body and body["extensions"]["cost"]["limit"] == 5


async def test_list_limits_are_checked_before_coercion(
        make_api: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A 300,000-line cart is refused by its length, without coercing a single line (the
    public body limit is raised to the back office's so the public request gets that far)."""
    coerced: list[object] = []
    original = graphql.execution.values.coerce_input_value

    def counting(*args: Any, **kwargs: Any) -> Any:
        coerced.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(graphql.execution.values, "coerce_input_value", counting)
    lines = [{"sku": "S", "quantity": 1}] * 300_000
    async with make_api(max_public_body_bytes=DEFAULTS.max_body_bytes) as api:
        await check_lines_refused(api, lines, coerced)


async def check_lines_refused(api: Api, lines: list[dict[str, Any]],
                              coerced: list[object]) -> None:
    await api.load(SHOP)
    coerced.clear()
    for token in (None, TOKEN):
        body = await api.gql(VALIDATE, {"l": lines}, token=token)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "LIMIT_EXCEEDED", error
        assert "300000" in error["message"]
        assert body["extensions"]["cost"]["requested"] == 4 * 300_000  # reported all the same
    body = await api.gql(AVAILABILITY % "sku", {"skus": skus(DEFAULTS.max_skus + 1)})
    assert body["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert coerced == []
    assert "errors" not in await api.gql(AVAILABILITY % "sku", {"skus": ["SHIRT"]})
    assert coerced  # the spy does see coercion when a request runs


async def test_back_office_bulk_writes_fit_the_back_office_limit(api: Api) -> None:
    items = [{"sku": f"NEW-{i:05d}", "source": "eu-1", "quantity": 1, "status": "IN_STOCK"}
             for i in range(10_000)]
    body = await api.gql("mutation($i: [SourceItemInput!]!) { setSourceItems(items: $i) "
                         "{ ok errors { path message } } }", {"i": items}, token=TOKEN)
    assert "errors" not in body, body.get("errors")
    assert body["data"]["setSourceItems"] == {"ok": True, "errors": []}
    assert DEFAULTS.max_cost < body["extensions"]["cost"]["requested"]
