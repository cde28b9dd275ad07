"""The request limits of a real ``gateway serve``: query cost, body limits by credential, list
lengths before coercion, one Authorization header, the token checked at startup."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.domain.options import OPTIONS
from tests.servers import GATEWAY, ROOT, Server, free_port, import_catalog, running_server
from tests.support import SHOP

TOKEN = "edge-token"
AVAILABILITY = ("query($skus: [String!]!) { availability(channel: \"eu_website\", skus: $skus) "
                "{ sku salableQty quantityRule { minimum } } }")
VALIDATE = ("mutation($l: [CartLineInput!]!) { validateCart(channel: \"eu_website\", lines: $l) "
            "{ ok } }")
EXPLAIN_BOMB = "query($skus: [String!]!) { " + " ".join(
    f'a{i}: availability(channel: "eu_website", skus: $skus) '
    "{ sku explain { name value level sourceCode overrides note } }" for i in range(30)) + " }"
SKUS_500 = [f"SKU-{i:05d}" for i in range(500)]


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return import_catalog(tmp_path_factory.mktemp("edge"), SHOP)


@pytest.fixture(scope="module")
def server(shop_db: Path) -> Iterator[Server]:
    with running_server(shop_db, token=TOKEN) as running:
        yield running


def post(server: Server, body: bytes | dict[str, Any], token: bool = False,
         headers: list[tuple[str, str]] | None = None) -> httpx.Response:
    sent = list(headers or [])
    sent.append(("content-type", "application/json"))
    if token:
        sent.append(("authorization", f"Bearer {TOKEN}"))
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{server.base}/graphql", content=content, headers=sent, timeout=60)


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


def test_answers_carry_their_cost_and_the_bomb_is_refused(server: Server) -> None:
    page = post(server, {"query": AVAILABILITY, "variables": {"skus": SKUS_500}})
    assert page.status_code == 200 and "errors" not in page.json(), page.text[:300]
    assert page.json()["extensions"]["cost"] == {"requested": 1000, "limit": 2000}
    bomb = post(server, {"query": EXPLAIN_BOMB, "variables": {"skus": SKUS_500}})
    assert bomb.status_code == 200 and bomb.json()["data"] is None
    assert error_code(bomb) == "COST_LIMIT_EXCEEDED"
    requested = 30 * 500 * (1 + len(OPTIONS))
    assert bomb.json()["extensions"]["cost"] == {"requested": requested, "limit": 2000}
    assert len(bomb.content) < 1000  # refused, not answered with 20 MB
    with_token = post(server, {"query": EXPLAIN_BOMB, "variables": {"skus": SKUS_500}},
                      token=True)
    assert error_code(with_token) == "COST_LIMIT_EXCEEDED"
    assert with_token.json()["extensions"]["cost"] == {"requested": requested,
                                                       "limit": 50_000}


def test_an_8_mib_cart_is_refused_by_its_size_or_its_length(server: Server) -> None:
    body = json.dumps({"query": VALIDATE, "variables": {"l": [{"sku": "S", "quantity": 1}]
                                                        * 335_000}},
                      separators=(",", ":")).encode()
    assert 8_000_000 < len(body) < 8 * 1024 * 1024
    public = post(server, body)
    assert public.status_code == 413 and error_code(public) == "LIMIT_EXCEEDED"
    assert "262144" in public.json()["errors"][0]["message"]
    back_office = post(server, body, token=True)
    assert back_office.status_code == 200 and error_code(back_office) == "LIMIT_EXCEEDED"
    assert "335000" in back_office.json()["errors"][0]["message"]


def test_the_public_body_limit_is_smaller(server: Server) -> None:
    body = json.dumps({"query": AVAILABILITY, "variables": {"skus": ["S" * 60] * 5000}})
    assert 256 * 1024 < len(body) < 8 * 1024 * 1024
    assert post(server, body.encode()).status_code == 413
    with_token = post(server, body.encode(), token=True)
    assert with_token.status_code == 200 and error_code(with_token) == "LIMIT_EXCEEDED"
    wrong_token = post(server, body.encode(), headers=[("authorization", "Bearer nope")])
    assert wrong_token.status_code == 413


@pytest.mark.parametrize("authorizations", [
    [f"Bearer {TOKEN}", f"Bearer {TOKEN}"], ["Bearer nope", f"Bearer {TOKEN}"],
    [f"Bearer {TOKEN}", "Bearer nope"], ["", f"Bearer {TOKEN}"]])
def test_two_authorization_headers_are_refused(server: Server, authorizations: list[str]) -> None:
    response = post(server, {"query": "{ inventoryConfig { settings { name } } }"},
                    headers=[("authorization", a) for a in authorizations])
    assert response.status_code == 400, response.text
    assert error_code(response) == "UNAUTHENTICATED"
    assert "one Authorization header" in response.json()["errors"][0]["message"]


def test_limits_come_from_the_environment(shop_db: Path) -> None:
    env = {"GATEWAY_MAX_COST": "3", "GATEWAY_MAX_PUBLIC_BODY_BYTES": "1000"}
    with running_server(shop_db, token=TOKEN, env=env) as server:
        small = post(server, {"query": AVAILABILITY, "variables": {"skus": ["A"]}})
        assert small.json()["extensions"]["cost"] == {"requested": 2, "limit": 3}
        large = post(server, {"query": AVAILABILITY, "variables": {"skus": ["A", "B"]}})
        assert error_code(large) == "COST_LIMIT_EXCEEDED"
        over = post(server, {"query": AVAILABILITY, "variables": {"skus": ["A" * 1000]}})
        assert over.status_code == 413


@pytest.mark.parametrize("token", [" secret", "secret\n", "\tsecret "])
def test_a_token_with_surrounding_whitespace_is_refused_at_startup(tmp_path: Path,
                                                                   token: str) -> None:
    env = {**os.environ, "GATEWAY_ADMIN_TOKEN": token}
    result = subprocess.run([*GATEWAY, "serve", "--db", str(tmp_path / "db.sqlite3"),
                             "--port", str(free_port())], capture_output=True, text=True,
                            timeout=60, cwd=ROOT, env=env, check=False)
    assert result.returncode == 2, result.stderr
    assert "GATEWAY_ADMIN_TOKEN" in result.stderr and "whitespace" in result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.stderr
