"""Every back-office field refuses a caller without the token, derived from the schema itself.

The back-office fields are all Mutation fields but ``validateCart`` and all Query fields but
``availability``: a field added tomorrow is covered without editing this file. Each one is called
with a minimal valid call generated from its argument types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import graphql
import pytest

from gateway.api.schema import build_schema
from gateway.settings import Settings
from tests.support import SHOP, TOKEN, Api

#: The storefront, and the federation fields a router calls (``_entities`` answers only
#: storefront availability; ``_service`` only the storefront subgraph's SDL).
PUBLIC = {"Query": {"availability", "_entities", "_service"}, "Mutation": {"validateCart"}}

#: A dummy value per scalar; a new custom scalar must be added here (the test says so).
DUMMIES: dict[str, Any] = {"String": "X", "Int": 10, "Float": 1, "Boolean": False, "JSON": {},
                           "ID": "X"}

EXPECTED_BACK_OFFICE = {
    "placeOrder", "cancelOrder", "shipOrder", "refundOrder", "importCatalog", "setGlobalConfig",
    "setStockConfig", "setProductConfig", "upsertSource", "upsertStock", "upsertProduct",
    "setSourceItems", "deleteProduct", "sourceSelection", "order", "lowStock",
    "inventoryConfig", "sources", "stocks", "product"}

# (federation directives such as @key are not declared in the printed SDL)
SCHEMA = graphql.build_schema(build_schema(Settings()).as_str(), assume_valid_sdl=True)


def dummy(type_: graphql.GraphQLInputType) -> Any:
    """A minimal valid value of an input type (variables JSON)."""
    type_ = graphql.get_nullable_type(type_)  # type: ignore[assignment]
    if isinstance(type_, graphql.GraphQLList):
        return [dummy(type_.of_type)]
    if isinstance(type_, graphql.GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, graphql.GraphQLInputObjectType):
        return {name: dummy(f.type) for name, f in type_.fields.items()
                if graphql.is_required_input_field(f)}
    assert isinstance(type_, graphql.GraphQLScalarType)
    assert type_.name in DUMMIES, f"add a dummy value for the new scalar {type_.name}"
    return DUMMIES[type_.name]


def selection(type_: graphql.GraphQLOutputType, depth: int = 0) -> str:
    """A minimal selection: the first leaf field, else the first object field, recursively."""
    named = graphql.get_named_type(type_)
    if graphql.is_leaf_type(named):
        return ""
    if not isinstance(named, graphql.GraphQLObjectType) or depth > 5:
        return "{ __typename }"
    callable_fields = {name: f for name, f in named.fields.items()
                       if not any(graphql.is_required_argument(a) for a in f.args.values())}
    for name, f in callable_fields.items():
        if graphql.is_leaf_type(graphql.get_named_type(f.type)):
            return "{ " + name + " }"
    for name, f in callable_fields.items():
        return "{ " + name + " " + selection(f.type, depth + 1) + " }"
    return "{ __typename }"


@dataclass(frozen=True)
class Call:
    root: str
    name: str
    query: str
    variables: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.root}.{self.name}"


def minimal_call(root: str, name: str, f: graphql.GraphQLField) -> Call:
    required = {arg: a for arg, a in f.args.items() if graphql.is_required_argument(a)}
    declared = ", ".join(f"${arg}: {a.type}" for arg, a in required.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg, a in required.items())
    operation = "mutation" if root == "Mutation" else "query"
    header = f"{operation}({declared})" if declared else operation
    invocation = f"{name}({passed})" if passed else name
    query = header + " { " + invocation + " " + selection(f.type) + " }"
    return Call(root, name, query, {arg: dummy(a.type) for arg, a in required.items()})


def back_office_calls() -> list[Call]:
    calls = []
    for root_type in (SCHEMA.query_type, SCHEMA.mutation_type):
        assert root_type is not None
        for name, f in root_type.fields.items():
            if name not in PUBLIC[root_type.name]:
                calls.append(minimal_call(root_type.name, name, f))
    return calls


CALLS = back_office_calls()


def test_the_derivation_finds_every_known_back_office_field() -> None:
    found = {call.name for call in CALLS}
    assert found >= EXPECTED_BACK_OFFICE, EXPECTED_BACK_OFFICE - found
    assert not found & {"availability", "validateCart"}
    for call in CALLS:  # every generated call is valid against the schema
        assert not graphql.validate(SCHEMA, graphql.parse(call.query)), call.query


def headers_for(authorization: str | None) -> dict[str, str]:
    return {"Authorization": authorization} if authorization is not None else {}


BAD_CREDENTIALS: list[tuple[str, str | None]] = [
    ("no header", None),
    ("wrong token, same length", "Bearer " + "x" * len(TOKEN)),
    ("token of another length", f"Bearer {TOKEN}-and-more"),
    ("token prefix", f"Bearer {TOKEN[:-1]}"),
    ("Basic scheme", f"Basic {TOKEN}"),
    ("no scheme", TOKEN),
    ("empty bearer", "Bearer "),
    ("bearer twice", f"Bearer Bearer {TOKEN}"),
]


async def post(api: Api, call: Call, authorization: str | None) -> dict[str, Any]:
    response = await api.client.post("/graphql", json={"query": call.query,
                                                       "variables": call.variables},
                                     headers=headers_for(authorization))
    assert response.status_code == 200, (call.query, response.status_code, response.text)
    body: dict[str, Any] = response.json()
    return body


def assert_unauthenticated(body: dict[str, Any], call: Call, label: object = None) -> None:
    errors = body.get("errors") or []
    assert errors, (label, call.query, body)
    assert [e.get("extensions", {}).get("code") for e in errors] == ["UNAUTHENTICATED"], \
        (label, body)
    assert body["data"] is None or body["data"].get(call.name) is None, (label, body)


@pytest.mark.parametrize("call", CALLS, ids=str)
async def test_back_office_field_needs_the_token(api: Api, call: Call) -> None:
    before = await api.services.catalog.export_document()
    for label, authorization in BAD_CREDENTIALS:
        body = await post(api, call, authorization)
        assert_unauthenticated(body, call, label)
        assert await api.services.catalog.export_document() == before, label

    # The right token passes the permission (the dummy call may still be refused otherwise,
    # e.g. an unknown channel "X", but never with UNAUTHENTICATED nor an internal error).
    body = await post(api, call, f"Bearer {TOKEN}")
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    assert "UNAUTHENTICATED" not in codes, body
    assert "INTERNAL_ERROR" not in codes, body
    # The scheme is case-insensitive, the token exact.
    body = await post(api, call, f"bearer {TOKEN}")
    assert "UNAUTHENTICATED" not in [e.get("extensions", {}).get("code")
                                     for e in body.get("errors") or []], body


@pytest.mark.parametrize("call", CALLS, ids=str)
async def test_without_a_configured_token_everything_back_office_is_refused(
        make_api: Callable[..., Any], call: Call) -> None:
    async with make_api() as loader:  # load the shop with a token first ...
        await loader.load(SHOP)
    async with make_api(admin_token=None) as api:  # ... then serve it without one
        before = await api.services.catalog.export_document()
        for authorization in ("Bearer anything", f"Bearer {TOKEN}", "Bearer ", "Bearer None",
                              None):
            assert_unauthenticated(await post(api, call, authorization), call, authorization)
        assert await api.services.catalog.export_document() == before


async def test_the_empty_string_token_is_no_token(make_api: Callable[..., Any]) -> None:
    """``GATEWAY_ADMIN_TOKEN=""`` must not make "Bearer " a valid credential."""
    async with make_api(admin_token="") as api:
        call = next(c for c in CALLS if c.name == "inventoryConfig")
        for authorization in ("Bearer ", "Bearer", None):
            assert_unauthenticated(await post(api, call, authorization), call, authorization)


@pytest.mark.parametrize(("root", "name"), [("Query", "availability"),
                                             ("Mutation", "validateCart")])
async def test_storefront_fields_are_public(api: Api, root: str, name: str) -> None:
    root_type = SCHEMA.query_type if root == "Query" else SCHEMA.mutation_type
    assert root_type is not None
    call = minimal_call(root, name, root_type.fields[name])
    body = await post(api, call, None)
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    assert "UNAUTHENTICATED" not in codes, body
