"""End to end: the real `gateway` command, a real uvicorn process, real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import GATEWAY, ROOT, free_port, import_catalog, running_server
from tests.support import SHOP


def run(*args: str, env: dict[str, str] | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GATEWAY, *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env=env, input=stdin, check=False)


@pytest.fixture
def shop_db(tmp_path: Path) -> Path:
    return import_catalog(tmp_path, SHOP)


@pytest.fixture
def server(shop_db: Path) -> Iterator[str]:
    with running_server(shop_db, token="e2e-token") as running:
        yield running.base


def gql(base: str, query: str, variables: dict[str, Any] | None = None,
        token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables or {}},
                          headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_served_availability_and_cart(server: str) -> None:
    body = gql(server, "{ availability(channel: \"eu_website\", skus: [\"SHIRT\", \"NOPE\"]) "
                       "{ sku salableQty isSalable stockStatus } }")
    assert body["data"]["availability"] == [
        {"sku": "SHIRT", "salableQty": 7, "isSalable": True, "stockStatus": "IN_STOCK"}, None]
    body = gql(server, "mutation { validateCart(channel: \"eu_website\", lines: "
                       "[{sku: \"SHIRT\", quantity: 8}]) { ok lines { errors { code } } } }")
    assert body["data"]["validateCart"] == {
        "ok": False, "lines": [{"errors": [{"code": "INSUFFICIENT_STOCK"}]}]}
    health = httpx.get(f"{server}/healthz", timeout=5).json()
    assert health["status"] == "ok"
    page = httpx.get(f"{server}/graphql", headers={"Accept": "text/html"}, timeout=5)
    assert page.status_code == 200 and "graphiql" in page.text.lower()


def test_served_back_office_needs_token(server: str) -> None:
    query = "mutation($d: JSON!) { importCatalog(document: $d, replace: true) { ok } }"
    body = gql(server, query, {"d": {"format": "availability-catalog/1"}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = gql(server, query, {"d": {"format": "bad"}}, token="e2e-token")
    assert body["data"]["importCatalog"]["ok"] is False


def test_cli_export_schema_and_explain(shop_db: Path) -> None:
    exported = run("export", "--db", str(shop_db))
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert document["format"] == "availability-catalog/1"
    assert {p["sku"] for p in document["products"]} == {p["sku"] for p in SHOP["products"]}
    schema = run("schema")
    assert schema.stdout == (ROOT / "schema.graphql").read_text()
    explained = run("explain", "SHIRT", "--channel", "eu_website", "--db", str(shop_db))
    assert explained.returncode == 0, explained.stderr
    assert "stock_threshold_qty" in explained.stdout and "STOCK" in explained.stdout
    assert "salable qty 7" in explained.stdout
    unknown = run("explain", "SHIRT", "--channel", "mars", "--db", str(shop_db))
    assert unknown.returncode == 2 and "mars" in unknown.stderr


def test_cli_import_of_a_broken_file_says_what_is_wrong(tmp_path: Path, shop_db: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "availability-catalog/1", "products": [{"sku": ""}]')
    result = run("import", str(broken), "--db", str(shop_db))
    assert result.returncode == 2 and "error" in result.stderr.lower()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "availability-catalog/1",
                               "products": [{"sku": "A", "config": {"min_qty": "x"}}]}))
    result = run("import", str(bad), "--db", str(shop_db))
    assert result.returncode == 2 and "$.products[0].config.min_qty" in result.stderr


def test_demo_catalog_exports_to_the_same_content(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite3"
    demo = ROOT / "data" / "demo-catalog.json"
    assert run("import", str(demo), "--db", str(db), "--quiet").returncode == 0
    exported = run("export", "--db", str(db))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == demo.read_text()


@pytest.mark.parametrize("variable", ["GATEWAY_MAX_SKUS=0", "GATEWAY_COMPACT_INTERVAL=soon",
                                      "GATEWAY_SQLITE_SYNCHRONOUS=OFF"])
def test_serve_refuses_a_bad_setting_with_a_clear_message(tmp_path: Path, variable: str) -> None:
    name, value = variable.split("=")
    result = run("serve", "--db", str(tmp_path / "x.sqlite3"), "--port", str(free_port()),
                 env={**os.environ, name: value})
    assert result.returncode == 2
    assert name in result.stderr and "expected" in result.stderr
