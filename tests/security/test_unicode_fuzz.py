"""Invalid Unicode and control characters in every string argument of every field, against a
real ``gateway serve`` process.

The positions are derived from the served schema (introspection), like the auth test derives
the back-office fields: every argument, every input-object field and list item below it, whose
type is String, ID or JSON — a field added tomorrow is fuzzed without editing this file. Each
position is sent a lone surrogate (as a JSON escape: what ``JSON.stringify`` or ``json.dumps``
write for one) in a variable and in the query text, with and without the token; then a control
character. Nothing may answer 5xx or ``INTERNAL_ERROR``, and the server log may hold nothing at
ERROR (no traceback: hostile input must not be able to flood the error log).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest

from tests.servers import Server, import_catalog, running_server
from tests.support import SHOP

TOKEN = "fuzz-token"
TEXT_SCALARS = {"String", "ID", "JSON"}
#: A dummy value per scalar for the arguments that are not fuzzed.
DUMMIES: dict[str, Any] = {"String": "SHIRT", "ID": "SHIRT", "Int": 10, "Float": 1,
                           "Boolean": False, "JSON": {}}
SURROGATES = ["\ud800", "\udfff", "A\udbffB", "\udc00\ud800"]
IDENTIFIERS = {"sku", "skus", "channel", "channels", "customerGroup", "source", "code",
               "sourceCode", "orderId"}

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    """A place for a string in a call: root field, argument, path inside the argument."""

    root: str
    field: str
    argument: str
    path: Path_
    scalar: str
    #: the name of the argument or input field that holds the string
    name: str

    def __str__(self) -> str:
        inner = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path)
        return f"{self.root}.{self.field}({self.argument}{inner})"


def served_schema(server: Server) -> graphql.GraphQLSchema:
    response = httpx.post(f"{server.base}/graphql",
                          json={"query": graphql.get_introspection_query()}, timeout=30)
    assert response.status_code == 200, response.text
    return graphql.build_client_schema(response.json()["data"])


def positions_in(type_: graphql.GraphQLInputType, path: Path_, name: str,
                 depth: int = 0) -> Iterator[tuple[Path_, str, str]]:
    type_ = graphql.get_nullable_type(type_)  # type: ignore[assignment]
    if isinstance(type_, graphql.GraphQLList):
        yield from positions_in(type_.of_type, (*path, 0), name, depth)
    elif isinstance(type_, graphql.GraphQLInputObjectType):
        if depth < 4:
            for key, field in type_.fields.items():
                yield from positions_in(field.type, (*path, key), key, depth + 1)
    elif isinstance(type_, graphql.GraphQLScalarType) and type_.name in TEXT_SCALARS:
        yield path, type_.name, name


def all_positions(schema: graphql.GraphQLSchema) -> list[Position]:
    found = []
    for root in (schema.query_type, schema.mutation_type):
        assert root is not None
        for field_name, field in root.fields.items():
            for arg_name, arg in field.args.items():
                for path, scalar, name in positions_in(arg.type, (), arg_name):
                    found.append(Position(root.name, field_name, arg_name, path, scalar, name))
    return found


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


def with_value(type_: graphql.GraphQLInputType, path: Path_, value: Any) -> Any:
    """A valid value of ``type_`` with ``value`` at ``path`` (structure built as needed)."""
    if not path:
        return value
    type_ = graphql.get_nullable_type(type_)  # type: ignore[assignment]
    head, rest = path[0], path[1:]
    if isinstance(type_, graphql.GraphQLList):
        return [with_value(type_.of_type, rest, value)]
    assert isinstance(type_, graphql.GraphQLInputObjectType) and isinstance(head, str)
    base = dummy(type_)
    base[head] = with_value(type_.fields[head].type, rest, value)
    return base


def literal(value: Any, type_: graphql.GraphQLInputType, escape: bool) -> str:
    """GraphQL literal text of ``value``; strings written raw, or with GraphQL escapes
    (``\\u0000``, ``\\n``: the same syntax as JSON's) when ``escape``."""
    type_ = graphql.get_nullable_type(type_)  # type: ignore[assignment]
    if isinstance(type_, graphql.GraphQLList):
        items = value if isinstance(value, list) else [value]
        return "[" + ", ".join(literal(v, type_.of_type, escape) for v in items) + "]"
    if isinstance(type_, graphql.GraphQLInputObjectType):
        return "{" + ", ".join(f"{k}: {literal(v, type_.fields[k].type, escape)}"
                               for k, v in value.items()) + "}"
    if isinstance(type_, graphql.GraphQLEnumType):
        return str(value)
    return _json_literal(value, escape)


def _json_literal(value: Any, escape: bool) -> str:
    if isinstance(value, str):
        return json.dumps(value) if escape else '"' + value + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_json_literal(v, escape)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_json_literal(v, escape) for v in value) + "]"
    return json.dumps(value)


def selection(type_: graphql.GraphQLOutputType) -> str:
    named = graphql.get_named_type(type_)
    return "" if graphql.is_leaf_type(named) else "{ __typename }"


def call(schema: graphql.GraphQLSchema, position: Position, text: str,
         inline: bool, escape: bool = False) -> dict[str, Any]:
    """A request body putting ``text`` at ``position``: in a variable or in the query text
    (raw, or as GraphQL escapes)."""
    root = schema.query_type if position.root == "Query" else schema.mutation_type
    assert root is not None
    field = root.fields[position.field]
    args = {name: a for name, a in field.args.items()
            if graphql.is_required_argument(a) or name == position.argument}
    values = {name: dummy(a.type) for name, a in args.items()}
    target = field.args[position.argument].type
    hostile: Any = {"k": text} if position.scalar == "JSON" else text
    values[position.argument] = with_value(target, position.path, hostile)
    operation = "mutation" if position.root == "Mutation" else "query"
    if inline:
        passed = ", ".join(f"{n}: {literal(values[n], a.type, escape)}"
                           for n, a in args.items())
        return {"query": f"{operation} {{ {position.field}({passed}) "
                         f"{selection(field.type)} }}"}
    declared = ", ".join(f"${n}: {a.type}" for n, a in args.items())
    passed = ", ".join(f"{n}: ${n}" for n in args)
    return {"query": f"{operation}({declared}) {{ {position.field}({passed}) "
                     f"{selection(field.type)} }}", "variables": values}


def post(server: Server, body: dict[str, Any], token: bool) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {TOKEN}"
    # json.dumps writes a lone surrogate as a JSON escape, as every JSON encoder does
    return httpx.post(f"{server.base}/graphql", content=json.dumps(body).encode(),
                      headers=headers, timeout=30)


def codes(response: httpx.Response) -> list[str | None]:
    return [(e.get("extensions") or {}).get("code") for e in response.json().get("errors", [])]


def assert_clean(response: httpx.Response, label: object) -> None:
    assert response.status_code < 500, (label, response.status_code, response.text[:300])
    body = response.json()  # always JSON, never a text/plain 500
    assert "INTERNAL_ERROR" not in codes(response), (label, body)
    assert "Unexpected error." not in response.text, (label, body)


def assert_quiet_log(server: Server) -> None:
    log = server.logs()
    bad = [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line]
    assert not bad, "\n".join(bad[:20])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    db = import_catalog(tmp, SHOP)
    with running_server(db, token=TOKEN) as running:
        yield running


def test_every_string_position_is_found(server: Server) -> None:
    found = {str(p) for p in all_positions(served_schema(server))}
    for expected in ("Query.availability(skus[0])", "Query.availability(channel)",
                     "Query.availability(customerGroup)", "Mutation.validateCart(lines[0].sku)",
                     "Mutation.placeOrder(orderId)", "Mutation.importCatalog(document)",
                     "Mutation.setProductConfig(config)", "Mutation.upsertStock(stock.channels[0])",
                     "Mutation.setSourceItems(items[0].source)", "Query.lowStock(source)"):
        assert expected in found, sorted(found)


def test_lone_surrogates_anywhere_are_refused_cleanly(server: Server) -> None:
    schema = served_schema(server)
    positions = all_positions(schema)
    assert len(positions) >= 40
    sent = 0
    for index, position in enumerate(positions):
        text = SURROGATES[index % len(SURROGATES)]
        for inline in (False, True):
            for token in (False, True):
                label = (str(position), "inline" if inline else "variable", token)
                response = post(server, call(schema, position, text, inline), token)
                assert_clean(response, label)
                assert response.status_code == 400, (label, response.text[:300])
                assert codes(response) == ["BAD_USER_INPUT"], (label, response.text[:300])
                sent += 1
    assert sent == 4 * len(positions)
    assert_quiet_log(server)


@pytest.mark.parametrize("where", ["operationName", "extensions", "a variable nobody uses",
                                   "a JSON key"])
def test_lone_surrogates_outside_arguments_are_refused(server: Server, where: str) -> None:
    body: dict[str, Any] = {"query": "query A { __typename }"}
    if where == "operationName":
        body["operationName"] = "\ud800"
    elif where == "extensions":
        body["extensions"] = {"persistedQuery": {"sha256Hash": "\udc00"}}
    elif where == "a variable nobody uses":
        body["variables"] = {"unused": ["ok", "\ud800"]}
    else:
        body["variables"] = {"\ud800": 1}
    response = post(server, body, token=False)
    assert_clean(response, where)
    assert response.status_code == 400 and codes(response) == ["BAD_USER_INPUT"], response.text
    assert_quiet_log(server)


def test_control_characters_anywhere_are_refused_or_harmless(server: Server) -> None:
    """Identifiers refuse control characters with BAD_USER_INPUT; any other string may take
    them (a product name with a tab) but never breaks anything."""
    schema = served_schema(server)
    for index, position in enumerate(all_positions(schema)):
        text = ["A\x00B", "\x1b[31m", "line\nbreak", "\x7f", "\x85"][index % 5]
        for inline in (False, True):
            label = (str(position), "inline" if inline else "variable")
            response = post(server, call(schema, position, text, inline, escape=True),
                            token=True)
            assert_clean(response, label)
            assert response.status_code == 200, (label, response.text[:300])
            if position.name in IDENTIFIERS and position.scalar != "JSON":
                assert codes(response) == ["BAD_USER_INPUT"], (label, response.text[:300])
    assert_quiet_log(server)
    # The token was used: the shop may have been edited by the calls, never broken.
    still = httpx.post(f"{server.base}/graphql", json={"query": "{ __typename }"}, timeout=10)
    assert still.json()["data"] == {"__typename": "Query"}
    assert httpx.get(f"{server.base}/healthz", timeout=10).status_code == 200
