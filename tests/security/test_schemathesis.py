"""Schemathesis against a real `gateway serve`: generated operations never get a 5xx.

Every operation of ``schema.graphql`` is fuzzed (a bounded number of examples each) and each
generated request is sent twice: anonymously and with the back-office token. The checks:

- schemathesis' ``not_a_server_error`` on the HTTP status (never a 5xx);
- a GraphQL-aware version of its body heuristic: schemathesis counts any error carrying a
  ``path`` as a server error, but this API refuses on purpose with coded errors at a path
  (CHANNEL_NOT_FOUND, UNAUTHENTICATED, LIMIT_EXCEEDED, ...). So: no INTERNAL_ERROR, every error
  at a path carries an ``extensions.code``, and no traceback text in the body.

Afterwards the server still answers /healthz and a normal availability query.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import graphql
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.graphql import nodes

from tests.servers import ROOT, import_catalog, running_server
from tests.support import SHOP

TOKEN = "schemathesis-token"
EXAMPLES = 40  # per operation; 22 operations x 2 requests each: about 15 s

AVAILABILITY = ('{ availability(channel: "eu_website", skus: ["SHIRT", "NOPE"]) '
                "{ sku salableQty isSalable } }")
TRACEBACK_MARKERS = ("Traceback (most recent call last)", ".py\", line ")


# --- the JSON scalar: JSON-like GraphQL literals, biased towards catalog-looking documents -----

def _object(pairs: dict[str, Any]) -> Any:
    return nodes.Object([graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=value)
                         for key, value in pairs.items()])


_KEYS = st.one_of(
    st.sampled_from(["format", "config", "sources", "stocks", "products", "source_items",
                     "reservations", "sku", "code", "name", "quantity", "status", "id",
                     "channels", "priority", "min_qty", "max_sale_qty", "backorders",
                     "manage_stock", "qty_increments", "metadata"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True))
_LEAVES = st.one_of(
    st.text(max_size=12).map(nodes.String),
    st.sampled_from(["availability-catalog/1", "in_stock", "eu-1", "SHIRT", "no", "allow"])
    .map(nodes.String),
    st.integers(min_value=-(10**12), max_value=10**12).map(nodes.Int),
    st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
    st.booleans().map(nodes.Boolean),
    st.just(nodes.Null))
JSON_VALUES = st.recursive(
    _LEAVES,
    lambda children: st.one_of(st.lists(children, max_size=3).map(nodes.List),
                               st.dictionaries(_KEYS, children, max_size=4).map(_object)),
    max_leaves=12)
schemathesis.graphql.scalar("JSON", JSON_VALUES)

# The committed SDL uses federation directives it does not declare (@link, @key): load it through
# introspection. (Schemathesis leaves out the _entities and _service fields, as it does every
# field starting with _; tests/federation fuzzes _entities.)
schema = schemathesis.graphql.from_dict(graphql.introspection_from_schema(
    graphql.build_schema((ROOT / "schema.graphql").read_text(), assume_valid_sdl=True)))


# --- the server ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("schemathesis")
    db = import_catalog(directory, SHOP)
    # Development mode (introspection and suggestions on): the fuzzer's best case.
    with running_server(db, token=TOKEN, log=directory / "server.log") as running:
        yield running.base
        # The log must not hold a traceback caused by the fuzzing (a masked INTERNAL_ERROR
        # would be logged with one; the checks below already fail on those).
        assert "Traceback" not in running.logs(), running.logs()[-5000:]


# --- checks -------------------------------------------------------------------------------------

def clean_graphql_answer(ctx: Any, response: Any, case: Any) -> None:
    """No traceback text; a JSON object; no INTERNAL_ERROR; errors at a path carry a code."""
    text = response.content.decode("utf-8", "replace")
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, text[:2000]
    if response.status_code != 200:
        assert 400 <= response.status_code < 500, (response.status_code, text[:500])
        return
    body = json.loads(text)
    assert isinstance(body, dict) and ("data" in body or "errors" in body), text[:500]
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL_ERROR", error
        if "path" in error:  # a resolver ran: a deliberate refusal says which one it is
            assert isinstance(code, str) and code, error


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_generated_operations_never_get_a_server_error(server: str, case: Any) -> None:
    for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
        response = case.call(base_url=server, headers=headers, timeout=30)
        if response.status_code >= 500:  # reported the schemathesis way (with a curl line)
            case.validate_response(response, checks=[not_a_server_error], headers=headers)
        clean_graphql_answer(None, response, case)


def test_server_still_answers_after_the_fuzzing(server: str) -> None:
    assert httpx.get(f"{server}/healthz", timeout=5).json()["status"] == "ok"
    response = httpx.post(f"{server}/graphql", json={"query": AVAILABILITY}, timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    # The token was fuzzed too: the shop may have been edited, never broken.
    assert "errors" not in body or body["errors"][0]["extensions"]["code"] == \
        "CHANNEL_NOT_FOUND", body
    # A reload with the token restores the shop and the exact answer.
    reload = httpx.post(f"{server}/graphql", headers={"Authorization": f"Bearer {TOKEN}"},
                        json={"query": "mutation($d: JSON!) { importCatalog(document: $d, "
                                       "replace: true) { ok errors { path message } } }",
                              "variables": {"d": SHOP}}, timeout=30)
    assert reload.json()["data"] == {"importCatalog": {"ok": True, "errors": []}}
    body = httpx.post(f"{server}/graphql", json={"query": AVAILABILITY}, timeout=10).json()
    assert body["data"] == {"availability": [
        {"sku": "SHIRT", "salableQty": 7, "isSalable": True}, None]}
