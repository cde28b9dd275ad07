"""Composition, offline: a real server's ``_service { sdl }`` joins a catalog subgraph.

``@apollo/composition`` (the library ``rover supergraph compose`` runs) is installed from the
committed lock file in ``tests/federation/node`` (``npm ci`` there; ``.ci/run`` does it). The
test skips only when ``node`` itself is absent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest

from tests.servers import Server, import_catalog, running_server
from tests.support import SHOP

NODE_DIR = Path(__file__).parent / "node"

#: A small catalog subgraph: it owns Product (and its name), and has its own root fields,
#: including a product(sku) like most catalogs.
CATALOG_SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

type Product @key(fields: "sku") {
  sku: String!
  name: String!
}

type Query {
  product(sku: String!): Product
  products(first: Int = 20): [Product!]!
}
"""


def node_packages() -> str:
    """The ``node`` executable, once the packages are installed; skips without node."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (NODE_DIR / "node_modules" / "@apollo" / "composition").is_dir():
        pytest.fail(f"run `npm ci` in {NODE_DIR} first (.ci/run does)")
    return node


def compose(subgraphs: list[dict[str, str]]) -> dict[str, Any]:
    node = node_packages()
    result = subprocess.run([node, str(NODE_DIR / "compose.mjs")], input=json.dumps(subgraphs),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("federation")
    with running_server(import_catalog(directory, SHOP)) as running:
        yield running


def post(server: Server, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = httpx.post(f"{server.base}/graphql", timeout=10,
                          json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_the_served_sdl_composes_with_a_catalog_subgraph(server: Server) -> None:
    sdl = post(server, "{ _service { sdl } }")["_service"]["sdl"]
    composed = compose([{"name": "inventory", "url": f"{server.base}/graphql", "sdl": sdl},
                        {"name": "catalog", "url": "http://catalog.invalid/graphql",
                         "sdl": CATALOG_SDL}])
    assert "errors" not in composed, composed["errors"]
    api = graphql.build_schema(composed["apiSchema"])
    product = api.get_type("Product")
    assert isinstance(product, graphql.GraphQLObjectType)
    assert {"sku", "name", "availability"} <= set(product.fields)
    assert str(product.fields["availability"].type) == "ProductAvailability"
    assert api.query_type is not None and api.mutation_type is not None
    assert {"product", "products", "availability"} <= set(api.query_type.fields)
    assert "validateCart" in api.mutation_type.fields
    supergraph = composed["supergraphSdl"]
    assert "@join__graph(name: \"inventory\"" in supergraph
    assert "@join__graph(name: \"catalog\"" in supergraph


def test_composition_reports_a_conflict(server: Server) -> None:
    """The check can fail: a catalog that types Product.sku differently does not compose."""
    sdl = post(server, "{ _service { sdl } }")["_service"]["sdl"]
    clashing = CATALOG_SDL.replace("sku: String!\n  name", "sku: Int!\n  name")
    composed = compose([{"name": "inventory", "url": "http://inventory.invalid", "sdl": sdl},
                        {"name": "catalog", "url": "http://catalog.invalid", "sdl": clashing}])
    assert composed.get("errors"), composed


def test_entities_answer_over_a_real_server(server: Server) -> None:
    """What a router sends after the catalog answered: the products' keys."""
    data = post(server, 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Product '
                        '{ sku availability(channel: "eu_website") { salableQty isSalable } } } }',
                {"r": [{"__typename": "Product", "sku": "SHIRT"},
                       {"__typename": "Product", "sku": "UNKNOWN"}]})
    assert data == {"_entities": [
        {"sku": "SHIRT", "availability": {"salableQty": 7.0, "isSalable": True}},
        {"sku": "UNKNOWN", "availability": None}]}
