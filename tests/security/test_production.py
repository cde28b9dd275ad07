"""Production mode (GATEWAY_ENV=production): no GraphiQL, no introspection, no field suggestions.

Development mode is checked beside it, so a test proves the switch does something.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from gateway.settings import Settings
from tests.support import SHOP, TOKEN, Api

AVAILABILITY = ('{ availability(channel: "eu_website", skus: ["SHIRT"]) '
                "{ sku salableQty isSalable } }")
INTROSPECTION = [
    "{ __schema { types { name } } }",
    '{ __type(name: "Query") { fields { name } } }',
    "query { availability(channel: \"eu_website\", skus: [\"SHIRT\"]) "
    "{ sku __type: __typename } __schema { queryType { name } } }",
]
MISSPELLED = '{ availabilty(channel: "eu_website", skus: ["SHIRT"]) { sku } }'
MISSPELLED_SUBFIELD = '{ availability(channel: "eu_website", skus: ["SHIRT"]) { salableQyt } }'


@pytest.fixture(params=[True, False], ids=["production", "development"])
async def mode(request: pytest.FixtureRequest,
               make_api: Callable[..., Any]) -> AsyncIterator[tuple[bool, Api]]:
    production: bool = request.param
    async with make_api(env="production" if production else "development") as api:
        await api.load(SHOP)
        yield production, api


def is_graphiql(text: str) -> bool:
    return "graphiql" in text.lower() and "<html" in text.lower()


async def test_graphiql_only_in_development(mode: tuple[bool, Api]) -> None:
    production, api = mode
    response = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code < 500
    if production:
        assert not is_graphiql(response.text), response.text[:300]
        assert 400 <= response.status_code < 500, response.status_code
    else:
        assert response.status_code == 200 and is_graphiql(response.text)


@pytest.mark.parametrize("query", INTROSPECTION)
async def test_introspection_only_in_development(mode: tuple[bool, Api], query: str) -> None:
    production, api = mode
    for token in (None, TOKEN):  # the back-office token does not turn introspection on
        body = await api.gql(query, token=token)
        if production:
            assert body.get("data") is None, body
            assert body["errors"] and "introspection" in body["errors"][0]["message"].lower()
            assert "__schema" not in str(body.get("data"))
        else:
            assert "errors" not in body, body


async def test_typename_is_not_introspection(mode: tuple[bool, Api]) -> None:
    _, api = mode
    assert await api.data("{ __typename }") == {"__typename": "Query"}


@pytest.mark.parametrize("query", [MISSPELLED, MISSPELLED_SUBFIELD])
async def test_field_suggestions_only_in_development(mode: tuple[bool, Api], query: str) -> None:
    production, api = mode
    body = await api.gql(query)
    assert body.get("data") is None
    message = " ".join(error["message"] for error in body["errors"])
    assert "Cannot query field" in message
    if production:
        assert "did you mean" not in message.lower(), message
        assert "availability" not in message.replace("availabilty", "")
        assert "salableQty" not in message
    else:
        assert "Did you mean" in message


MISSPELLED_ARGUMENT = '{ availability(chanel: "eu_website", skus: ["SHIRT"]) { sku } }'
MISSPELLED_ENUM = ('query($l: [CartLineInput!]!) { sourceSelection(channel: "eu_website", '
                   'algorithm: PRIORTY, lines: $l) { shippable } }')


@pytest.mark.parametrize("query", [MISSPELLED_ARGUMENT, MISSPELLED_ENUM],
                         ids=["argument", "enum value"])
async def test_other_suggestions_absent_in_production(mode: tuple[bool, Api], query: str) -> None:
    """Argument names and enum values leak the schema just like field names (anonymously:
    validation runs before the back-office permission)."""
    production, api = mode
    body = await api.gql(query, {"l": [{"sku": "SHIRT", "quantity": 1}]})
    assert body.get("data") is None
    message = " ".join(e["message"] for e in body["errors"])
    if production:
        assert "did you mean" not in message.lower(), message
    else:
        assert "did you mean" in message.lower(), message


async def test_normal_queries_work(mode: tuple[bool, Api]) -> None:
    _, api = mode
    assert await api.data(AVAILABILITY) == {"availability": [
        {"sku": "SHIRT", "salableQty": 7, "isSalable": True}]}
    data = await api.data('mutation { validateCart(channel: "eu_website", lines: '
                          '[{sku: "SHIRT", quantity: 8}]) { ok } }')
    assert data == {"validateCart": {"ok": False}}
    data = await api.data("{ sources { code } }", token=TOKEN)
    assert {s["code"] for s in data["sources"]} == {"eu-1", "eu-2", "eu-off", "us-1"}


def test_gateway_env_production_turns_production_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in [("production", True), ("PRODUCTION", True), ("", False),
                            ("development", False)]:
        monkeypatch.setenv("GATEWAY_ENV", value)
        assert Settings.from_env().production is expected, value
