"""End to end through a real router: Hive Gateway serving the composed supergraph.

A client asks the router for products with their name (catalog subgraph) and their
availability (a real ``gateway serve``); the router plans the query, calls the catalog, then
the gateway's ``_entities`` with the products' keys. Everything runs on this machine:
``@graphql-hive/gateway`` comes from the lock file in ``tests/federation/node``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.federation.test_composition import NODE_DIR, compose, node_packages
from tests.servers import ROOT, free_port, import_catalog, running_server
from tests.support import SHOP

ROUTER = NODE_DIR / "node_modules" / ".bin" / "hive-gateway"
QUERY = """{
  products { sku name availability(channel: "eu_website") { salableQty isSalable } }
  product(sku: "PACK") {
    name
    availability(channel: "eu_website", customerGroup: "wholesale") {
      quantityRule { minimum increment }
    }
  }
}"""


@contextlib.contextmanager
def process(command: list[str], log: Path, url: str) -> Iterator[None]:
    """Run ``command`` in its own session until ``url`` answers a GraphQL POST."""
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env={**os.environ, "NO_COLOR": "1"})
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            with contextlib.suppress(httpx.TransportError):
                if httpx.post(url, json={"query": "{ __typename }"}, timeout=2).is_success:
                    break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def sdl(url: str) -> str:
    body = httpx.post(url, json={"query": "{ _service { sdl } }"}, timeout=10).json()
    text: str = body["data"]["_service"]["sdl"]
    return text


def test_a_router_joins_catalog_names_and_gateway_availability(tmp_path: Path) -> None:
    node_packages()  # skips without node
    if not ROUTER.exists():
        pytest.fail(f"run `npm ci` in {NODE_DIR} first (.ci/run does)")
    catalog_url = f"http://127.0.0.1:{free_port()}/graphql"
    router_port = free_port()
    router_url = f"http://127.0.0.1:{router_port}/graphql"
    catalog_port = catalog_url.split(":")[2].split("/")[0]
    with running_server(import_catalog(tmp_path, SHOP)) as gateway, \
            process([sys.executable, "-m", "uvicorn", "tests.federation.catalog_subgraph:app",
                     "--port", catalog_port, "--log-level", "warning"],
                    tmp_path / "catalog.log", catalog_url):
        gateway_url = f"{gateway.base}/graphql"
        composed = compose([{"name": "inventory", "url": gateway_url, "sdl": sdl(gateway_url)},
                            {"name": "catalog", "url": catalog_url, "sdl": sdl(catalog_url)}])
        assert "errors" not in composed, composed["errors"]
        supergraph = tmp_path / "supergraph.graphql"
        supergraph.write_text(composed["supergraphSdl"])
        with process([str(ROUTER), "supergraph", str(supergraph), "--host", "127.0.0.1",
                      "--port", str(router_port)], tmp_path / "router.log", router_url):
            response = httpx.post(router_url, json={"query": QUERY}, timeout=30)
    body: dict[str, Any] = response.json()
    assert "errors" not in body, json.dumps(body)
    assert body["data"] == {
        "products": [
            {"sku": "SHIRT", "name": "Shirt", "availability": {"salableQty": 7, "isSalable": True}},
            {"sku": "PACK", "name": "Pack of 6",
             "availability": {"salableQty": 60, "isSalable": True}},
            {"sku": "NOPE", "name": "Not stocked here", "availability": None}],
        "product": {"name": "Pack of 6",
                    "availability": {"quantityRule": {"minimum": 10, "increment": 6}}}}
