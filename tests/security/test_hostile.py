"""Hostile requests against the ASGI app: each one is refused cleanly and changes nothing.

Every case of the table is sent to an app with the shop loaded, then checked for:

- a clean refusal (an HTTP 4xx, a GraphQL error with the expected ``extensions.code``, or a
  domain refusal as data, whichever fits the request);
- every error in the answer carrying an ``extensions.code`` (graphql-core's parse, validation
  and variable errors too), and every 400 or 413 a GraphQL-shaped JSON body with one;
- never a 5xx (an exception escaping the app is a 500 behind a real server) and no Python
  traceback text in the body;
- the server still answering a normal availability query afterwards;
- the catalog (``export_document``) unchanged, and no order left behind by a refused placeOrder.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from gateway.settings import Settings
from tests.support import TOKEN, Api

LIMITS = Settings()
BODY_LIMIT = LIMITS.max_body_bytes

AVAILABILITY = """query($skus: [String!]!) { availability(channel: "eu_website", skus: $skus)
  { sku salableQty isSalable } }"""
VALIDATE = """mutation($l: [CartLineInput!]!) { validateCart(channel: "eu_website", lines: $l)
  { ok lines { sku ok errors { code } } } }"""
PLACE = """mutation($id: String!, $l: [CartLineInput!]!) {
  placeOrder(orderId: $id, channel: "eu_website", lines: $l)
  { ok status error { code } lines { sku ok errors { code } } } }"""
IMPORT = """mutation($d: JSON!) { importCatalog(document: $d, replace: false)
  { ok errors { path message } } }"""
ORDER = "query($id: String!) { order(orderId: $id) { orderId status } }"

#: Text that only a leaked traceback (or a debug page) would put in a response body.
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/', ".py\", line ")


# --- how a case is sent -----------------------------------------------------------------------

@dataclass(frozen=True)
class Hostile:
    """One hostile request and what a clean refusal of it looks like."""

    id: str
    expect: Callable[[httpx.Response], None]
    #: the raw body, or a function building it (large bodies are built when the case runs)
    body: bytes | Callable[[], bytes] = b""
    method: str = "POST"
    content_type: str | None = "application/json"
    token: bool = False
    params: dict[str, str] = field(default_factory=dict)
    chunked: bool = False
    #: placeOrder cases: this order must not exist afterwards (nothing reserved)
    order_id: str | None = None
    #: extra headers (a list: the same name may appear twice)
    headers: tuple[tuple[str, str], ...] = ()


def raw(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def raw_text(query: str, variables_json: str) -> bytes:
    """A body whose variables are written by hand (NaN, 1e400, ... are not valid JSON)."""
    return ('{"query": ' + json.dumps(query) + ', "variables": ' + variables_json + "}").encode()


def lines(quantity: object) -> list[dict[str, Any]]:
    return [{"sku": "SHIRT", "quantity": quantity}]


async def send(api: Api, case: Hostile) -> httpx.Response:
    headers = list(case.headers)
    if case.content_type is not None:
        headers.append(("content-type", case.content_type))
    if case.token:
        headers.append(("authorization", f"Bearer {TOKEN}"))
    body = case.body() if callable(case.body) else case.body
    content: bytes | AsyncIterator[bytes] = body
    if case.chunked:
        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 1 << 20):
                yield body[start:start + (1 << 20)]
        content = chunks()
    try:
        return await api.client.request(case.method, "/graphql", content=content,
                                        headers=headers, params=case.params)
    except Exception as exc:  # ASGITransport re-raises what a real server answers with a 500
        pytest.fail(f"{case.id}: unhandled {type(exc).__name__} in the app (HTTP 500 behind a "
                    f"real server): {str(exc)[:300]}")


# --- expectations -------------------------------------------------------------------------------

def http_status(status: int, text: str | None = None) -> Callable[[httpx.Response], None]:
    def check(response: httpx.Response) -> None:
        assert response.status_code == status, (response.status_code, response.text[:500])
        if text is not None:
            assert text.lower() in response.text.lower(), response.text[:500]
    return check


def refused(status: int, code: str, text: str | None = None
            ) -> Callable[[httpx.Response], None]:
    """An HTTP refusal with a GraphQL-shaped JSON body carrying ``code``."""
    def check(response: httpx.Response) -> None:
        assert response.status_code == status, (response.status_code, response.text[:500])
        assert response.headers["content-type"].startswith("application/json"), response.headers
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == code, error
        if text is not None:
            assert text.lower() in error["message"].lower(), error
    return check


def graphql_error(code: str | None = None, message: str | None = None
                  ) -> Callable[[httpx.Response], None]:
    """HTTP 200, no data, and an error; with ``code``, the first error carries that code.

    Without ``code``: any refusal made before a resolver ran (``message`` says which); that it
    has a code at all is checked for every case (:func:`assert_every_error_has_a_code`).
    """
    def check(response: httpx.Response) -> None:
        assert response.status_code == 200, (response.status_code, response.text[:500])
        body = response.json()
        assert body.get("data") is None, body
        errors = body.get("errors")
        assert errors, body
        first = errors[0]
        assert isinstance(first.get("message"), str) and first["message"], body
        if code is not None:
            assert (first.get("extensions") or {}).get("code") == code, body
        else:  # refused before any resolver ran: nothing was executed
            assert "path" not in first, body
        if message is not None:
            assert message.lower() in first["message"].lower(), body
    return check


def assert_every_error_has_a_code(response: httpx.Response) -> None:
    """Clients branch on ``extensions.code``: no error without one, none INTERNAL_ERROR; our
    HTTP refusals (400, 413) are JSON too. (405 for a method no route serves is Starlette's.)"""
    if response.status_code in (400, 413):
        assert response.headers["content-type"].startswith("application/json"), response.text
    if not response.headers.get("content-type", "").startswith("application/json"):
        return
    for error in response.json().get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        assert isinstance(code, str) and code and code != "INTERNAL_ERROR", error


def cart_refused(field_name: str, issue: str) -> Callable[[httpx.Response], None]:
    """A domain refusal as data: the operation answers ok=false and each line has ``issue``."""
    def check(response: httpx.Response) -> None:
        assert response.status_code == 200, (response.status_code, response.text[:500])
        body = response.json()
        assert "errors" not in body, body
        result = body["data"][field_name]
        assert result["ok"] is False, result
        if "lines" in result:  # placeOrder may refuse before checking lines
            for line in result["lines"]:
                assert line["ok"] is False and issue in [e["code"] for e in line["errors"]], \
                    result
        else:
            assert result["error"] is None, result
    return check


def order_refused(code: str) -> Callable[[httpx.Response], None]:
    def check(response: httpx.Response) -> None:
        assert response.status_code == 200, (response.status_code, response.text[:500])
        body = response.json()
        assert "errors" not in body, body
        result = body["data"]["placeOrder"]
        assert result["ok"] is False and result["error"]["code"] == code, result
    return check


def import_refused(*paths: str) -> Callable[[httpx.Response], None]:
    """importCatalog answered ok=false with (at least) these error paths."""
    def check(response: httpx.Response) -> None:
        assert response.status_code == 200, (response.status_code, response.text[:500])
        body = response.json()
        assert "errors" not in body, body
        result = body["data"]["importCatalog"]
        assert result["ok"] is False and result["errors"], result
        found = {error["path"] for error in result["errors"]}
        assert all(error["message"] for error in result["errors"]), result
        assert set(paths) <= found, (paths, result)
    return check


# --- the table ----------------------------------------------------------------------------------

def _skus(count: int) -> Callable[[], bytes]:
    def build() -> bytes:
        return raw(AVAILABILITY, {"skus": [f"SKU-{i:07d}" for i in range(count)]})
    return build


def _under_the_body_limit(count: int) -> Callable[[], bytes]:
    """``count`` SKUs in a body that stays under the body limit, so the list limit answers."""
    build = _skus(count)

    def checked() -> bytes:
        body = build()
        assert len(body) < BODY_LIMIT, "the list-limit case must stay under the body limit"
        return body
    return checked


def _over_the_body_limit() -> bytes:
    body = raw(AVAILABILITY, {"skus": ["S" * 60] * (BODY_LIMIT // 60 + 10)})
    assert len(body) > BODY_LIMIT
    return body


def _nested(depth: int, leaf: str = "1") -> str:
    return '{"a": ' * depth + leaf + "}" * depth


def _deep_query(depth: int) -> bytes:
    """Selections nested beyond the depth limit (the schema has no recursive type, so the
    inner names are not fields: the depth limit must refuse it all the same)."""
    inner = "sku"
    for level in range(depth):
        inner = f"n{level} {{ {inner} }}"
    return raw('{ availability(channel: "eu_website", skus: ["SHIRT"]) { ' + inner + " } }")


def _surrogate_query(field: str, token: bool = False) -> Hostile:
    return Hostile(f"lone surrogate in {field}", refused(400, "BAD_USER_INPUT", "surrogate"),
                   _with_surrogate(field), token=token)


def _with_surrogate(where: str) -> bytes:
    """A request with a lone surrogate (a JSON escape, as ``json.dumps`` writes it) at
    ``where``."""
    lone = "\ud800"
    bodies: dict[str, dict[str, Any]] = {
        "a SKU variable": {"query": AVAILABILITY, "variables": {"skus": ["SHIRT", lone]}},
        "the query text": {"query": '{ availability(channel: "eu_website", skus: ["' + lone
                                    + '"]) { sku } }'},
        "a query comment": {"query": "# " + lone + "\n{ __typename }"},
        "the operation name": {"query": "query A { __typename }", "operationName": lone},
        "a channel literal": {"query": '{ availability(channel: "' + lone
                                       + '", skus: ["SHIRT"]) { sku } }'},
        "a customer group variable": {"query": "query($g: String) { availability(channel: "
                                               '"eu_website", skus: ["SHIRT"], '
                                               "customerGroup: $g) { sku } }",
                                      "variables": {"g": lone}},
        "a cart line SKU": {"query": VALIDATE, "variables": {"l": [{"sku": lone,
                                                                      "quantity": 1}]}},
        "an order id": {"query": PLACE, "variables": {"id": lone, "l": lines(1)}},
        "an importCatalog document key": {"query": IMPORT, "variables": {"d": {lone: 1}}},
        "an importCatalog product name": {"query": IMPORT, "variables": {"d": {
            "format": "availability-catalog/1", "products": [{"sku": "NEW", "name": lone}]}}},
        "a setProductConfig value": {
            "query": "mutation($c: JSON!) { setProductConfig(sku: \"SHIRT\", config: $c) "
                     "{ ok } }", "variables": {"c": {"backorders": lone}}},
        "an unused variable": {"query": "{ __typename }", "variables": {"x": ["a", lone]}},
        "the extensions": {"query": "{ __typename }", "extensions": {"x": lone}},
        "a low surrogate": {"query": AVAILABILITY, "variables": {"skus": ["\udc00"]}},
        "a reversed pair": {"query": AVAILABILITY, "variables": {"skus": ["\udc00\ud800"]}},
    }
    return json.dumps(bodies[where]).encode()


def _cart(count: int) -> Callable[[], bytes]:
    def build() -> bytes:
        return json.dumps({"query": VALIDATE, "variables": {"l": [
            {"sku": "S", "quantity": 1}] * count}}, separators=(",", ":")).encode()
    return build


def _explain_aliases(aliases: int, count: int) -> bytes:
    fields = " ".join(f'a{i}: availability(channel: "eu_website", skus: $skus) '
                      "{ sku explain { name value level sourceCode overrides note } }"
                      for i in range(aliases))
    return raw("query($skus: [String!]!) { " + fields + " }",
               {"skus": [f"SKU-{i:05d}" for i in range(count)]})


SURROGATE_PLACES = ["a SKU variable", "the query text", "a query comment",
                    "the operation name", "a channel literal", "a customer group variable",
                    "a cart line SKU", "an unused variable", "the extensions",
                    "a low surrogate", "a reversed pair"]
BACK_OFFICE_SURROGATE_PLACES = ["an order id", "an importCatalog document key",
                                "an importCatalog product name", "a setProductConfig value"]
CONTROL = [("NUL", "\x00"), ("newline", "\n"), ("escape", "\x1b"), ("DEL", "\x7f"),
           ("C1 NEL", "\x85")]


ALIAS_BOMB = "{ " + " ".join(
    f'a{i}: availability(channel: "eu_website", skus: ["SHIRT"]) {{ sku salableQty }}'
    for i in range(50)) + " }"
TOKEN_FLOOD = "{ " + " ".join("__typename" for _ in range(20_000)) + " }"
LONG_ORDER_ID = "9" * 10_000

QUANTITIES = [("negative", -1), ("zero", 0), ("over-precise", 1.00001), ("huge", 1e300)]
NON_FINITE = ["NaN", "Infinity", "-Infinity"]

CASES: list[Hostile] = [
    # Quantities: domain refusals as data (INVALID_QUANTITY), nothing reserved.
    *[Hostile(f"validateCart quantity {name}", cart_refused("validateCart", "INVALID_QUANTITY"),
              raw(VALIDATE, {"l": lines(q)})) for name, q in QUANTITIES],
    *[Hostile(f"placeOrder quantity {name}", cart_refused("placeOrder", "INVALID_QUANTITY"),
              raw(PLACE, {"id": f"hostile-{name}", "l": lines(q)}), token=True,
              order_id=f"hostile-{name}") for name, q in QUANTITIES],
    Hostile("validateCart literal 1e400", cart_refused("validateCart", "INVALID_QUANTITY"),
            raw('mutation { validateCart(channel: "eu_website", lines: '
                '[{sku: "SHIRT", quantity: 1e400}]) { ok lines { ok errors { code } } } }')),
    Hostile("placeOrder literal 1e400", cart_refused("placeOrder", "INVALID_QUANTITY"),
            raw('mutation { placeOrder(orderId: "hostile-1e400", channel: "eu_website", lines: '
                '[{sku: "SHIRT", quantity: 1e400}]) { ok error { code } '
                'lines { ok errors { code } } } }'),
            token=True, order_id="hostile-1e400"),
    *[Hostile(f"validateCart variables {lit}", graphql_error(message="Float cannot represent"),
              raw_text(VALIDATE, '{"l": [{"sku": "SHIRT", "quantity": ' + lit + "}]}"))
      for lit in NON_FINITE],
    *[Hostile(f"placeOrder variables {lit}", graphql_error(message="Float cannot represent"),
              raw_text(PLACE, f'{{"id": "hostile-{lit}", "l": [{{"sku": "SHIRT", '
                              f'"quantity": {lit}}}]}}'), token=True, order_id=f"hostile-{lit}")
      for lit in NON_FINITE],
    Hostile("validateCart quantity 1e400 in JSON variables",
            graphql_error(message="Float cannot represent"),
            raw_text(VALIDATE, '{"l": [{"sku": "SHIRT", "quantity": 1e400}]}')),
    Hostile("validateCart quantity as a string",
            graphql_error(message="Float cannot represent"), raw(VALIDATE, {"l": lines("1")})),
    Hostile("placeOrder quantity as a string", graphql_error(message="Float cannot represent"),
            raw(PLACE, {"id": "hostile-string", "l": lines("1")}), token=True,
            order_id="hostile-string"),
    Hostile("placeOrder orderId of 10k chars", order_refused("INVALID_ORDER_ID"),
            raw(PLACE, {"id": LONG_ORDER_ID, "l": lines(1)}), token=True),
    # Arguments and limits.
    Hostile("unknown channel", graphql_error("CHANNEL_NOT_FOUND"),
            raw('{ availability(channel: "mars", skus: ["SHIRT"]) { sku } }')),
    Hostile("validateCart unknown channel", graphql_error("CHANNEL_NOT_FOUND"),
            raw('mutation { validateCart(channel: "mars", lines: [{sku: "SHIRT", quantity: 1}])'
                ' { ok } }')),
    Hostile("100k SKUs under the body limit", graphql_error("LIMIT_EXCEEDED", "Too many SKUs"),
            _under_the_body_limit(100_000), token=True),
    Hostile("100k SKUs without the token", refused(413, "LIMIT_EXCEEDED", "too large"),
            _under_the_body_limit(100_000)),
    Hostile("300k-line cart under the body limit, with the token",
            graphql_error("LIMIT_EXCEEDED", "Too many lines: 300000"), _cart(300_000),
            token=True),
    Hostile("300k-line cart without the token", refused(413, "LIMIT_EXCEEDED"),
            _cart(300_000)),
    Hostile("public body just over 256 KiB", refused(413, "LIMIT_EXCEEDED"),
            lambda: raw(AVAILABILITY, {"skus": ["S" * 60] * 4400})),
    Hostile("30 aliases x 500 SKUs with explain", graphql_error("COST_LIMIT_EXCEEDED", "cost"),
            _explain_aliases(30, 500)),
    Hostile("30 aliases x 500 SKUs with explain, with the token",
            graphql_error("COST_LIMIT_EXCEEDED", "cost"), _explain_aliases(30, 500),
            token=True),
    Hostile("two Authorization headers", refused(400, "UNAUTHENTICATED", "one Authorization"),
            raw("{ __typename }"), headers=(("authorization", f"Bearer {TOKEN}"),
                                            ("authorization", f"Bearer {TOKEN}"))),
    Hostile("two Authorization headers, one wrong", refused(400, "UNAUTHENTICATED"),
            raw(ORDER, {"id": "100001"}), headers=(("authorization", "Bearer wrong"),
                                                   ("authorization", f"Bearer {TOKEN}"))),
    # Invalid Unicode, anywhere in the body: refused before anything reads it.
    *[_surrogate_query(place) for place in SURROGATE_PLACES],
    *[_surrogate_query(place, token=True) for place in BACK_OFFICE_SURROGATE_PLACES],
    Hostile("UTF-8-encoded surrogate bytes", refused(400, "BAD_USER_INPUT", "UTF-8"),
            b'{"query": "{ availability(channel: \\"eu_website\\", skus: [\\"\xed\xa0\x80'
            b'\\"]) { sku } }"}'),
    Hostile("invalid UTF-8 byte", refused(400, "BAD_USER_INPUT", "UTF-8"),
            b'{"query": "{ __typename }", "variables": {"s": "\xff"}}'),
    Hostile("GraphQL escape of a lone surrogate", graphql_error(message="Invalid Unicode"),
            raw('{ availability(channel: "eu_website", skus: ["\\ud800"]) { sku } }')),
    # Control characters in identifiers: BAD_USER_INPUT naming the argument.
    *[Hostile(f"{name} in a SKU", graphql_error("BAD_USER_INPUT", "skus[1]"),
              raw(AVAILABILITY, {"skus": ["SHIRT", f"SHI{char}RT"]})) for name, char in CONTROL],
    *[Hostile(f"{name} in a channel", graphql_error("BAD_USER_INPUT", "channel"),
              raw("query($c: String!) { availability(channel: $c, skus: [\"SHIRT\"]) "
                  "{ sku } }", {"c": f"eu_website{char}"})) for name, char in CONTROL],
    Hostile("control character in a customer group", graphql_error("BAD_USER_INPUT"),
            raw('{ availability(channel: "eu_website", skus: ["SHIRT"], '
                'customerGroup: "whole\\u0000sale") { sku } }')),
    Hostile("control character in a cart line SKU", graphql_error("BAD_USER_INPUT", "lines[0].sku"),
            raw(VALIDATE, {"l": [{"sku": "SH\x00IRT", "quantity": 1}]})),
    *[Hostile(f"order id with {label}", graphql_error("BAD_USER_INPUT", "orderId"),
              raw(PLACE, {"id": order_id, "l": lines(1)}), token=True)
      for label, order_id in [("a tab", "100\t200"), ("a no-break space", "100\u00a0200"),
                              ("a zero-width space", "100\u200b200"),
                              ("a line separator", "100\u2028")]],
    Hostile("control character in a lowStock source", graphql_error("BAD_USER_INPUT", "source"),
            raw('{ lowStock(source: "eu-1\\n") { sku } }'), token=True),
    Hostile("control character in sourceSelection line", graphql_error("BAD_USER_INPUT"),
            raw('{ sourceSelection(channel: "eu_website", lines: [{sku: "SHIRT\\u0007", '
                "quantity: 1}]) { shippable } }"), token=True),
    Hostile("501 SKUs", graphql_error("LIMIT_EXCEEDED"), _skus(LIMITS.max_skus + 1)),
    Hostile("501 cart lines", graphql_error("LIMIT_EXCEEDED"),
            raw(VALIDATE, {"l": lines(1) * (LIMITS.max_cart_lines + 1)})),
    Hostile("body over 8 MiB", http_status(413, "too large"), _over_the_body_limit),
    Hostile("chunked body over 8 MiB", http_status(413, "too large"), _over_the_body_limit,
            chunked=True),
    Hostile("empty SKU", graphql_error("BAD_USER_INPUT"), raw(AVAILABILITY, {"skus": [""]})),
    Hostile("10k-char SKU", graphql_error("BAD_USER_INPUT"),
            raw(AVAILABILITY, {"skus": ["S" * 10_000]})),
    Hostile("validateCart 10k-char SKU", graphql_error("BAD_USER_INPUT"),
            raw(VALIDATE, {"l": [{"sku": "S" * 10_000, "quantity": 1}]})),
    Hostile("unknown enum value", graphql_error(message="FASTEST"),
            raw('{ sourceSelection(channel: "eu_website", lines: [{sku: "SHIRT", quantity: 1}],'
                ' algorithm: FASTEST) { shippable } }'), token=True),
    # Query shape limits.
    Hostile("alias bomb (50 aliases)", graphql_error(message="aliases"), raw(ALIAS_BOMB)),
    Hostile("query deeper than 10", graphql_error(message="exceeds maximum operation depth"),
            _deep_query(LIMITS.max_depth + 2)),
    Hostile("20k-token query", graphql_error(message="tokens"), raw(TOKEN_FLOOD)),
    Hostile("fragment cycle", graphql_error(message="fragment"),
            raw("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }")),
    # graphql-core's own refusals, with the codes Apollo Server gives them.
    Hostile("syntax error", graphql_error("GRAPHQL_PARSE_FAILED", "Syntax Error"),
            raw('{ availability(channel: "eu_website", skus: ["SHIRT"]) { sku }')),
    Hostile("unknown field", graphql_error("GRAPHQL_VALIDATION_FAILED", "Cannot query field"),
            raw('{ availability(channel: "eu_website", skus: ["SHIRT"]) { nope } }')),
    Hostile("literal of the wrong type", graphql_error("GRAPHQL_VALIDATION_FAILED"),
            raw('{ availability(channel: "eu_website", skus: [1]) { sku } }')),
    Hostile("variable of the wrong type", graphql_error("BAD_USER_INPUT", "has invalid value"),
            raw(AVAILABILITY, {"skus": 5})),
    Hostile("required variable missing", graphql_error("BAD_USER_INPUT", "'$skus'"),
            raw(AVAILABILITY)),
    Hostile("unknown operation name", refused(400, "BAD_REQUEST", "Nope"),
            b'{"query": "query A { __typename }", "operationName": "Nope"}'),
    Hostile("no query", refused(400, "BAD_REQUEST", "no graphql query"), b'{"variables": {}}'),
    *[Hostile(f"two operations, no operationName ({label})",
              graphql_error("BAD_REQUEST", "operation name"), raw(document))
      for label, document in [
          ("two queries", "query A { __typename } query B { __typename }"),
          ("a query, then a mutation", 'query A { __typename } mutation B { validateCart('
                                       'channel: "eu_website", lines: []) { ok } }')]],
    # Subscriptions are served over WebSocket only (Strawberry would run one as a query).
    *[Hostile(f"subscription over POST{label}", refused(400, "BAD_REQUEST", "WebSocket"),
              raw('subscription { availabilityChanged(channel: "eu_website", skus: ["SHIRT"])'
                  " { sku } }"), headers=headers)
      for label, headers in [
          ("", ()), (" asking for multipart",
                     (("accept", 'multipart/mixed;subscriptionSpec="1.0", application/json'),)),
          (" asking for an event stream", (("accept", "text/event-stream"),))]],
    # Transport.
    Hostile("malformed JSON body", refused(400, "BAD_REQUEST", "JSON"), b'{"query": '),
    Hostile("JSON array body (batch)", http_status(400),
            json.dumps([{"query": "{ __typename }"}, {"query": "{ __typename }"}]).encode()),
    *[Hostile(f"JSON body {label}", http_status(400), body) for label, body in [
        ("a string", b'"{ __typename }"'), ("null", b"null"), ("a number", b"1"),
        ("true", b"true")]],
    Hostile("JSON body nested 100k deep", http_status(400),
            b'{"query": "{ __typename }", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    Hostile("JSON body with a 5000-digit integer", http_status(400),
            b'{"query": "{ __typename }", "variables": {"n": 1' + b"0" * 5000 + b"}}"),
    Hostile("query is not a string", http_status(400), b'{"query": 1}'),
    Hostile("variables is a list", http_status(400),
            b'{"query": "{ __typename }", "variables": []}'),
    Hostile("GET with a mutation", http_status(400), method="GET", content_type=None,
            params={"query": 'mutation { validateCart(channel: "eu_website", '
                             'lines: [{sku: "SHIRT", quantity: 1}]) { ok } }'}),
    Hostile("GET with a query", http_status(400), method="GET", content_type=None,
            params={"query": "{ __typename }"}),
    Hostile("content-type text/plain", http_status(400),
            raw('{ availability(channel: "eu_website", skus: ["SHIRT"]) { sku } }'),
            content_type="text/plain"),
    Hostile("no content-type", http_status(400), raw("{ __typename }"), content_type=None),
    Hostile("PUT", http_status(405), raw("{ __typename }"), method="PUT"),
    # importCatalog with garbage: ok=false with paths, nothing written.
    *[Hostile(f"importCatalog {label}", import_refused("$"), raw(IMPORT, {"d": doc}),
              token=True) for label, doc in [
        ("array", [1, 2]), ("string", "catalog"), ("number", 5), ("boolean", True)]],
    Hostile("importCatalog deeply nested config", import_refused("$.products[0].config.a"),
            raw_text(IMPORT, '{"d": {"format": "availability-catalog/1", "products": '
                             '[{"sku": "NEW", "name": "n", "config": ' + _nested(500) + "}]}}"),
            token=True),
    Hostile("importCatalog nested 100k deep",
            http_status(400),
            raw_text(IMPORT, '{"d": {"format": "availability-catalog/1", "products": %s}}'
                     % ("[" * 100_000 + "]" * 100_000)),
            token=True),
    Hostile("importCatalog huge numbers",
            import_refused("$.source_items[0].quantity", "$.config.min_qty",
                           "$.products[0].config.max_sale_qty"),
            raw(IMPORT, {"d": {
                "format": "availability-catalog/1", "config": {"min_qty": -1e300},
                "products": [{"sku": "NEW", "name": "n", "config": {"max_sale_qty": 1e308}}],
                "source_items": [{"sku": "SHIRT", "source": "eu-1", "quantity": 1e300,
                                  "status": "in_stock"}]}}), token=True),
    Hostile("importCatalog non-finite numbers",
            import_refused("$.config.min_qty", "$.source_items[0].quantity"),
            raw_text(IMPORT, '{"d": {"format": "availability-catalog/1", "config": '
                             '{"min_qty": NaN}, "source_items": [{"sku": "SHIRT", "source": '
                             '"eu-1", "quantity": 1e400, "status": "in_stock"}]}}'),
            token=True),
    Hostile("importCatalog 5000-digit integer quantity", http_status(400),
            raw_text(IMPORT, '{"d": {"format": "availability-catalog/1", "source_items": '
                             '[{"sku": "SHIRT", "source": "eu-1", "quantity": 1%s, '
                             '"status": "in_stock"}]}}' % ("0" * 5000)),
            token=True),
    Hostile("importCatalog wrong types everywhere",
            import_refused("$.products[0].name", "$.sources"),
            raw(IMPORT, {"d": {"format": "availability-catalog/1", "sources": {"eu-1": 1},
                               "products": [{"sku": "NEW", "name": {"a": [[[]]]}}]}}),
            token=True),
    Hostile("importCatalog one bad entry among good ones", import_refused("$.products[1].sku"),
            raw(IMPORT, {"d": {"format": "availability-catalog/1", "products": [
                {"sku": "NEW-1", "name": "fine"}, {"sku": "", "name": "bad"}]}}),
            token=True),
]


def _ids() -> list[str]:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return ids


async def assert_still_serving(api: Api) -> None:
    body = await api.gql(AVAILABILITY, {"skus": ["SHIRT", "NOPE"]})
    assert body == {"data": {"availability": [
        {"sku": "SHIRT", "salableQty": 7, "isSalable": True}, None]},
        "extensions": {"cost": {"requested": 2, "limit": LIMITS.max_cost}}}


@pytest.mark.parametrize("case", CASES, ids=_ids())
async def test_hostile_request_is_refused_cleanly(api: Api, case: Hostile) -> None:
    before = await api.services.catalog.export_document()

    response = await send(api, case)

    assert response.status_code < 500, (response.status_code, response.text[:500])
    for marker in TRACEBACK_MARKERS:
        assert marker not in response.text, response.text[:2000]
    case.expect(response)
    assert_every_error_has_a_code(response)

    await assert_still_serving(api)
    assert await api.services.catalog.export_document() == before
    if case.order_id is not None:
        data = await api.data(ORDER, {"id": case.order_id}, token=TOKEN)
        assert data["order"] is None, data


async def test_the_table_covers_the_brief() -> None:
    """A guard against the table silently shrinking."""
    assert len(CASES) >= 80


# --- unexpected exceptions ----------------------------------------------------------------------

MARKER_GROUP = "hostile-query-marker"
UNEXPECTED = [
    ("availability", "availability",
     "query($g: String) { availability(channel: \"eu_website\", skus: [\"SHIRT\"], "
     "customerGroup: $g) { sku } }"),
    ("validate_cart", "validateCart",
     "mutation($g: String) { validateCart(channel: \"eu_website\", customerGroup: $g, "
     "lines: [{sku: \"SHIRT\", quantity: 1}]) { ok } }"),
]


@pytest.mark.parametrize(("method", "field_name", "query"), UNEXPECTED,
                         ids=[u[0] for u in UNEXPECTED])
async def test_unexpected_exception_is_masked_and_logged_once(
        api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        method: str, field_name: str, query: str) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(api.services.storefront, method, broken)
    caplog.set_level(logging.DEBUG)
    response = await api.client.post("/graphql", json={"query": query,
                                                       "variables": {"g": MARKER_GROUP}})

    assert response.status_code == 200, response.text
    assert "secret detail" not in response.text and "RuntimeError" not in response.text
    for marker in TRACEBACK_MARKERS:
        assert marker not in response.text
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_ERROR"
    request_id = error["extensions"]["requestId"]
    assert isinstance(request_id, str) and len(request_id) >= 8
    assert error["path"] == [field_name]

    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1, [record.getMessage() for record in errors]
    logged = caplog.handler.format(errors[0])
    assert logged.count(request_id) == 1, logged
    assert "secret detail" in logged  # the operator sees the cause ...
    assert query not in logged and MARKER_GROUP not in logged  # ... never the request text
    assert query not in caplog.text and MARKER_GROUP not in caplog.text

    monkeypatch.undo()
    await assert_still_serving(api)


async def test_each_unexpected_error_gets_its_own_request_id(
        api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(api.services.storefront, "availability", broken)
    caplog.set_level(logging.ERROR)
    ids = set()
    for _ in range(3):
        body = await api.gql('{ availability(channel: "eu_website", skus: ["SHIRT"]) { sku } }')
        ids.add(body["errors"][0]["extensions"]["requestId"])
    assert len(ids) == 3
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 3
