"""Rough edges a newcomer hit: production /graphql in a browser, explain in 80 columns, the
import summary, placeOrder's error, INVALID_QUANTITY's reason, query-limit codes."""

from __future__ import annotations

import io
import json
import logging
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from gateway.catalog import parse_catalog
from gateway.domain.availability import Availability
from gateway.explain import WIDE, render_explain
from tests.servers import GATEWAY, ROOT
from tests.support import SHOP, TOKEN, Api

# --- production mode ----------------------------------------------------------------------

async def test_production_graphql_in_a_browser_says_what_to_do(
        make_api: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gateway")
    async with make_api(env="production") as api:
        page = await api.client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 405 and page.headers["allow"] == "POST"
        message = page.json()["error"]
        assert "GraphiQL is off in production" in message and "POST /graphql" in message
        await api.load(SHOP)  # POST still works
    started = [r.getMessage() for r in caplog.records if "production mode" in r.getMessage()]
    assert started and "GraphiQL" in started[0] and "introspection" in started[0]


async def test_development_mode_does_not_announce_production(
        make_api: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gateway")
    async with make_api() as api:
        page = await api.client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
    assert not [r for r in caplog.records if "production mode" in r.getMessage()]


# --- explain in 80 columns ----------------------------------------------------------------

async def explained(api: Api, sku: str, width: int) -> str:
    (found,) = await api.services.storefront.availability("eu_website", [sku], None,
                                                          provenance=True)
    assert isinstance(found, Availability)
    out = io.StringIO()
    render_explain(found, "eu_website", Console(file=out, width=width, color_system=None))
    return out.getvalue()


@pytest.mark.parametrize("sku", ["SHIRT", "PACK", "BACKORDER"])
async def test_explain_fits_80_columns(api: Api, sku: str) -> None:
    text = await explained(api, sku, 80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    (found,) = await api.services.storefront.availability("eu_website", [sku], None,
                                                          provenance=True)
    assert found is not None
    for setting in found.settings:
        # Each option on one line with its value and level, never broken in the middle.
        rows = [line for line in lines
                if line.split()[:3] == [setting.name, setting.display, setting.level.value]]
        assert len(rows) == 1, (setting.name, text)
    words = " ".join(text.split())
    for note in (s.note for s in found.settings if s.note):
        assert all(word in words for word in note.split())  # wrapped, not cut
    assert "overrides column needs" in text


async def test_explain_shows_every_column_when_wide(api: Api) -> None:
    text = await explained(api, "SHIRT", WIDE)
    assert max(len(line) for line in text.splitlines()) <= WIDE
    header = next(line for line in text.splitlines() if line.split()[:1] == ["option"])
    assert header.split() == ["option", "value", "level", "overrides", "note"]
    stock_row = next(line for line in text.splitlines() if "stock_threshold_qty" in line)
    assert stock_row.split()[:4] == ["stock_threshold_qty", "5", "STOCK", "DEFAULT"]


# --- import summary -----------------------------------------------------------------------

def test_import_summary_counts_products_created_from_source_items(tmp_path: Path) -> None:
    document = {**SHOP, "source_items": [
        *SHOP["source_items"],
        {"sku": "FEED-ONLY-1", "source": "eu-1", "quantity": 4},
        {"sku": "FEED-ONLY-2", "source": "eu-2", "quantity": 1},
        {"sku": "FEED-ONLY-2", "source": "eu-1", "quantity": 2}]}
    # Count independently: every SKU the file defines or stocks becomes a product.
    skus = {p["sku"] for p in document["products"]} | \
        {i["sku"] for i in document["source_items"]}
    implicit = len(skus) - len(document["products"])
    assert implicit == 2
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(document))
    result = subprocess.run([*GATEWAY, "import", str(path), "--db", str(tmp_path / "d.db")],
                            capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    assert f"{len(skus)} products ({implicit} created from source items)" in result.stdout
    assert f"{len(document['source_items'])} source items" in result.stdout
    assert f"{len(document['sources'])} sources" in result.stdout
    exported = subprocess.run([*GATEWAY, "export", "--db", str(tmp_path / "d.db")],
                              capture_output=True, text=True, timeout=120, cwd=ROOT,
                              check=False)
    assert len(json.loads(exported.stdout)["products"]) == len(skus)  # what the store holds


def test_import_summary_without_implicit_products() -> None:
    from gateway.cli import import_summary

    catalog, problems = parse_catalog(SHOP)
    assert catalog is not None, problems
    summary = import_summary(catalog, SHOP)
    assert f"{len(SHOP['products'])} products," in summary and "created from" not in summary
    assert "1 reservation" in summary and "reservations" not in summary


# --- placeOrder refused on a line ---------------------------------------------------------

PLACE = ("mutation($lines: [CartLineInput!]!) { placeOrder(orderId: \"42\", "
         "channel: \"eu_website\", lines: $lines) { ok status error { code message path } "
         "lines { sku ok errors { code } } } }")


async def test_place_order_refused_on_a_line_has_an_error(api: Api) -> None:
    lines = [{"sku": "PACK", "quantity": 6}, {"sku": "SHIRT", "quantity": 1000},
             {"sku": "PACK", "quantity": -1}]
    result = (await api.data(PLACE, {"lines": lines}, token=TOKEN))["placeOrder"]
    assert result["ok"] is False and result["status"].upper() == "REJECTED"
    error = result["error"]
    assert error["code"] == "LINES_REFUSED" and error["path"] == "lines[1]"
    assert "2 of 3 lines were refused" in error["message"] and "SHIRT" in error["message"]
    assert [line["ok"] for line in result["lines"]] == [True, False, False]


async def test_a_placed_order_has_no_error(api: Api) -> None:
    result = (await api.data(PLACE, {"lines": [{"sku": "PACK", "quantity": 6}]},
                             token=TOKEN))["placeOrder"]
    assert result["ok"] is True and result["error"] is None


# --- INVALID_QUANTITY says why ------------------------------------------------------------

@pytest.mark.parametrize(("quantity", "reason"), [
    (-1, "is negative"),
    (0, "is zero: it must be greater than 0"),
    (1.00001, "has more than 4 decimal places"),
    (1e12, "is too large (at most 99999999.9999)"),
])
async def test_invalid_quantity_says_why(api: Api, quantity: float, reason: str) -> None:
    data = await api.data("mutation($q: Float!) { validateCart(channel: \"eu_website\", "
                          "lines: [{sku: \"SHIRT\", quantity: $q}]) "
                          "{ lines { errors { code message } } } }", {"q": quantity})
    (error,) = data["validateCart"]["lines"][0]["errors"]
    assert error["code"] == "INVALID_QUANTITY"
    assert error["message"] == f"Enter a valid quantity. The quantity {reason}."


@pytest.mark.parametrize(("quantity", "reason"), [
    ("abc", "is not a number"), (None, "is not a number"), (float("nan"), "is not a finite"),
])
def test_invalid_quantity_reason_for_values_graphql_cannot_send(quantity: object,
                                                                 reason: str) -> None:
    from gateway.domain.cart import RequestedLine, check_cart

    (result,) = check_cart([RequestedLine("X", quantity)], {"X": None})
    assert result.errors[0].message.startswith(f"Enter a valid quantity. The quantity {reason}")


# --- query limits answer LIMIT_EXCEEDED ---------------------------------------------------

@pytest.mark.parametrize("query", [
    "{ " + " ".join(f'a{i}: availability(channel: "eu_website", skus: ["SHIRT"]) {{ sku }}'
                    for i in range(31)) + " }",
    "{ __typename " + "a: __typename " * 2600 + "}",
], ids=["aliases", "tokens"])
async def test_query_limits_answer_limit_exceeded(api: Api, query: str) -> None:
    body = await api.gql(query, token=TOKEN)
    assert body.get("data") is None
    codes = {error.get("extensions", {}).get("code") for error in body["errors"]}
    assert codes == {"LIMIT_EXCEEDED"}, body["errors"]


async def test_depth_limit_answers_limit_exceeded(api: Api) -> None:
    # No type of this schema nests 11 deep: the depth error comes with field errors.
    query = "{ inventoryConfig " + "{ a " * 11 + "}" * 11 + " }"
    body = await api.gql(query, token=TOKEN)
    (depth,) = [e for e in body["errors"] if "maximum operation depth" in e["message"]]
    assert depth["extensions"]["code"] == "LIMIT_EXCEEDED"
